#include "cli/certs/audit_receipts.h"

#include <string>

#include "base/bytes.h"
#include "receipt/delivery.h"

namespace tearline::cli {

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
