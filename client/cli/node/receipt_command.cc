// `tearline receipt verify`: offline, the answer to "did the broker accept
// this report, and when?". Checks a saved report (publish --save FILE) and
// its acceptance receipt (FILE.receipt) against a directory: first the
// receipt (receipt::verify_acceptance over receipt::report_digest of the
// report), then the report itself with the revocation rule applied at the
// receipt's acceptance time (report::verify_report, VerifyOptions.accepted_ms):
// a report of an originator revoked COMPROMISED after that time still stands.
//
// Exit 0 VALID, 1 REFUSED (RECEIPT_INVALID, ORIGINATOR_COMPROMISED, any
// verification code; the code and every reason on stdout), 2 bad input
// (unreadable files, bytes that are not a report, a bad directory).
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "base/files.h"
#include "base/time_format.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "receipt/acceptance.h"
#include "report/verify.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kReceiptCommand = "receipt verify";
constexpr std::size_t kMaxReceiptReportBytes = 64u << 20;  // what the client library accepts in a DELIVER
constexpr std::size_t kMaxReceiptBytes = 64u << 10;        // a receipt: a path of at most 16 hashes and one signature

struct ReceiptOptions {
  std::string report_file, receipt_file, pki = "certs/demo", directory;
  bool json = false;
};

[[noreturn]] void fail_receipt(int code, const std::string& what, const Status& status) {
  throw CommandExit(code, one_line(std::string(kReceiptCommand) + ": " + what + ": " + status.to_string()));
}

struct Checked {
  std::string report_id, originator;
  std::optional<receipt::Acceptance> acceptance;  // the receipt verified
  tearline::v1::AcceptanceReceipt parsed;         // what it says, verified or not (for display)
  Status status;                                  // OK: VALID
};

void print(const Checked& c, bool json) {
  const auto& r = c.parsed;
  const std::uint64_t seq = c.acceptance ? c.acceptance->seq : r.first_seq() + r.leaf_index();
  if (json) {
    tearline::v1::CliReceiptVerdict v;
    v.set_verdict(c.status ? "VALID" : "REFUSED");
    v.set_report_id(c.report_id);
    v.set_originator(c.originator);
    v.set_broker_id(r.broker_id());
    v.set_broker_seq(seq);
    v.set_accepted_ms(r.accepted_ms());
    v.set_accepted_at(r.accepted_ms() != 0 ? format_utc_ms(r.accepted_ms()) : "");
    v.set_receipt_valid(c.acceptance.has_value());
    if (!c.status) {
      v.set_code(std::string(code_name(c.status.code())));
      for (const Reason& reason : c.status.reasons()) {
        auto* p = v.add_reasons();
        p->set_code(static_cast<std::uint32_t>(reason.code));
        p->set_name(std::string(code_name(reason.code)));
        p->set_message(reason.message);
      }
    }
    std::cout << to_json(v) << "\n";
    return;
  }
  if (c.status) {
    std::cout << "VALID report=" << c.report_id << " originator=" << c.originator << "\n";
  } else {
    std::cout << "REFUSED " << code_name(c.status.code()) << " report=" << c.report_id << " originator=" << c.originator
              << "\n";
    print_reasons(std::cout, c.status);
  }
  std::cout << "  receipt:  " << (c.acceptance ? "verifies" : "does NOT verify") << "\n";
  if (!r.broker_id().empty() || r.accepted_ms() != 0) {
    std::cout << "  broker:   " << printable(r.broker_id()) << "\n"
              << "  seq:      " << seq << "\n"
              << "  accepted: " << format_utc_ms(r.accepted_ms()) << " (the broker's clock, as the receipt states)\n";
  }
}

int run_verify(const ReceiptOptions& o) {
  const std::string receipt_file = o.receipt_file.empty() ? o.report_file + ".receipt" : o.receipt_file;
  auto bytes = read_file(o.report_file, kMaxReceiptReportBytes);
  if (!bytes) fail_receipt(kExitUsage, "--report", bytes.status());
  auto structure = report::parse_report_structure(*bytes);
  if (!structure) fail_receipt(kExitUsage, "--report " + o.report_file + " is not a report", structure.status());
  auto receipt_bytes = read_file(receipt_file, kMaxReceiptBytes);
  if (!receipt_bytes) {
    fail_receipt(kExitUsage, "--receipt (publish --save FILE writes FILE.receipt)", receipt_bytes.status());
  }
  const std::filesystem::path dir_path =
      o.directory.empty() ? std::filesystem::path(o.pki) / "directory" : std::filesystem::path(o.directory);
  const identity::DirectoryPtr dir = load_directory_or_exit(dir_path);

  Checked c;
  c.report_id = structure->report_id_hex();
  c.originator = printable(structure->header.originator());
  if (auto parsed = receipt::parse_acceptance(*receipt_bytes)) c.parsed = std::move(parsed).value();
  auto acceptance = receipt::verify_acceptance(*receipt_bytes, receipt::report_digest(structure->report), *dir);
  if (!acceptance) {
    c.status = acceptance.status();
  } else {
    c.acceptance = *acceptance;
    report::VerifyOptions options;
    options.accepted_ms = acceptance->accepted_ms;
    auto verified = report::verify_report(*bytes, *dir, options);
    if (!verified) c.status = verified.status();
  }
  print(c, o.json);
  return c.status ? kExitOk : kExitFailure;
}

}  // namespace

void add_receipt_command(CLI::App& app) {
  CLI::App* receipt = app.add_subcommand("receipt", "Check the broker's acceptance receipts of saved reports");
  receipt->require_subcommand(1);
  auto o = std::make_shared<ReceiptOptions>();
  CLI::App* cmd = receipt->add_subcommand(
      "verify",
      "Offline: check a saved report's acceptance receipt (publish --save FILE writes FILE.receipt) against the "
      "directory, then the report with the revocation rule at the receipt's time; print the broker, seq, acceptance "
      "time and verdict. Exit 0 valid, 1 refused (RECEIPT_INVALID, ORIGINATOR_COMPROMISED, ...), 2 bad input");
  cmd->add_option("--report", o->report_file, "The report's bytes (publish --save FILE)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--receipt", o->receipt_file, "The serialized AcceptanceReceipt (default: REPORT.receipt)")
      ->type_name("FILE");
  auto* pki =
      cmd->add_option("--pki", o->pki, "PKI folder made by `tearline certs` (default certs/demo)")->type_name("DIR");
  cmd->add_option("--directory", o->directory, "Directory folder (instead of PKI/directory)")
      ->type_name("DIR")
      ->excludes(pki);
  cmd->add_flag("--json", o->json, "Print the verdict as one JSON object (proto/tearline/v1/cli.proto)");
  cmd->callback([o] {
    const int code = run_verify(*o);
    if (code != kExitOk) throw CommandExit(code, "");
  });
}

}  // namespace tearline::cli
