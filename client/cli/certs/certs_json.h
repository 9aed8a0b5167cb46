// The identity objects as the messages of proto/tearline/v1/cli_admin.proto,
// for `certs show --json` and `certs inspect` (whose text output prints the
// same messages' fields). Pure conversions; never a secret key.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <set>
#include <string>

#include "base/result.h"
#include "identity/objects.h"
#include "tearline/v1/cli_admin.pb.h"

namespace tearline::cli::certs {

tearline::v1::CliCredential credential_message(const identity::Credential& credential);
// `signed_by`: the agencies whose signatures the charter's file carries.
tearline::v1::CliCharter charter_message(const identity::Charter& charter, const std::set<std::string>& signed_by);
tearline::v1::CliRevocationList revocation_list_message(const identity::RevocationList& list);

// Appends one Reason per reason of `status` (none when it is OK).
void add_reasons(const Status& status, google::protobuf::RepeatedPtrField<tearline::v1::Reason>* out);
// "CODE: message; CODE: message" (one line).
std::string reasons_text(const Status& status);

}  // namespace tearline::cli::certs
