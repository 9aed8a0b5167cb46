#include "cli/node/node_context.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/files.h"

namespace tearline::cli {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxContextFileBytes = 64 * std::size_t{1024};

Result<fs::path> contexts_folder() {
  auto base = config_folder();
  if (!base) return base.status();
  return *base / "contexts";
}

Status write_text(const fs::path& file, const std::string& text) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot create " + file.parent_path().string() + ": " + ec.message());
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    if (!out.flush()) return Status::fail(Code::IO_ERROR, "cannot write " + temp.string());
  }
  fs::rename(temp, file, ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot write " + file.string() + ": " + ec.message());
  return Status::ok();
}

}  // namespace

Result<fs::path> config_folder() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return fs::path(xdg) / "tearline";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return fs::path(home) / ".config" / "tearline";
  return Status::fail(Code::IO_ERROR, "neither XDG_CONFIG_HOME nor HOME is set: no place for contexts");
}

Status check_context_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(),
                              [](unsigned char c) { return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-'; });
  if (ok) return Status::ok();
  return Status::fail(
      Code::INVALID_FIELD,
      "context name '" + name + "': use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'");
}

Result<NodeContext> load_context(const std::string& name) {
  if (Status s = check_context_name(name); !s) return s;
  auto folder = contexts_folder();
  if (!folder) return folder.status();
  const fs::path file = *folder / (name + ".toml");
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::fail(Code::IO_ERROR, "no context '" + name + "' (" + file.string() +
                                            " does not exist; see `tearline context list`)");
  }
  auto bytes = read_file(file, kMaxContextFileBytes);
  if (!bytes) return bytes.status();
  NodeContext out;
  out.name = name;
  try {
    const toml::table doc = toml::parse(to_string(*bytes), file.string());
    for (const auto& [key, value] : doc) {
      const auto* text = value.as_string();
      std::string* slot = key == "pki" ? &out.pki : key == "broker" ? &out.broker : key == "node" ? &out.node : nullptr;
      if (slot == nullptr || text == nullptr) {
        return Status::fail(Code::INVALID_FIELD, "context " + file.string() + ": unknown or non-string key '" +
                                                     std::string(key.str()) + "' (keys: pki, broker, node)");
      }
      *slot = text->get();
    }
  } catch (const toml::parse_error& e) {
    std::ostringstream what;
    what << "context " << file.string() << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return Status::fail(Code::INVALID_FIELD, what.str());
  }
  return out;
}

Status save_context(const NodeContext& context) {
  if (Status s = check_context_name(context.name); !s) return s;
  auto folder = contexts_folder();
  if (!folder) return folder.status();
  toml::table doc;
  if (!context.pki.empty()) doc.insert("pki", context.pki);
  if (!context.broker.empty()) doc.insert("broker", context.broker);
  if (!context.node.empty()) doc.insert("node", context.node);
  std::ostringstream text;
  text << doc << "\n";
  return write_text(*folder / (context.name + ".toml"), text.str());
}

Status remove_context(const std::string& name) {
  if (Status s = check_context_name(name); !s) return s;
  auto folder = contexts_folder();
  if (!folder) return folder.status();
  std::error_code ec;
  if (!fs::remove(*folder / (name + ".toml"), ec)) {
    return Status::fail(Code::IO_ERROR, "no context '" + name + "' to remove (see `tearline context list`)");
  }
  auto base = config_folder();
  auto selected = read_file(*base / "context.txt", 1024);
  if (selected && to_string(*selected) == name + "\n") fs::remove(*base / "context.txt", ec);
  return Status::ok();
}

Result<std::vector<NodeContext>> list_contexts() {
  auto folder = contexts_folder();
  if (!folder) return folder.status();
  std::vector<NodeContext> out;
  std::error_code ec;
  if (!fs::is_directory(*folder, ec)) return out;
  for (const auto& entry : fs::directory_iterator(*folder, ec)) {
    if (entry.path().extension() != ".toml") continue;
    auto context = load_context(entry.path().stem().string());
    if (!context) return context.status();
    out.push_back(std::move(context).value());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<std::string> selected_context_name() {
  const char* env = std::getenv("TEARLINE_CONTEXT");
  if (env != nullptr && *env != '\0') return std::string(env);
  auto base = config_folder();
  if (!base) return std::nullopt;
  auto bytes = read_file(*base / "context.txt", 1024);
  if (!bytes) return std::nullopt;
  std::string name = to_string(*bytes);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  if (name.empty()) return std::nullopt;
  return name;
}

Status select_context(const std::string& name) {
  auto context = load_context(name);
  if (!context) return context.status();
  auto base = config_folder();
  return write_text(*base / "context.txt", name + "\n");
}

Status check_endpoint(const std::string& endpoint) {
  auto refuse = [&](const std::string& why) {
    std::string host_port = endpoint;
    if (const auto scheme = host_port.find("://"); scheme != std::string::npos)
      host_port = host_port.substr(scheme + 3);
    return Status::fail(Code::INVALID_FIELD, "'" + endpoint + "' " + why + ": give tcp://HOST:PORT, e.g. tcp://" +
                                                 (host_port.empty() ? "127.0.0.1:7801" : host_port));
  };
  if (endpoint.rfind("ipc://", 0) == 0 && endpoint.size() > 6) return Status::ok();
  if (endpoint.rfind("tcp://", 0) != 0) return refuse("is not an endpoint");
  const std::string rest = endpoint.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return refuse("has no HOST:PORT");
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) < 1 ||
      std::stoi(port) > 65535) {
    return refuse("has no port from 1 to 65535");
  }
  return Status::ok();
}

}  // namespace tearline::cli
