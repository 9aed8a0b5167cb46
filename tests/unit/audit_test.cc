// lib/audit: the hash chain and its signed checkpoints. One table of
// tampering cases, each applied twice: to the entries in memory, and with SQL
// to a real SQLite file written with audit::insert_entries and read back with
// audit::read_entries (what `tearline audit verify` does). Each case names the
// Tamper kind and the index verify_chain must report.
//
// The clean log: 20 entries, signed checkpoints at entries 5, 10 and 15.
// Entries 16..20 are after the last checkpoint: the cases at the end show
// what verify cannot detect there (docs/reliability.md, "Audit log").
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "audit/time_bound.h"
#include "crypto/keys.h"
#include "support/temp_dir.h"

namespace tearline::audit {
namespace {

constexpr std::int64_t kT0 = 1780272000000;  // the demo world's "now", in ms
constexpr int kEntries = 20;
const std::vector<std::uint64_t> kCheckpointsAt = {5, 10, 15};

struct Log {
  std::vector<AuditEntry> entries;
  std::vector<Checkpoint> checkpoints;
};

const crypto::SigningKey& broker_key() {
  static const crypto::SigningKey key = crypto::SigningKey::generate();
  return key;
}

// A plausible mix of events, none carrying plaintext.
Log clean_log() {
  static const char* kEvents[][3] = {
      {"connection", "admitted", ""},
      {"session", "admitted", "resume after 0"},
      {"publish", "accepted", "seq 1 topic intel.seizures sections 2"},
      {"delivery", "delivered", "seq 1 sections 1,2"},
      {"withheld", "withheld", "section 2: CLEARANCE_BELOW: CONFIDENTIAL < SECRET"},
      {"publish", "rejected", "REPLAYED_REPORT: report was accepted before"},
  };
  Log log;
  ChainWriter chain;
  for (int i = 0; i < kEntries; ++i) {
    const auto& e = kEvents[i % 6];
    const std::int64_t at = kT0 + std::int64_t{10} * i;
    log.entries.push_back(chain.append(at, e[0], "node-" + std::to_string(i % 3),
                                       i % 2 == 0 ? "00112233445566778899aabbccddeeff" : "", e[1], e[2]));
    if (std::find(kCheckpointsAt.begin(), kCheckpointsAt.end(), chain.last_index()) != kCheckpointsAt.end()) {
      log.checkpoints.push_back(sign_checkpoint(log.entries.back(), at + 1, broker_key()));
    }
  }
  return log;
}

// An entry an attacker forges with a valid hash of its own contents.
AuditEntry forged(std::uint64_t index, const crypto::Digest& prev_hash) {
  AuditEntry e;
  e.index = index;
  e.time_ms = kT0 + 65;
  e.event = "publish";
  e.node = "node-1";
  e.decision = "accepted";
  e.detail = "seq 99 topic intel.seizures sections 1";
  e.prev_hash = prev_hash;
  e.hash = entry_hash(e);
  return e;
}

// Entries from position `from` (0-based) re-chained after an edit, as an
// attacker with the file and this source code would.
void rechain(std::vector<AuditEntry>& entries, std::size_t from) {
  ChainWriter chain(entries[from - 1].index, entries[from - 1].hash);
  for (std::size_t i = from; i < entries.size(); ++i) {
    AuditEntry& e = entries[i];
    e = chain.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail);
  }
}

void renumber(std::vector<AuditEntry>& entries) {
  for (std::size_t i = 0; i < entries.size(); ++i) entries[i].index = i + 1;
}

// ---- the SQLite side --------------------------------------------------------

void sql(sqlite3* db, const std::string& statement) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
  INFO(statement << ": " << (err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

// Shifts idx >= from by `delta` without tripping the primary key midway.
void shift_from(sqlite3* db, std::uint64_t from, int delta) {
  sql(db, "UPDATE audit SET idx = -(idx + (" + std::to_string(delta) + ")) WHERE idx >= " + std::to_string(from));
  sql(db, "UPDATE audit SET idx = -idx WHERE idx < 0");
}

// Replaces rows from `from` on with `entries` (their own indexes).
void replace_from(sqlite3* db, std::uint64_t from, const std::vector<AuditEntry>& entries) {
  sql(db, "DELETE FROM audit WHERE idx >= " + std::to_string(from));
  std::vector<AuditEntry> tail;
  for (const auto& e : entries) {
    if (e.index >= from) tail.push_back(e);
  }
  Status s = insert_entries(db, tail);
  INFO(s.to_string());
  REQUIRE(s);
}

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::filesystem::path& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
  ~Db() { sqlite3_close(db); }
};

void write_log(const std::filesystem::path& path, const Log& log) {
  Db file(path);
  sql(file.db, kSchema);
  sql(file.db, "BEGIN");
  Status s = insert_entries(file.db, log.entries);
  INFO(s.to_string());
  REQUIRE(s);
  for (const auto& c : log.checkpoints) REQUIRE(insert_checkpoint(file.db, c));
  sql(file.db, "COMMIT");
}

VerifyResult verify_file(const std::filesystem::path& path) {
  auto entries = read_entries(path);
  INFO(entries.status().to_string());
  REQUIRE(entries);
  auto checkpoints = read_checkpoints(path);
  INFO(checkpoints.status().to_string());
  REQUIRE(checkpoints);
  return verify_chain(*entries, *checkpoints, broker_key().public_key());
}

// ---- the table --------------------------------------------------------------

struct Case {
  std::string name;
  std::function<void(Log&)> in_memory;
  std::function<void(sqlite3*, const Log& clean)> in_file;
  Tamper tamper;
  std::uint64_t at_index;
};

std::vector<Case> cases() {
  return {
      {"untouched", [](Log&) {}, [](sqlite3*, const Log&) {}, Tamper::kNone, 0},

      {"entry 7's detail edited", [](Log& l) { l.entries[6].detail = "seq 1 sections 1"; },
       [](sqlite3* db, const Log&) { sql(db, "UPDATE audit SET detail = 'seq 1 sections 1' WHERE idx = 7"); },
       Tamper::kModified, 7},

      {"entry 6's decision edited (rejected -> accepted)", [](Log& l) { l.entries[5].decision = "accepted"; },
       [](sqlite3* db, const Log&) { sql(db, "UPDATE audit SET decision = 'accepted' WHERE idx = 6"); },
       Tamper::kModified, 6},

      {"entry 1 deleted, gap left", [](Log& l) { l.entries.erase(l.entries.begin()); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx = 1"); }, Tamper::kDeleted, 1},

      {"entry 7 deleted, gap left", [](Log& l) { l.entries.erase(l.entries.begin() + 6); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx = 7"); }, Tamper::kDeleted, 7},

      {"entries 7..9 deleted, gap left", [](Log& l) { l.entries.erase(l.entries.begin() + 6, l.entries.begin() + 9); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx BETWEEN 7 AND 9"); }, Tamper::kDeleted, 7},

      {"entry 7 deleted, the following renumbered",
       [](Log& l) {
         l.entries.erase(l.entries.begin() + 6);
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         sql(db, "DELETE FROM audit WHERE idx = 7");
         shift_from(db, 8, -1);
       },
       Tamper::kDeleted, 7},

      {"entry 1 deleted, the following renumbered",
       [](Log& l) {
         l.entries.erase(l.entries.begin());
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         sql(db, "DELETE FROM audit WHERE idx = 1");
         shift_from(db, 2, -1);
       },
       Tamper::kDeleted, 1},

      {"entry inserted at 7 chained to entry 6, the following renumbered",
       [](Log& l) {
         l.entries.insert(l.entries.begin() + 6, forged(7, l.entries[5].hash));
         renumber(l.entries);
       },
       [](sqlite3* db, const Log& clean) {
         shift_from(db, 7, +1);
         REQUIRE(insert_entries(db, {forged(7, clean.entries[5].hash)}));
       },
       Tamper::kInserted, 7},

      {"entry inserted at 1, the following renumbered",
       [](Log& l) {
         l.entries.insert(l.entries.begin(), forged(1, crypto::Digest{}));
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         shift_from(db, 1, +1);
         REQUIRE(insert_entries(db, {forged(1, crypto::Digest{})}));
       },
       Tamper::kInserted, 1},

      {"entry inserted at 7 with a made-up previous hash, the following renumbered",
       [](Log& l) {
         crypto::Digest junk;
         junk.fill(0x5a);
         l.entries.insert(l.entries.begin() + 6, forged(7, junk));
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         crypto::Digest junk;
         junk.fill(0x5a);
         shift_from(db, 7, +1);
         REQUIRE(insert_entries(db, {forged(7, junk)}));
       },
       Tamper::kInserted, 7},

      {"entries 7 and 8 swapped",
       [](Log& l) {
         std::swap(l.entries[6], l.entries[7]);
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         sql(db, "UPDATE audit SET idx = -1 WHERE idx = 7");
         sql(db, "UPDATE audit SET idx = 7 WHERE idx = 8");
         sql(db, "UPDATE audit SET idx = 8 WHERE idx = -1");
       },
       Tamper::kReordered, 7},

      {"entries 7 and 12 swapped",
       [](Log& l) {
         std::swap(l.entries[6], l.entries[11]);
         renumber(l.entries);
       },
       [](sqlite3* db, const Log&) {
         sql(db, "UPDATE audit SET idx = -1 WHERE idx = 7");
         sql(db, "UPDATE audit SET idx = 7 WHERE idx = 12");
         sql(db, "UPDATE audit SET idx = 12 WHERE idx = -1");
       },
       Tamper::kReordered, 7},

      {"entry 7 edited and the chain recomputed after it: checkpoint 10 catches it",
       [](Log& l) {
         l.entries[6].detail = "seq 1 sections 1";
         rechain(l.entries, 6);
       },
       [](sqlite3* db, const Log& clean) {
         auto entries = clean.entries;
         entries[6].detail = "seq 1 sections 1";
         rechain(entries, 6);
         replace_from(db, 7, entries);
       },
       Tamper::kCheckpoint, 10},

      {"entry 7 deleted, the chain recomputed and renumbered: checkpoint 10 catches it",
       [](Log& l) {
         l.entries.erase(l.entries.begin() + 6);
         rechain(l.entries, 6);
       },
       [](sqlite3* db, const Log& clean) {
         auto entries = clean.entries;
         entries.erase(entries.begin() + 6);
         rechain(entries, 6);
         replace_from(db, 7, entries);
       },
       Tamper::kCheckpoint, 10},

      {"tail truncated after entry 12, past checkpoint 15", [](Log& l) { l.entries.resize(12); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx > 12"); }, Tamper::kDeleted, 13},

      {"tail truncated after entry 3, past every checkpoint", [](Log& l) { l.entries.resize(3); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx > 3"); }, Tamper::kDeleted, 4},

      {"checkpoint 10's signature forged (one bit)", [](Log& l) { l.checkpoints[1].signature[0] ^= 0x01; },
       [](sqlite3* db, const Log& clean) {
         crypto::Signature sig = clean.checkpoints[1].signature;
         sig[0] ^= 0x01;
         sql(db, "UPDATE audit_checkpoints SET signature = x'" + to_hex(sig) + "' WHERE idx = 10");
       },
       Tamper::kCheckpoint, 10},

      {"every checkpoint re-signed by another key after the chain was recomputed",
       [](Log& l) {
         l.entries[6].detail = "seq 1 sections 1";
         rechain(l.entries, 6);
         const crypto::SigningKey other = crypto::SigningKey::generate();
         for (auto& c : l.checkpoints) c = sign_checkpoint(l.entries[c.index - 1], c.time_ms, other);
       },
       [](sqlite3* db, const Log& clean) {
         auto entries = clean.entries;
         entries[6].detail = "seq 1 sections 1";
         rechain(entries, 6);
         replace_from(db, 7, entries);
         const crypto::SigningKey other = crypto::SigningKey::generate();
         sql(db, "DELETE FROM audit_checkpoints");
         for (auto c : clean.checkpoints) {
           REQUIRE(insert_checkpoint(db, sign_checkpoint(entries[c.index - 1], c.time_ms, other)));
         }
       },
       Tamper::kCheckpoint, 5},

      {"checkpoint 15's time moved", [](Log& l) { l.checkpoints[2].time_ms += 1000; },
       [](sqlite3* db, const Log&) { sql(db, "UPDATE audit_checkpoints SET time_ms = time_ms + 1000 WHERE idx = 15"); },
       Tamper::kCheckpoint, 15},

      // What verify cannot see (docs/reliability.md): entries after the last
      // checkpoint rewritten consistently, or a tail cut there (which is also
      // what a crash before the next checkpoint looks like).
      {"LIMIT: entry 17 (after the last checkpoint) edited and the chain recomputed",
       [](Log& l) {
         l.entries[16].detail = "seq 1 sections 1";
         rechain(l.entries, 16);
       },
       [](sqlite3* db, const Log& clean) {
         auto entries = clean.entries;
         entries[16].detail = "seq 1 sections 1";
         rechain(entries, 16);
         replace_from(db, 17, entries);
       },
       Tamper::kNone, 0},

      {"LIMIT: tail truncated after entry 15 (the last checkpoint)", [](Log& l) { l.entries.resize(15); },
       [](sqlite3* db, const Log&) { sql(db, "DELETE FROM audit WHERE idx > 15"); }, Tamper::kNone, 0},
  };
}

}  // namespace

TEST_CASE("audit: a chain written in two runs equals one written at once") {
  const Log log = clean_log();
  ChainWriter first;
  std::vector<AuditEntry> again;
  for (int i = 0; i < 8; ++i) {
    const auto& e = log.entries[static_cast<std::size_t>(i)];
    again.push_back(first.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail));
  }
  ChainWriter resumed(first.last_index(), first.last_hash());  // as a restarted broker does
  for (std::size_t i = 8; i < log.entries.size(); ++i) {
    const auto& e = log.entries[i];
    again.push_back(resumed.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail));
  }
  REQUIRE(again.size() == log.entries.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    INFO("entry " << i + 1);
    CHECK(again[i].index == i + 1);
    CHECK(again[i].hash == log.entries[i].hash);
    CHECK(again[i].prev_hash == (i == 0 ? crypto::Digest{} : log.entries[i - 1].hash));
  }
}

TEST_CASE("audit: an empty log verifies") {
  const VerifyResult r = verify_chain({}, {}, broker_key().public_key());
  CHECK(r.ok());
  CHECK(r.entries == 0);
  CHECK(r.protected_up_to == 0);
}

TEST_CASE("audit: a clean log verifies and reports its protected prefix") {
  const Log log = clean_log();
  const VerifyResult r = verify_chain(log.entries, log.checkpoints, broker_key().public_key());
  INFO(r.message);
  CHECK(r.ok());
  CHECK(r.entries == 20);
  CHECK(r.checkpoints == 3);
  CHECK(r.protected_up_to == 15);
  CHECK(tamper_name(r.tamper) == "none");

  INFO("a checkpoint does not verify under another broker's key");
  const crypto::VerifyKey other = crypto::SigningKey::generate().public_key();
  const VerifyResult wrong_key = verify_chain(log.entries, log.checkpoints, other);
  CHECK(wrong_key.tamper == Tamper::kCheckpoint);
  CHECK(wrong_key.at_index == 5);
}

TEST_CASE("audit: each tampering is located, in memory and in a SQLite file") {
  const Log clean = clean_log();
  for (const Case& c : cases()) {
    SECTION(c.name) {
      {
        INFO("in memory");
        Log log = clean;
        c.in_memory(log);
        const VerifyResult r = verify_chain(log.entries, log.checkpoints, broker_key().public_key());
        INFO(r.message);
        CHECK(tamper_name(r.tamper) == tamper_name(c.tamper));
        CHECK(r.at_index == c.at_index);
      }
      {
        INFO("in a SQLite file");
        testing::TempDir dir("tearline-audit");
        const auto path = dir.path() / "tearline.db";
        write_log(path, clean);
        {
          Db file(path);
          c.in_file(file.db, clean);
        }
        const VerifyResult r = verify_file(path);
        INFO(r.message);
        CHECK(tamper_name(r.tamper) == tamper_name(c.tamper));
        CHECK(r.at_index == c.at_index);
      }
    }
  }
}

TEST_CASE("audit: entries and checkpoints round-trip through SQLite exactly") {
  const Log log = clean_log();
  testing::TempDir dir("tearline-audit");
  const auto path = dir.path() / "tearline.db";
  write_log(path, log);
  auto entries = read_entries(path);
  REQUIRE(entries);
  REQUIRE(entries->size() == log.entries.size());
  for (std::size_t i = 0; i < log.entries.size(); ++i) {
    const AuditEntry& a = log.entries[i];
    const AuditEntry& b = (*entries)[i];
    INFO("entry " << i + 1);
    CHECK(b.index == a.index);
    CHECK(b.time_ms == a.time_ms);
    CHECK(b.event == a.event);
    CHECK(b.node == a.node);
    CHECK(b.report == a.report);
    CHECK(b.decision == a.decision);
    CHECK(b.detail == a.detail);
    CHECK(b.prev_hash == a.prev_hash);
    CHECK(b.hash == a.hash);
  }
  auto checkpoints = read_checkpoints(path);
  REQUIRE(checkpoints);
  REQUIRE(checkpoints->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK((*checkpoints)[i].index == log.checkpoints[i].index);
    CHECK((*checkpoints)[i].hash == log.checkpoints[i].hash);
    CHECK((*checkpoints)[i].time_ms == log.checkpoints[i].time_ms);
    CHECK((*checkpoints)[i].signature == log.checkpoints[i].signature);
  }
  {
    Db file(path);
    auto last = last_entry(file.db);
    REQUIRE(last);
    CHECK(last->index == 20);
    CHECK(last->hash == log.entries.back().hash);
  }
  Filter only_rejections;
  only_rejections.decision = "rejected";
  auto rejected = read_entries(path, only_rejections);
  REQUIRE(rejected);
  CHECK(rejected->size() == 3);  // entries 6, 12 and 18
  for (const auto& e : *rejected) CHECK(e.decision == "rejected");
}

}  // namespace tearline::audit

namespace tearline::audit {
namespace {

TEST_CASE("audit: --node finds a node's own entries and the routing entries with a clause about it") {
  Log log;
  ChainWriter chain;
  const std::string id = "00112233445566778899aabbccddeeff";
  log.entries.push_back(chain.append(kT0, "publish", "node-a", id, "accepted", "seq 1 topic intel.x sections 2"));
  log.entries.push_back(
      chain.append(kT0 + 1, "routing", "", id, "routed",
                   "seq 1 | node-b delivered sections 1,2 | node-bb withheld section 2: CLEARANCE_BELOW"));
  log.entries.push_back(chain.append(kT0 + 2, "delivery", "node-b", id, "delivered", "seq 1 sections 1"));
  testing::TempDir dir("tearline-audit");
  const auto path = dir.path() / "tearline.db";
  write_log(path, log);
  auto indexes = [&](const std::string& node) {
    Filter f;
    f.node = node;
    auto got = read_entries(path, f);
    REQUIRE(got);
    std::vector<std::uint64_t> out;
    for (const auto& e : *got) out.push_back(e.index);
    return out;
  };
  CHECK(indexes("node-b") == std::vector<std::uint64_t>{2, 3});
  CHECK(indexes("node-bb") == std::vector<std::uint64_t>{2});
  CHECK(indexes("node-a") == std::vector<std::uint64_t>{1});
  CHECK(indexes("node").empty());  // a prefix of a node id is not that node
}

TEST_CASE("audit: --limit keeps the last N matching entries and --follow reads after an index") {
  const Log log = clean_log();
  testing::TempDir dir("tearline-audit");
  const auto path = dir.path() / "tearline.db";
  write_log(path, log);
  auto indexes = [&](const Filter& f) {
    auto got = read_entries(path, f);
    REQUIRE(got);
    std::vector<std::uint64_t> out;
    for (const auto& e : *got) out.push_back(e.index);
    return out;
  };
  Filter f;
  f.limit = 3;
  CHECK(indexes(f) == std::vector<std::uint64_t>{18, 19, 20});
  f.event = "publish";  // accepted: entries 3, 9, 15; rejected: 6, 12, 18
  f.decision = "accepted";
  f.limit = 2;
  CHECK(indexes(f) == std::vector<std::uint64_t>{9, 15});
  f = Filter{};
  f.after_index = 17;
  CHECK(indexes(f) == std::vector<std::uint64_t>{18, 19, 20});
  f.after_index = 20;
  CHECK(indexes(f).empty());
  f.after_index = 5;
  f.limit = 1000;
  CHECK(indexes(f).size() == 15);
}

TEST_CASE("audit: --since/--until times, as ISO-8601, a date, a time ago or unix ms") {
  constexpr std::int64_t kNow = 1796542427298;  // 2026-12-06T07:33:47.298Z
  struct TimeCase {
    const char* text;
    std::int64_t want;  // 0: refused
  };
  const TimeCase cases[] = {
      {"2026-12-06T10:00:00Z", 1796551200000},
      {"2026-12-06T10:00:00.250Z", 1796551200250},
      {"2026-12-06", 1796515200000},
      {"30s", kNow - 30000},
      {"10m", kNow - 600000},
      {"2h", kNow - 7200000},
      {"3d", kNow - 259200000},
      {"0m", kNow},
      {"1796542427298", 1796542427298},
      {"", 0},
      {"yesterday", 0},
      {"10", 10},
      {"10x", 0},
      {"-5m", 0},
      {"m", 0},
      {"5 m", 0},
      {"99999999999d", 0},
      {"2026-02-30", 0},
      {"2026-12-06T10:00:00", 0},
      {"2026-12-06T10:00:00+01:00", 0},
      {"0", 0},
      {"99999999999999999999", 0},
  };
  for (const TimeCase& c : cases) {
    CAPTURE(c.text);
    auto got = parse_time_bound(c.text, kNow);
    if (c.want == 0) {
      REQUIRE_FALSE(got);
      CHECK(got.code() == Code::INVALID_FIELD);
      CHECK(got.status().reasons().front().message.rfind("'" + std::string(c.text) + "' is not a time: give ", 0) == 0);
    } else {
      REQUIRE(got);
      CHECK(*got == c.want);
    }
  }
}

}  // namespace
}  // namespace tearline::audit
