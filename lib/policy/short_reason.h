// Short words for denial codes, for table cells where a whole reason does
// not fit ("withheld: COUNTRY", "revoked"). Pure.
//
// The words are the demo's vocabulary (docs/policy.md names the codes): the
// label rules give CLEARANCE, COUNTRY, UNIT and LABEL; the topic policy gives
// TOPIC (and UNIT for a unit topic); the credential gives REVOKED, EXPIRED,
// NOT_YET_VALID or UNKNOWN_NODE. Any other code is its own name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/codes.h"
#include "base/result.h"

namespace tearline::policy {

// "CLEARANCE" for CLEARANCE_BELOW, "COUNTRY" for COUNTRY_NOT_RELEASABLE, ...;
// code_name(code) for a code with no shorter word.
std::string_view short_reason(Code code);

// True for the words of the codes that refuse the node itself rather than a
// section (REVOKED, EXPIRED, NOT_YET_VALID, UNKNOWN_NODE): when one applies,
// nothing else matters.
bool is_credential_word(std::string_view word);

// One word per reason of `denials`, in order of the reasons, each word once
// (a unit label and a unit topic both say NOT_UNIT_MEMBER: one "UNIT").
// Empty for OK.
std::vector<std::string> short_reasons(const Status& denials);

}  // namespace tearline::policy
