#include "cli/certs/certs_json.h"

#include <algorithm>
#include <vector>

#include "base/time_format.h"
#include "cli/common/print.h"
#include "crypto/keys.h"

namespace tearline::cli::certs {

namespace v1 = tearline::v1;

v1::CliCredential credential_message(const identity::Credential& c) {
  v1::CliCredential out;
  out.set_node_id(c.node_id);
  out.set_agency(c.agency);
  out.set_country(c.country);
  out.set_clearance(c.clearance);
  for (const auto& r : c.roles) out.add_roles(r);
  out.set_serial(c.serial);
  out.set_not_before(c.not_before);
  out.set_not_before_at(format_utc_seconds(c.not_before));
  out.set_not_after(c.not_after);
  out.set_not_after_at(format_utc_seconds(c.not_after));
  out.set_signing_key(to_hex(c.signing_key.view()));
  out.set_sealing_key(to_hex(c.sealing_key.view()));
  out.set_transport_key(crypto::to_z85(c.transport_key));
  return out;
}

v1::CliCharter charter_message(const identity::Charter& c, const std::set<std::string>& signed_by) {
  v1::CliCharter out;
  out.set_unit_id(c.unit_id);
  out.set_version(c.version);
  out.set_host_agency(c.host_agency);
  for (const auto& m : c.members) {
    auto* member = out.add_members();
    member->set_node_id(m.node_id);
    member->set_agency(m.agency);
  }
  out.set_not_before(c.not_before);
  out.set_not_before_at(format_utc_seconds(c.not_before));
  out.set_not_after(c.not_after);
  out.set_not_after_at(format_utc_seconds(c.not_after));
  for (const auto& a : c.required_signers()) {
    out.add_required_signers(a);
    if (signed_by.count(a) == 0) out.add_missing(a);
  }
  for (const auto& a : signed_by) out.add_signed_by(a);
  return out;
}

v1::CliRevocationList revocation_list_message(const identity::RevocationList& list) {
  v1::CliRevocationList out;
  out.set_agency(list.agency);
  out.set_number(list.number);
  out.set_issued_at(list.issued_at);
  out.set_issued_at_text(list.issued_at == 0 ? "" : format_utc_seconds(list.issued_at));
  for (const auto& [serial, why] : list.revoked) {
    auto* r = out.add_revoked_credentials();
    r->set_serial(serial);
    r->set_reason(std::string(identity::revocation_reason_name(why.reason)));
    if (why.reason == identity::RevocationReason::kCompromised) {
      r->set_compromised_at(why.compromised_at);
      r->set_compromised_at_text(format_utc_seconds(why.compromised_at));
    }
  }
  for (const auto& [unit, version] : list.revoked_charters) {
    auto* rc = out.add_revoked_charters();
    rc->set_unit_id(unit);
    rc->set_version(version);
  }
  for (const auto& [id, up_to] : list.revoked_peerings) {
    auto* rp = out.add_revoked_peerings();
    rp->set_peering_id(id);
    rp->set_version(up_to);
  }
  return out;
}

void add_reasons(const Status& status, google::protobuf::RepeatedPtrField<v1::Reason>* out) {
  for (const Reason& r : status.reasons()) {
    auto* p = out->Add();
    p->set_code(static_cast<std::uint32_t>(r.code));
    p->set_name(std::string(code_name(r.code)));
    p->set_message(r.message);
  }
}

std::string reasons_text(const Status& status) {
  std::vector<std::string> parts;
  parts.reserve(status.reasons().size());
  for (const Reason& r : status.reasons()) parts.push_back(std::string(code_name(r.code)) + ": " + r.message);
  return one_line(join(parts, "; "));
}

}  // namespace tearline::cli::certs
