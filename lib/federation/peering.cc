#include "federation/peering.h"

#include <algorithm>
#include <set>

#include "base/canonical_proto.h"
#include "crypto/key_checks.h"
#include "crypto/signing.h"
#include "identity/countries.h"
#include "identity/signed_object.h"
#include "policy/topic.h"

namespace tearline::federation {
namespace v1 = tearline::v1;

namespace {

Status read_party(const v1::PeeringParty& in, std::string_view which, PeeringParty* out) {
  Status s;
  const std::string what = "peering: " + std::string(which) + " party";
  if (!identity::is_valid_id(in.agency())) s.add(Code::INVALID_FIELD, what + ": agency is not a valid id");
  if (!identity::is_valid_id(in.broker_id())) s.add(Code::INVALID_FIELD, what + ": broker_id is not a valid id");
  auto sk = crypto::VerifyKey::from(as_bytes(in.signing_key()), what + " signing_key");
  auto tk = crypto::TransportPublicKey::from(as_bytes(in.transport_key()), what + " transport_key");
  if (!sk) s.merge(sk.status());
  if (!tk) s.merge(tk.status());
  if (!s) return s;
  s.merge(crypto::check_verify_key(*sk, what + ": signing_key"));
  s.merge(crypto::check_transport_key(*tk, what + ": transport_key"));
  if (!s) return s;
  *out = PeeringParty{in.agency(), in.broker_id(), *sk, *tk};
  return s;
}

Status read_direction(const v1::PeeringDirection& in, std::string_view which, PeeringDirection* out) {
  Status s;
  const std::string what = "peering: " + std::string(which);
  std::set<std::string> topics;
  for (const auto& t : in.topics()) {
    if (Status p = policy::validate_pattern(t); !p) {
      s.add(Code::INVALID_FIELD, what + ": topic pattern '" + t + "' is not valid (docs/policy.md, \"Topics\")");
    } else if (!topics.insert(t).second) {
      s.add(Code::INVALID_FIELD, what + ": topic pattern " + t + " is listed twice");
    }
  }
  if (in.ceiling() < v1::UNCLASSIFIED || in.ceiling() > v1::TOP_SECRET) {
    s.add(Code::INVALID_FIELD, what + ": ceiling is unset or unknown");
  }
  std::set<std::string> countries;
  for (const auto& c : in.releasable_to()) {
    if (!identity::is_known_country(c)) {
      s.add(Code::INVALID_FIELD, what + ": releasable_to '" + c + "' is not an ISO 3166-1 alpha-3 code");
    } else if (!countries.insert(c).second) {
      s.add(Code::INVALID_FIELD, what + ": releasable_to " + c + " is listed twice");
    }
  }
  if (!s) return s;
  out->topics.assign(in.topics().begin(), in.topics().end());
  out->ceiling = in.ceiling();
  out->releasable_to.assign(countries.begin(), countries.end());
  out->transit = in.transit();
  return s;
}

// The ways `narrow` is wider than `base`, one direction, added to `s`.
void widenings(const PeeringDirection& narrow, const PeeringDirection& base, const std::string& which, Status* s) {
  for (const auto& t : narrow.topics) {
    const bool covered = std::any_of(base.topics.begin(), base.topics.end(),
                                     [&](const std::string& b) { return policy::pattern_covers(b, t); });
    if (!covered) s->add(Code::PEERING_WIDENED, which + ": topic " + t + " is not within the topics in effect");
  }
  if (narrow.ceiling > base.ceiling) {
    s->add(Code::PEERING_WIDENED, which + ": ceiling " + std::string(identity::classification_name(narrow.ceiling)) +
                                      " is above " + std::string(identity::classification_name(base.ceiling)));
  }
  for (const auto& c : base.releasable_to) {
    if (!std::binary_search(narrow.releasable_to.begin(), narrow.releasable_to.end(), c)) {
      s->add(Code::PEERING_WIDENED, which + ": a crossing section need no longer be releasable to " + c);
    }
  }
  if (narrow.transit && !base.transit) s->add(Code::PEERING_WIDENED, which + ": allows transit, which was not");
}

}  // namespace

bool PeeringParty::operator==(const PeeringParty& o) const {
  return agency == o.agency && broker_id == o.broker_id && signing_key.bytes == o.signing_key.bytes &&
         transport_key.bytes == o.transport_key.bytes;
}

Status Peering::narrows(const Peering& base) const {
  Status s;
  const std::string what = "peering " + peering_id + " v" + std::to_string(version);
  if (peering_id != base.peering_id) s.add(Code::PEERING_WIDENED, what + ": another peering than " + base.peering_id);
  if (!(first == base.first) || !(second == base.second)) {
    s.add(Code::PEERING_WIDENED,
          what + ": its parties (agency, broker or keys) differ from v" + std::to_string(base.version) + "'s");
  }
  widenings(first_to_second, base.first_to_second, what + ", " + first.agency + " to " + second.agency, &s);
  widenings(second_to_first, base.second_to_first, what + ", " + second.agency + " to " + first.agency, &s);
  if (not_before < base.not_before || not_after > base.not_after) {
    s.add(Code::PEERING_WIDENED, what + ": its validity is not within v" + std::to_string(base.version) + "'s");
  }
  return s;
}

v1::SignedObject new_peering(const v1::PeeringBody& body) { return identity::signed_body(body); }

void cosign_peering(v1::SignedObject* peering, const identity::Authority& signer, const crypto::SigningKey& key) {
  identity::put_signature(peering, signer, key, crypto::tags::kPeering);
}

Result<Peering> verify_peering(ByteView bytes, const identity::AuthorityLookup& trust) {
  v1::SignedObject obj;
  v1::PeeringBody body;
  Status s = identity::open_envelope(bytes, "peering", &obj, &body);
  if (!s) return s;
  Peering p;
  p.peering_id = body.peering_id();
  p.version = body.version();
  p.not_before = body.not_before();
  p.not_after = body.not_after();
  s.merge(identity::check_version(body.format_version(), "peering"));
  if (!identity::is_valid_id(p.peering_id)) s.add(Code::INVALID_FIELD, "peering: peering_id is not a valid id");
  if (p.version == 0) s.add(Code::INVALID_FIELD, "peering: version must be > 0");
  s.merge(identity::check_window(p.not_before, p.not_after, "peering"));
  s.merge(read_party(body.first(), "first", &p.first));
  s.merge(read_party(body.second(), "second", &p.second));
  if (body.first().agency() == body.second().agency()) {
    s.add(Code::INVALID_FIELD, "peering: its two parties are one agency, " + body.first().agency());
  }
  const std::string first = body.first().agency(), second = body.second().agency();
  s.merge(read_direction(body.first_to_second(), first + " to " + second, &p.first_to_second));
  s.merge(read_direction(body.second_to_first(), second + " to " + first, &p.second_to_first));
  if (!s) return s;

  const std::string what = "peering " + p.peering_id + " v" + std::to_string(p.version);
  std::set<std::string> signed_by;
  for (const auto& sig : obj.signatures()) {
    if (sig.agency() != first && sig.agency() != second) {
      s.add(Code::WRONG_AUTHORITY, what + ": " + sig.agency() + " is not one of its two agencies");
      continue;
    }
    s.merge(identity::check_signature(obj, sig, trust, crypto::tags::kPeering, what));
    if (!signed_by.insert(sig.agency()).second) s.add(Code::BAD_ENCODING, what + ": " + sig.agency() + " signed twice");
  }
  if (!s) return s;
  if (signed_by.empty()) return Status::fail(Code::MISSING_CONSENT, what + " is signed by neither of its agencies");
  p.signed_by.assign(signed_by.begin(), signed_by.end());
  return p;
}

Result<Peering> effective_peering(std::vector<Peering> versions, std::uint64_t revoked_up_to) {
  std::sort(versions.begin(), versions.end(), [](const Peering& a, const Peering& b) { return a.version < b.version; });
  std::optional<Peering> current;
  Status why;
  for (auto& v : versions) {
    const std::string what = "v" + std::to_string(v.version);
    if (v.version <= revoked_up_to) {
      why.add(Code::NO_PEERING, what + " is revoked (every version up to v" + std::to_string(revoked_up_to) + ")");
      continue;
    }
    if (current && v.version == current->version) {
      why.add(Code::DUPLICATE_OBJECT, what + " is there twice; the first one judged stands");
      continue;
    }
    if (v.signed_by_both()) {
      current = std::move(v);
      continue;
    }
    const std::string alone = what + ", signed by " + v.signed_by.front() + " alone, ";
    if (!current) {
      why.add(Code::NO_PEERING, alone + "has no version in effect to narrow: it needs both agencies' signatures");
      continue;
    }
    if (Status narrower = v.narrows(*current); !narrower) {
      why.add(Code::PEERING_WIDENED,
              alone + "does not narrow v" + std::to_string(current->version) + ": " + narrower.to_string());
      continue;
    }
    current = std::move(v);
  }
  if (current) return *current;
  Status none = Status::fail(Code::NO_PEERING, "no version of the peering is in effect");
  none.merge(why);
  return none;
}

}  // namespace tearline::federation
