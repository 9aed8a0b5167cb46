#include "policy/label.h"

#include <algorithm>

#include "base/canonical_proto.h"
#include "identity/countries.h"

namespace tearline::policy {
namespace v1 = tearline::v1;

namespace {

void sort_unique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

bool sorted_unique(const std::vector<std::string>& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (!(v[i - 1] < v[i])) return false;
  }
  return true;
}

}  // namespace

Label normalized(Label label) {
  sort_unique(&label.releasable_to);
  sort_unique(&label.units);
  return label;
}

Status validate_label(const Label& label) {
  Status s;
  if (label.classification < v1::UNCLASSIFIED || label.classification > v1::TOP_SECRET) {
    s.add(Code::LABEL_INVALID, "classification is unset or unknown; a label must name one");
  }
  for (const auto& c : label.releasable_to) {
    if (!identity::is_known_country(c)) {
      s.add(Code::LABEL_INVALID, "releasable-to '" + c + "' is not an upper-case ISO 3166-1 alpha-3 code");
    }
  }
  if (!sorted_unique(label.releasable_to))
    s.add(Code::LABEL_INVALID, "releasable-to must be sorted without duplicates");
  for (const auto& u : label.units) {
    if (!identity::is_valid_id(u)) s.add(Code::LABEL_INVALID, "unit '" + u + "' is not a valid id");
  }
  if (!sorted_unique(label.units)) s.add(Code::LABEL_INVALID, "units must be sorted without duplicates");
  return s;
}

std::vector<std::string> effective_releasable_to(const Label& label, const std::string& originator_country) {
  if (label.releasable_to.empty()) return {originator_country};
  return label.releasable_to;
}

Bytes encode_label(const Label& label) {
  v1::Label p;
  p.set_classification(label.classification);
  for (const auto& c : label.releasable_to) p.add_releasable_to(c);
  for (const auto& u : label.units) p.add_units(u);
  p.set_orcon(label.orcon);
  return serialize_canonical(p);
}

Result<Label> decode_label(ByteView bytes) {
  v1::Label p;
  Status s = parse_canonical(bytes, &p, "label");
  if (!s) return s;
  Label label;
  label.classification = p.classification();
  label.releasable_to.assign(p.releasable_to().begin(), p.releasable_to().end());
  label.units.assign(p.units().begin(), p.units().end());
  label.orcon = p.orcon();
  s = validate_label(label);
  if (!s) return s;
  return label;
}

std::string describe(const Label& label) {
  std::string out(identity::classification_name(label.classification));
  out += " REL ";
  if (label.releasable_to.empty()) {
    out += "(originator)";
  } else {
    for (std::size_t i = 0; i < label.releasable_to.size(); ++i) out += (i ? "," : "") + label.releasable_to[i];
  }
  if (!label.units.empty()) {
    out += " UNITS ";
    for (std::size_t i = 0; i < label.units.size(); ++i) out += (i ? "," : "") + label.units[i];
  }
  if (label.orcon) out += " ORCON";
  return out;
}

}  // namespace tearline::policy
