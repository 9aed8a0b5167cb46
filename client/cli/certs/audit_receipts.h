// The delivery receipts a broker keeps in its audit log, read back for
// `tearline audit receipts` and `tearline audit verify --pki`. The broker
// writes one entry per ACK: event "receipt", node = the signer, decision
// "received", detail = hex of the serialized DeliveryReceipt
// (receipt/delivery.h). Each is checked offline with the same lib calls the
// broker uses: receipt::parse_delivery, then receipt::verify_delivery with
// the revocation rule at the entry's recorded time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "base/result.h"
#include "identity/directory.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::cli {

inline constexpr std::string_view kReceiptEvent = "receipt";

struct ReceiptEntry {
  const audit::AuditEntry* entry = nullptr;              // not owned
  std::optional<tearline::v1::DeliveryReceipt> receipt;  // nullopt: the detail is not a receipt
  Status verification;  // OK when it verifies; RECEIPT_INVALID with every reason otherwise
};

// Parses and verifies one "receipt" entry: RECEIPT_INVALID when its detail is
// not hex of a well-formed receipt, when the receipt's node is not the
// entry's node, or when verify_delivery refuses it at entry.time_ms.
ReceiptEntry check_receipt_entry(const audit::AuditEntry& entry, const identity::Directory& directory);

// The directory of the PKI folder `pki` (PKI/directory), as of now; exit 2
// (CommandExit, "<command>: " and the reason) when it does not load.
identity::DirectoryPtr directory_or_exit(std::string_view command, const std::string& pki);
// "valid", or "invalid: CODE message; CODE message".
std::string verification_text(const Status& status);

}  // namespace tearline::cli
