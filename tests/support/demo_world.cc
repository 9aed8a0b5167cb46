#include "support/demo_world.h"

#include <stdexcept>

namespace tearline::testing {

std::filesystem::path DemoWorld::roster_path() const {
  return std::filesystem::path(TEARLINE_SOURCE_DIR) / "certs" / "roster.toml";
}

void DemoWorld::generate_into(const std::filesystem::path& root) {
  auto roster = identity::load_roster(std::filesystem::path(TEARLINE_SOURCE_DIR) / "certs" / "roster.toml");
  if (!roster) throw std::runtime_error("demo roster: " + roster.status().to_string());
  Status s = identity::generate_from_roster(*roster, identity::PkiPaths(root), kDemoNow);
  if (!s) throw std::runtime_error("demo PKI: " + s.to_string());
}

DemoWorld::DemoWorld() : dir_("tearline-demo"), pki_(dir_.path() / "pki") {
  auto roster = identity::load_roster(roster_path());
  if (!roster) throw std::runtime_error("demo roster: " + roster.status().to_string());
  roster_ = std::move(roster).value();
  Status s = identity::generate_from_roster(roster_, pki_, kDemoNow);
  if (!s) throw std::runtime_error("demo PKI: " + s.to_string());
  identity::LoadReport report;
  auto dir = identity::Directory::load(pki_.directory(), kDemoNow, &report);
  if (!dir) throw std::runtime_error("demo directory: " + dir.status().to_string());
  if (!report.rejected.empty()) throw std::runtime_error("demo directory rejected " + report.rejected[0].object);
  directory_ = std::move(dir).value();
}

const DemoWorld& DemoWorld::get() {
  static const DemoWorld world;
  return world;
}

}  // namespace tearline::testing
