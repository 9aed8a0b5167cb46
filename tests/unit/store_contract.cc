// The Store contract's shared helpers (store_contract.h). Its cases, run
// against the backend the executable links (store_backend_under_test()), are
// in one file per topic:
//   store_contract_recovery.cc   every piece of state a restarted broker needs
//   store_contract_commit.cc     a batch written whole or not at all:
//                                REPLAYED_REPORT naming the clashing id,
//                                STORAGE_FULL at the size cap with the store
//                                still readable, a failed sync halting the
//                                store for good (STORAGE_HALTED)
//   store_contract_read.cc       reads in seq order and of committed batches only
//   store_contract_retention.cc  retention by age and by size removing the
//                                oldest reports, just enough of them
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crypto/key_file.h"
#include "report/builder.h"

namespace tearline::broker::store_contract {

using testing::DemoWorld;

StorePlace::StorePlace() : dir_("tearline-store") {}

StorePlace::~StorePlace() { store_backend_under_test().remove(dir_.path()); }

Opened StorePlace::open(const StoreOptions& options, std::int64_t now_ms) const {
  Opened o;
  auto store = store_backend_under_test().open(dir_.path(), options, now_ms, kWindowMs, &o.state);
  INFO(store_backend_under_test().name() << ": " << store.status().to_string());
  REQUIRE(store);
  o.store = std::move(store).value();
  return o;
}

policy::Label label(identity::Classification c, std::vector<std::string> rel, std::vector<std::string> units) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), false});
}

StoredReport real_report(std::uint64_t seq, const std::string& node, std::uint64_t sequence, std::int64_t accepted_ms,
                         const std::vector<policy::Label>& labels) {
  const auto& world = DemoWorld::get();
  auto keys = crypto::read_node_keys(world.pki().node_key(node));
  REQUIRE(keys);
  report::ReportDraft d;
  d.topic = "intel.seizures";
  for (const auto& l : labels) d.sections.push_back({l, to_bytes("section text of " + node)});
  d.created_at_ms = kNowMs;
  d.sequence = sequence;
  auto built = report::build_report(d, node, keys->signing, *world.directory());
  INFO(built.status().to_string());
  REQUIRE(built);
  const identity::Credential* cred = world.directory()->node(node);
  REQUIRE(cred != nullptr);
  StoredReport r;
  r.seq = seq;
  r.report_id = to_string(built->report_id);
  r.originator = node;
  r.topic = d.topic;
  r.accepted_ms = accepted_ms;
  r.sequence = sequence;
  r.source = SourceRecord{node, cred->agency, cred->country, labels};
  r.bytes = built->bytes;
  return r;
}

StoredReport blob_report(std::uint64_t seq, std::size_t size, std::int64_t accepted_ms) {
  StoredReport r;
  r.seq = seq;
  r.report_id = std::string(16, '\0');
  for (int i = 0; i < 8; ++i) r.report_id[static_cast<std::size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
  r.report_id[15] = 'b';
  r.originator = "diran-bogota-hq";
  r.topic = "intel.flood";
  r.accepted_ms = accepted_ms;
  r.sequence = seq;
  r.source = SourceRecord{r.originator, "DIRAN", "COL", {}};
  r.bytes = Bytes(size, static_cast<std::uint8_t>(seq));
  return r;
}

std::vector<std::uint64_t> stored_seqs(Store& store) {
  auto rows = store.read_after(0, 100000);
  INFO(rows.status().to_string());
  REQUIRE(rows);
  std::vector<std::uint64_t> out;
  for (const auto& r : *rows) out.push_back(r.seq);
  return out;
}

std::string code_of(const Status& s) { return std::string(code_name(s.code())); }

std::vector<std::string> codes_of(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

void check_same_state(const RecoveredState& got, const RecoveredState& want) {
  CHECK(got.last_seq == want.last_seq);
  CHECK(got.sequences == want.sequences);
  CHECK(got.subscriptions == want.subscriptions);
  CHECK(got.cursors == want.cursors);
  CHECK(got.stream_cursors == want.stream_cursors);
  CHECK(got.recent_ids == want.recent_ids);
  REQUIRE(got.sources.size() == want.sources.size());
  for (std::size_t i = 0; i < got.sources.size(); ++i) {
    CHECK(got.sources[i].first == want.sources[i].first);
    CHECK(got.sources[i].second.originator == want.sources[i].second.originator);
    CHECK(got.sources[i].second.labels == want.sources[i].second.labels);
  }
  CHECK(got.last_audit.index == want.last_audit.index);
  CHECK(got.last_audit.hash == want.last_audit.hash);
  CHECK(got.last_checkpoint == want.last_checkpoint);
}

}  // namespace tearline::broker::store_contract
