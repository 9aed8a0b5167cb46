// The smallest program on the installed client library: connects as a node,
// publishes one CONFIDENTIAL section releasable to the countries given, and
// prints the broker's verdict. tests/cli/package_test.sh builds it against an
// installed tree (find_package(tearline), CMakeLists.txt beside this file).
//
// Usage: publish_one ENDPOINT PKI_DIR NODE TOPIC REL TEXT
//   e.g. publish_one tcp://127.0.0.1:7911 pki gdf-napoli-ops cases.seizures.x DEU,ITA "text"
// Exit 0 accepted, 1 rejected, 2 bad usage, 3 no session.
#include <tearline/client.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: publish_one ENDPOINT PKI_DIR NODE TOPIC REL TEXT\n");
    return 2;
  }
  const std::filesystem::path pki = argv[2];
  tearline::client::SessionOptions options;
  options.endpoint = argv[1];
  options.directory = pki / "directory";
  options.node_id = argv[3];
  options.key_file = pki / "keys" / "nodes" / (options.node_id + ".key");
  options.client_name = "publish_one";
  auto session = tearline::client::Session::connect(options);
  if (!session) {
    std::fprintf(stderr, "publish_one: %s\n", session.status().to_string().c_str());
    return 3;
  }
  tearline::client::Draft draft;
  draft.topic = argv[4];
  tearline::client::Label label;
  label.classification = tearline::client::Classification::kConfidential;
  std::stringstream countries(argv[5]);
  for (std::string country; std::getline(countries, country, ',');) label.releasable_to.push_back(country);
  draft.sections.push_back(tearline::client::DraftSection{label, argv[6]});
  auto outcome = (*session)->publish(draft);
  if (!outcome) {
    std::fprintf(stderr, "publish_one: %s\n", outcome.status().to_string().c_str());
    return 3;
  }
  if (!outcome->accepted) {
    std::printf("REJECTED %s\n", outcome->status.to_string().c_str());
    return 1;
  }
  std::printf("ACCEPTED seq=%llu\n", static_cast<unsigned long long>(outcome->broker_seq));
  return 0;
}
