// Section labels: classification, releasable-to countries, need-to-know units
// and originator control (docs/policy.md, "Labels").
//
// A Label is valid when its classification is set (the zero value is never
// read as the lowest), its countries are known ISO 3166-1 alpha-3 codes in
// upper case, and both lists are sorted without duplicates (so that a label
// has exactly one encoding). An empty releasable-to means "the originator's
// country only"; an empty unit list means "no unit restriction".
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "identity/objects.h"
#include "tearline/v1/report.pb.h"

namespace tearline::policy {

using identity::Classification;

struct Label {
  Classification classification = tearline::v1::CLASSIFICATION_UNSET;
  std::vector<std::string> releasable_to;  // sorted, unique
  std::vector<std::string> units;          // sorted, unique
  bool orcon = false;

  bool operator==(const Label&) const = default;
};

// Sorts and de-duplicates both lists (what a user typing a label means).
Label normalized(Label label);

// OK or every LABEL_INVALID reason.
Status validate_label(const Label& label);

// The countries the label releases to, with the empty set read as
// {originator_country}.
std::vector<std::string> effective_releasable_to(const Label& label, const std::string& originator_country);

// The label's canonical protobuf bytes (tearline.v1.Label, deterministic).
Bytes encode_label(const Label& label);
// Strict: BAD_ENCODING when not canonical, LABEL_INVALID when not valid.
Result<Label> decode_label(ByteView bytes);

// "SECRET REL COL,USA UNITS cucuta-jtf ORCON"-style one-line rendering.
std::string describe(const Label& label);

}  // namespace tearline::policy
