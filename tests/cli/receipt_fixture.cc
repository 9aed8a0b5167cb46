// receipt_fixture: writes the receipts the CLI tests check, with the lib/
// calls the broker and the client library use, so that `tearline receipt
// verify`, `audit receipts` and `audit verify --pki` are tested on files of
// the exact formats without a broker that signs them.
//
//   receipt_fixture report PKI NODE CREATED_MS OUT
//     a report by NODE (one UNCLASSIFIED section releasable to COL, MEX and
//     USA, topic intel.receipts) as the reference client builds it
//   receipt_fixture accept PKI BROKER_ID REPORT_FILE SEQ ACCEPTED_MS OUT
//     the broker's acceptance receipt of the report (one leaf), signed with
//     PKI/keys/broker.key's audit key, written raw to OUT
//   receipt_fixture audit-db PKI BROKER_ID DB REPORT_FILE SEQ SIGNER...
//     a broker database whose audit log holds a "publish" entry, then one
//     "receipt" entry per SIGNER (a node id: its delivery receipt of the
//     report with every section, signed with its key; "forged:NODE": the
//     same receipt signed with a key that is not NODE's), then a signed
//     checkpoint over the whole chain
//   receipt_fixture audit-append DB TIME_MS EVENT NODE DECISION DETAIL
//     appends one entry, chained after the log's last (creates the tables
//     when missing), as the broker appends while `audit show --follow` reads
//
// Exit 0 on success, 2 with one line on stderr otherwise.
#include <sqlite3.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/clock.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "identity/pki.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "report/builder.h"
#include "report/verify.h"

namespace {

using namespace tearline;

int die(const std::string& message) {
  std::fprintf(stderr, "receipt_fixture: %s\n", message.c_str());
  return 2;
}

bool number(std::string_view text, std::int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

int build(const std::vector<std::string>& a) {
  if (a.size() != 4) return die("report PKI NODE CREATED_MS OUT");
  const identity::PkiPaths pki(a[0]);
  std::int64_t created_ms = 0;
  if (!number(a[2], &created_ms)) return die("CREATED_MS is a number");
  auto dir = identity::Directory::load(pki.directory(), created_ms / 1000, nullptr);
  if (!dir) return die(dir.status().to_string());
  auto secrets = crypto::read_node_keys(pki.node_key(a[1]));
  if (!secrets) return die(secrets.status().to_string());
  report::ReportDraft draft;
  draft.topic = "intel.receipts";
  draft.created_at_ms = created_ms;
  draft.sequence = static_cast<std::uint64_t>(created_ms) * 1000;
  draft.sections.push_back(
      {policy::Label{tearline::v1::UNCLASSIFIED, {"COL", "MEX", "USA"}, {}, false}, to_bytes("receipt fixture")});
  auto built = report::build_report(draft, a[1], secrets->signing, **dir);
  if (!built) return die(built.status().to_string());
  Status written = write_file_atomic(a[3], built->bytes, 0600);
  return written ? 0 : die(written.to_string());
}

int accept(const std::vector<std::string>& a) {
  if (a.size() != 6) return die("accept PKI BROKER_ID REPORT_FILE SEQ ACCEPTED_MS OUT");
  const identity::PkiPaths pki(a[0]);
  std::int64_t seq = 0, accepted_ms = 0;
  if (!number(a[3], &seq) || !number(a[4], &accepted_ms)) return die("SEQ and ACCEPTED_MS are numbers");
  auto keys = crypto::read_broker_keys(pki.broker_key());
  if (!keys) return die(keys.status().to_string());
  auto bytes = read_file(a[2]);
  if (!bytes) return die(bytes.status().to_string());
  auto parsed = report::parse_report_structure(*bytes);
  if (!parsed) return die(parsed.status().to_string());
  const auto receipts = receipt::sign_acceptance(a[1], keys->audit, static_cast<std::uint64_t>(seq),
                                                 {receipt::report_digest(parsed->report)}, accepted_ms);
  Status written = write_file_atomic(a[5], receipts.front(), 0600);
  return written ? 0 : die(written.to_string());
}

int audit_db(const std::vector<std::string>& a) {
  if (a.size() < 6) return die("audit-db PKI BROKER_ID DB REPORT_FILE SEQ SIGNER...");
  const identity::PkiPaths pki(a[0]);
  std::int64_t seq = 0;
  if (!number(a[4], &seq)) return die("SEQ is a number");
  auto keys = crypto::read_broker_keys(pki.broker_key());
  if (!keys) return die(keys.status().to_string());
  auto bytes = read_file(a[3]);
  if (!bytes) return die(bytes.status().to_string());
  auto parsed = report::parse_report_structure(*bytes);
  if (!parsed) return die(parsed.status().to_string());
  receipt::DeliveredCopy copy;
  copy.broker_seq = static_cast<std::uint64_t>(seq);
  copy.copy_hash = receipt::copy_hash(*bytes);
  Bytes id;
  if (!from_hex(parsed->report_id_hex(), &id)) return die("the report id is not hex");
  copy.report_id = to_string(id);
  for (std::uint32_t i = 0; i < parsed->sections.size(); ++i) {
    if (parsed->sections[i].present) copy.sections.push_back(i);
  }

  const std::int64_t now = SystemClock::instance().now_ms();
  audit::ChainWriter chain;
  std::vector<audit::AuditEntry> entries;
  entries.reserve(a.size() - 4);
  entries.push_back(chain.append(now - 1000, "publish", parsed->header.originator(), parsed->report_id_hex(),
                                 "accepted", "seq=" + std::to_string(seq)));
  for (std::size_t i = 5; i < a.size(); ++i) {
    std::string node = a[i];
    const bool forged = node.rfind("forged:", 0) == 0;
    if (forged) node = node.substr(std::strlen("forged:"));
    auto secrets = crypto::read_node_keys(pki.node_key(node));
    if (!secrets) return die(secrets.status().to_string());
    const crypto::SigningKey other = crypto::SigningKey::generate();
    const Bytes signed_receipt =
        receipt::sign_delivery(node, a[1], forged ? other : secrets->signing, now - 500, {copy});
    entries.push_back(chain.append(now, "receipt", node, parsed->report_id_hex(), "received", to_hex(signed_receipt)));
  }

  sqlite3* db = nullptr;
  if (sqlite3_open(a[2].c_str(), &db) != SQLITE_OK) return die("cannot open " + a[2]);
  Status s;
  if (sqlite3_exec(db, audit::kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    s = Status::fail(Code::IO_ERROR, sqlite3_errmsg(db));
  }
  if (s) s = audit::insert_entries(db, entries);
  if (s) s = audit::insert_checkpoint(db, audit::sign_checkpoint(entries.back(), now, keys->audit));
  sqlite3_close(db);
  return s ? 0 : die(s.to_string());
}

int audit_append(const std::vector<std::string>& a) {
  if (a.size() != 6) return die("audit-append DB TIME_MS EVENT NODE DECISION DETAIL");
  std::int64_t time_ms = 0;
  if (!number(a[1], &time_ms)) return die("TIME_MS is a number");
  sqlite3* db = nullptr;
  if (sqlite3_open(a[0].c_str(), &db) != SQLITE_OK) return die("cannot open " + a[0]);
  // As the broker's store: WAL, so that a reader (`audit show --follow`)
  // never blocks the writer, and a wait rather than an error when busy.
  sqlite3_busy_timeout(db, 5000);
  Status s;
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, audit::kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    s = Status::fail(Code::IO_ERROR, sqlite3_errmsg(db));
  }
  if (s) {
    auto last = audit::last_entry(db);
    if (!last) {
      s = last.status();
    } else {
      audit::ChainWriter chain(last->index, last->hash);
      s = audit::insert_entries(db, {chain.append(time_ms, a[2], a[3], "", a[4], a[5])});
    }
  }
  sqlite3_close(db);
  return s ? 0 : die(s.to_string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return die("report ... | accept ... | audit-db ... | audit-append ...");
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "report") return build(args);
  if (command == "accept") return accept(args);
  if (command == "audit-db") return audit_db(args);
  if (command == "audit-append") return audit_append(args);
  return die("unknown command " + command);
}
