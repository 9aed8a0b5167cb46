// make_seeds OUT_DIR: writes the seed corpus of every fuzz target into
// OUT_DIR/<target>/seed-<name>, built from the same valid objects the tests
// use: frames from every builder, reports and identity objects of the fuzz
// world (whose fixed keys make them verify inside the targets), labels,
// topics, and the roster, topic policy and a broker config. Rewriting the
// same names makes it idempotent; files the fuzzer added are left alone.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/canonical_proto.h"
#include "crypto/key_file.h"
#include "federation/peering.h"
#include "fuzz_world.h"
#include "identity/objects.h"
#include "policy/label.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "report/builder.h"
#include "report/verify.h"
#include "support/demo_world.h"
#include "wire/frame.h"

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using namespace tearline;

namespace {

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void write(std::string_view target, const std::string& name, ByteView bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
    ++count_;
  }
  void write(std::string_view target, const std::string& name, std::string_view text) {
    write(target, name, as_bytes(text));
  }
  // Every file of `dir` whose name ends in `extension`, under its own name.
  void copy_all(std::string_view target, const fs::path& dir, std::string_view extension) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != extension) continue;
      write(target, entry.path().filename().string(), read(entry.path()));
    }
  }
  std::size_t count() const { return count_; }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path root_;
  std::size_t count_ = 0;
};

policy::Label label(v1::Classification c, std::vector<std::string> rel, std::vector<std::string> units = {},
                    bool orcon = false) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), orcon});
}

report::BuiltReport build(const fuzz::FuzzWorld& world, const std::string& originator,
                          const report::ReportDraft& draft) {
  auto built = report::build_report(draft, originator, world.keys(originator)->signing, world.directory());
  if (!built) throw std::runtime_error("seed report of " + originator + ": " + built.status().to_string());
  return std::move(built).value();
}

// Reports as the tests build them: the Cucuta seizure (two unit-scoped
// sections), an open report with a cited source and ORCON, one section per
// classification, and the seizure with its informant section torn off.
std::vector<std::pair<std::string, Bytes>> reports(const fuzz::FuzzWorld& world) {
  const std::int64_t now_ms = testing::kDemoNow * 1000;
  std::vector<std::pair<std::string, Bytes>> out;

  report::ReportDraft seizure{"unit.cucuta-jtf.seizures", {}, {}, now_ms, 1};
  seizure.sections.push_back({label(v1::SECRET, {"COL"}, {"cucuta-jtf"}), to_bytes("informant: source ALFA-7")});
  seizure.sections.push_back({label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}), to_bytes("1.1 t seized")});
  const auto built = build(world, "diran-cucuta-commander", seizure);
  out.emplace_back("seizure", built.bytes);
  out.emplace_back("seizure-redacted", serialize_canonical(report::redact(built.report, {false, true})));

  report::ReportDraft open{"intel.routes.border", {}, {}, now_ms + 5, 2};
  open.sections.push_back({label(v1::UNCLASSIFIED, {"COL", "MEX", "USA"}, {}, true), to_bytes("go-fast boats")});
  open.sources.push_back({built.report_id, {1}});
  out.emplace_back("sourced-orcon", build(world, "dea-bogota-analyst", open).bytes);

  // A batch of three (format 2: one signature over the root, each with its
  // path), and the seizure again as a format 1 report.
  std::vector<report::ReportDraft> three;
  for (std::uint64_t i = 0; i < 3; ++i) {
    report::ReportDraft d = seizure;
    d.sequence = 10 + i;
    d.created_at_ms = now_ms + 20 + static_cast<std::int64_t>(i);
    three.push_back(d);
  }
  const std::string commander = "diran-cucuta-commander";
  auto batch = report::build_batch(three, commander, world.keys(commander)->signing, world.directory());
  if (!batch) throw std::runtime_error("seed batch: " + batch.status().to_string());
  for (std::size_t i = 0; i < batch->size(); ++i) out.emplace_back("batch3-" + std::to_string(i), (*batch)[i].bytes);
  report::BuildOptions v1_format;
  v1_format.format_version = report::kReportFormatV1;
  auto old = report::build_batch({seizure}, commander, world.keys(commander)->signing, world.directory(), v1_format);
  if (!old) throw std::runtime_error("seed format 1 report: " + old.status().to_string());
  out.emplace_back("format1", old->front().bytes);

  report::ReportDraft ladder{"intel.labs", {}, {}, now_ms + 9, 3};
  for (auto c : {v1::UNCLASSIFIED, v1::RESTRICTED, v1::CONFIDENTIAL, v1::SECRET, v1::TOP_SECRET}) {
    ladder.sections.push_back({label(c, {"COL"}), to_bytes(std::string(identity::classification_name(c)))});
  }
  out.emplace_back("classification-ladder", build(world, "diran-cucuta-commander", ladder).bytes);
  return out;
}

v1::SignedObject revocation_list_with_entries(const fuzz::FuzzWorld& world) {
  auto key = crypto::read_authority_key(world.pki().authority_key("DEA"));
  if (!key) throw std::runtime_error("DEA authority key: " + key.status().to_string());
  v1::RevocationListBody body;
  body.set_format_version(identity::kFormatVersion);
  body.set_agency("DEA");
  body.set_number(2);
  body.set_issued_at(testing::kDemoNow);
  for (const identity::Credential* node : world.directory().nodes()) {
    if (node->agency != "DEA") continue;
    if (node->node_id == "dea-cucuta-agent") {
      body.add_revoked_serials(node->serial);  // a legacy entry, no reason
      continue;
    }
    auto* entry = body.add_revoked_credentials();
    entry->set_serial(node->serial);
    entry->set_reason(node->node_id == "dea-bogota-analyst" ? v1::COMPROMISED : v1::RETIRED);
    if (entry->reason() == v1::COMPROMISED) entry->set_compromised_at(testing::kDemoNow - 60);
  }
  auto* charter = body.add_revoked_charters();
  charter->set_unit_id("cucuta-jtf");
  charter->set_version(1);
  auto* revoked_peering = body.add_revoked_peerings();
  revoked_peering->set_peering_id("diran-dea");
  revoked_peering->set_version(2);
  return identity::sign_revocation_list(body, *world.directory().trust().authority("DEA"), *key);
}

// DIRAN <-> DEA, signed by `signers` (authority keys of the fuzz world).
Bytes peering(const fuzz::FuzzWorld& world, const std::vector<std::string>& signers) {
  v1::PeeringBody body;
  body.set_format_version(identity::kFormatVersion);
  body.set_peering_id("diran-dea");
  const identity::Credential* broker = world.directory().node("tearline-broker");
  if (broker == nullptr) throw std::runtime_error("no tearline-broker credential");
  for (auto [party, agency] : {std::pair{body.mutable_first(), "DIRAN"}, std::pair{body.mutable_second(), "DEA"}}) {
    party->set_agency(agency);
    party->set_broker_id(std::string("broker-") + agency);
    party->set_signing_key(broker->signing_key.bytes.data(), broker->signing_key.bytes.size());
    party->set_transport_key(broker->transport_key.bytes.data(), broker->transport_key.bytes.size());
  }
  body.mutable_first_to_second()->add_topics("intel.>");
  body.mutable_first_to_second()->set_ceiling(v1::SECRET);
  body.mutable_first_to_second()->add_releasable_to("USA");
  body.mutable_second_to_first()->add_topics("intel.routes.*");
  body.mutable_second_to_first()->set_ceiling(v1::CONFIDENTIAL);
  body.mutable_second_to_first()->set_transit(true);
  body.set_version(1);
  body.set_not_before(testing::kDemoNow - 60);
  body.set_not_after(testing::kDemoNow + 86400);
  v1::SignedObject obj = federation::new_peering(body);
  for (const auto& agency : signers) {
    auto key = crypto::read_authority_key(world.pki().authority_key(agency));
    if (!key) throw std::runtime_error(agency + " authority key: " + key.status().to_string());
    federation::cosign_peering(&obj, *world.directory().trust().authority(agency), *key);
  }
  return serialize_canonical(obj);
}

void frames(Corpus& corpus, const Bytes& report) {
  std::vector<std::pair<std::string, v1::Frame>> all = {
      {"hello", wire::make_hello("seed client")},
      {"welcome", wire::make_welcome("dea-cucuta-agent", 1780272000000, 1u << 20, 256)},
      {"error", wire::make_error(Code::TOPIC_INVALID, Status::fail(Code::TOPIC_INVALID, "segment 2 is empty"), 7)},
      {"error-session", wire::make_error(Code::SESSION_REVOKED, "revoked")},
      {"rejected", wire::make_rejected(8, Status::fail(Code::REPORT_SIGNATURE, "bad signature"))},
      {"accepted", wire::make_accepted(9, as_bytes(std::string(16, 'r')), 42)},
      {"deliver", wire::make_deliver(42, report)},
      {"ack", wire::make_ack(42)},
      {"ping", wire::make_ping(5)},
      {"pong", wire::make_pong(5)},
      {"subscribe", wire::make_subscribe(10, {"intel.>", "unit.cucuta-jtf.*"})},
      {"unsubscribe", wire::make_unsubscribe(11, {"intel.>"})},
      {"publish", wire::make_publish(12, report)},
      {"admin", wire::make_admin(13, wire::kAdminReload)},
  };
  for (const auto& [name, frame] : all) corpus.write("fuzz_wire_frame", name, wire::encode_frame(frame));
}

// Acceptance receipts (digest || receipt) of the seed reports, one batch,
// signed by the demo broker; a delivery receipt of two of them by a node.
void receipts(Corpus& corpus, const fuzz::FuzzWorld& world, const std::vector<std::pair<std::string, Bytes>>& built) {
  auto broker = crypto::read_broker_keys(world.pki().broker_key());
  if (!broker) throw std::runtime_error("broker key: " + broker.status().to_string());
  std::vector<crypto::Digest> digests;
  std::vector<receipt::DeliveredCopy> copies;
  for (const auto& [name, bytes] : built) {
    v1::Report r;
    r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    digests.push_back(receipt::report_digest(r));
    v1::ReportHeader h;
    h.ParseFromString(r.header());
    if (copies.size() < 2) copies.push_back({100 + copies.size(), receipt::copy_hash(bytes), h.report_id(), {0}});
  }
  const auto signed_receipts =
      receipt::sign_acceptance("tearline-broker", broker->audit, 100, digests, testing::kDemoNow * 1000);
  for (std::size_t i = 0; i < built.size(); ++i) {
    ByteWriter input;
    input.raw(ByteView(digests[i].data(), digests[i].size()));
    input.raw(signed_receipts[i]);
    corpus.write("fuzz_acceptance_receipt", built[i].first, input.bytes());
    // The same receipt as a path of one hop, and (seeds of the shape
    // only: a broker twice) of two.
    for (int hops = 1; hops <= 2; ++hops) {
      v1::CrossingPath path;
      for (int h = 0; h < hops; ++h) path.add_receipts(to_string(signed_receipts[i]));
      ByteWriter with_path;
      with_path.raw(ByteView(digests[i].data(), digests[i].size()));
      with_path.raw(serialize_canonical(path));
      corpus.write("fuzz_crossing_path", built[i].first + "-hops-" + std::to_string(hops), with_path.bytes());
    }
  }
  const crypto::NodeSecrets* agent = world.keys("dea-cucuta-agent");
  if (agent == nullptr) throw std::runtime_error("no keys for dea-cucuta-agent");
  corpus.write(
      "fuzz_delivery_receipt", "two-copies",
      receipt::sign_delivery("dea-cucuta-agent", "tearline-broker", agent->signing, testing::kDemoNow * 1000, copies));
}

constexpr std::string_view kBrokerConfig = R"([broker]
endpoint = "tcp://127.0.0.1:7801"
key_file = "../certs/demo/keys/broker.key"
directory = "../certs/demo/directory"
policy = "../certs/policy.toml"
data_dir = "/var/lib/tearline"
log_level = "info"
verify_threads = 2

[limits]
max_frame_bytes = 1048576
max_connections = 1024
max_subscriptions = 256
max_sections = 64
max_recipients = 256
clock_window_seconds = 300
max_failures = 16
max_pending_deliveries = 10000
handshake_timeout_ms = 5000
session_timeout_ms = 60000
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  try {
    Corpus corpus{fs::path(argv[1])};
    const fuzz::FuzzWorld& world = fuzz::FuzzWorld::get();
    const fs::path source(TEARLINE_SOURCE_DIR);

    const auto built = reports(world);
    for (const auto& [name, bytes] : built) {
      corpus.write("fuzz_report_verify", name, bytes);
      auto verified = report::verify_report(bytes, world.directory());
      if (!verified) throw std::runtime_error("seed report " + name + ": " + verified.status().to_string());
      for (int i = 0; i < verified->report.sections_size(); ++i) {
        const auto& entry = verified->report.sections(i);
        if (entry.has_sealed())
          corpus.write("fuzz_label", name + "-" + std::to_string(i), as_bytes(entry.sealed().label()));
      }
    }
    frames(corpus, built.front().second);
    // Batch proofs: u8 index, u8 count, then the path entries.
    for (const auto& [name, bytes] : built) {
      if (name.rfind("batch3-", 0) != 0) continue;
      v1::Report r;
      r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
      ByteWriter proof;
      proof.u8(static_cast<std::uint8_t>(r.batch().leaf_index()));
      proof.u8(static_cast<std::uint8_t>(r.batch().leaf_count()));
      for (const auto& p : r.batch().path()) proof.raw(as_bytes(p));
      corpus.write("fuzz_batch_path", name, proof.bytes());
    }
    corpus.write("fuzz_batch_path", "max", Bytes{63, 64});
    receipts(corpus, world, built);

    corpus.copy_all("fuzz_credential", world.pki().directory() / "credentials", ".cred");
    corpus.copy_all("fuzz_charter", world.pki().directory() / "charters", ".charter");
    corpus.copy_all("fuzz_revocation_list", world.pki().directory() / "revocations", ".crl");
    corpus.write("fuzz_revocation_list", "DEA-entries.crl", serialize_canonical(revocation_list_with_entries(world)));
    corpus.write("fuzz_peering", "both.peering", peering(world, {"DIRAN", "DEA"}));
    corpus.write("fuzz_peering", "one.peering", peering(world, {"DEA"}));

    for (const auto& [name, text] :
         std::vector<std::pair<std::string, std::string>>{{"exact", "intel.seizures.cucuta\nintel.seizures.cucuta"},
                                                          {"tail", "intel.>\nintel.seizures.cucuta"},
                                                          {"star", "unit.*.seizures\nunit.cucuta-jtf.seizures"},
                                                          {"all", ">\nunit.cucuta-jtf"},
                                                          {"deep", "a.b.c.d.e.f.g.*\na.b.c.d.e.f.g.h"},
                                                          {"miss", "intel.hq.>\nintel.hq"}}) {
      corpus.write("fuzz_topic", name, text);
    }

    corpus.write("fuzz_roster", "roster.toml", Corpus::read(source / "certs" / "roster.toml"));
    for (const char* name : {"valid.toml", "faults.toml", "state.toml", "boundary.toml"}) {
      corpus.write("fuzz_scenario", name, Corpus::read(source / "tests" / "scenarios" / name));
    }
    corpus.write("fuzz_topic_policy", "policy.toml", Corpus::read(source / "certs" / "policy.toml"));
    corpus.write("fuzz_broker_config", "broker.toml", kBrokerConfig);
    std::printf("make_seeds: %zu seeds in %s\n", corpus.count(), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
