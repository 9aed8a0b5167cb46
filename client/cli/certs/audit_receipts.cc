#include "cli/certs/audit_receipts.h"

#include <filesystem>
#include <string>

#include "base/bytes.h"
#include "base/clock.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "receipt/delivery.h"

namespace tearline::cli {

identity::DirectoryPtr directory_or_exit(std::string_view command, const std::string& pki) {
  const auto path = std::filesystem::path(pki) / "directory";
  auto dir = identity::Directory::load(path, SystemClock::instance().now_seconds(), nullptr);
  if (!dir) throw CommandExit(dir.status(), std::string(command) + ": ");
  return std::move(dir).value();
}

// "valid", or "invalid: CODE message; CODE message".
std::string verification_text(const Status& status) {
  if (status) return "valid";
  std::vector<std::string> reasons;
  reasons.reserve(status.reasons().size());
  for (const Reason& r : status.reasons()) reasons.push_back(std::string(code_name(r.code)) + " " + r.message);
  return one_line("invalid: " + join(reasons, "; "));
}

ReceiptEntry check_receipt_entry(const audit::AuditEntry& entry, const identity::Directory& directory) {
  ReceiptEntry out;
  out.entry = &entry;
  Bytes bytes;
  if (!from_hex(entry.detail, &bytes)) {
    out.verification = Status::fail(Code::RECEIPT_INVALID, "the entry's detail is not the hex of a receipt");
    return out;
  }
  auto parsed = receipt::parse_delivery(bytes);
  if (!parsed) {
    out.verification = parsed.status();
    return out;
  }
  out.receipt = std::move(parsed).value();
  if (out.receipt->node_id() != entry.node) {
    out.verification =
        Status::fail(Code::RECEIPT_INVALID,
                     "the entry names node " + entry.node + " but the receipt is signed as " + out.receipt->node_id());
    return out;
  }
  out.verification = receipt::verify_delivery(*out.receipt, directory, entry.time_ms);
  return out;
}

}  // namespace tearline::cli
