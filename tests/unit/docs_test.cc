// docs/architecture.md walks a PUBLISH through named functions. This test
// keeps that walk true: every "`file` `function`" step names a file that
// exists and defines that function, and every other function the walk names
// in backquotes (`Part::method`, `snake_case`) exists in the sources.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
const fs::path kRoot = TEARLINE_SOURCE_DIR;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The section "## 4. The life of a PUBLISH" up to the next "## ".
std::string publish_walk() {
  const std::string doc = read_text(kRoot / "docs/architecture.md");
  const auto start = doc.find("## 4. The life of a PUBLISH");
  REQUIRE(start != std::string::npos);
  const auto end = doc.find("\n## ", start + 1);
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Every .cc and .h of broker/, client/ and lib/, concatenated.
const std::string& all_sources() {
  static const std::string text = [] {
    std::string out;
    for (const char* dir : {"broker", "client", "lib"}) {
      for (const auto& e : fs::recursive_directory_iterator(kRoot / dir)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".cc" || ext == ".h")) out += read_text(e.path()) + "\n";
      }
    }
    return out;
  }();
  return text;
}

// Whether `text` defines or declares `name` (the part after the last "::"),
// qualified as written when it is qualified: "Impl::run(" or " run(".
bool names_function(const std::string& text, const std::string& name) {
  const auto colons = name.rfind("::");
  if (colons != std::string::npos) return text.find(name + "(") != std::string::npos;
  return std::regex_search(text, std::regex("[^A-Za-z0-9_]" + name + "\\("));
}

}  // namespace

TEST_CASE("DOC TRUTH: architecture.md's walk of a PUBLISH names functions that exist where it says") {
  const std::string walk = publish_walk();
  const std::regex step("`((?:broker|client|lib)/[A-Za-z0-9_/]+\\.(?:cc|h))` `([A-Za-z0-9_:]+)`");
  std::size_t steps = 0;
  std::set<std::string> checked;
  for (auto it = std::sregex_iterator(walk.begin(), walk.end(), step); it != std::sregex_iterator(); ++it) {
    const std::string file = (*it)[1], function = (*it)[2];
    INFO(file << " " << function);
    REQUIRE(fs::exists(kRoot / file));
    CHECK(names_function(read_text(kRoot / file), function));
    checked.insert(function);
    ++steps;
  }
  CHECK(steps >= 15);  // the walk from `tearline publish` to the subscriber's screen

  const std::regex named("`([A-Za-z][A-Za-z0-9]*::[a-z_][A-Za-z0-9_]*|[a-z]+_[a-z_]+)`");
  std::size_t others = 0;
  for (auto it = std::sregex_iterator(walk.begin(), walk.end(), named); it != std::sregex_iterator(); ++it) {
    const std::string function = (*it)[1];
    if (checked.count(function) != 0) continue;
    INFO(function);
    CHECK(names_function(all_sources(), function));
    ++others;
  }
  CHECK(others >= 10);
}
