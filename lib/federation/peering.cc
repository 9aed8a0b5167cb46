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

std::string party_name(std::string_view which) { return "peering: " + std::string(which) + " party"; }

// The fields of a party (INVALID_FIELD); its keys are judged after every
// field of the body passed (check_party_keys).
Status read_party(const v1::PeeringParty& in, std::string_view which, PeeringParty* out) {
  Status s;
  const std::string what = party_name(which);
  if (!identity::is_valid_id(in.agency())) s.add(Code::INVALID_FIELD, what + ": agency is not a valid id");
  if (!identity::is_valid_id(in.broker_id())) s.add(Code::INVALID_FIELD, what + ": broker_id is not a valid id");
  auto sk = crypto::VerifyKey::from(as_bytes(in.signing_key()), what + " signing_key");
  auto tk = crypto::TransportPublicKey::from(as_bytes(in.transport_key()), what + " transport_key");
  if (!sk) s.merge(sk.status());
  if (!tk) s.merge(tk.status());
  if (!s) return s;
  *out = PeeringParty{in.agency(), in.broker_id(), *sk, *tk};
  return s;
}

// Keys that cannot be right (crypto/key_checks.h): WEAK_KEY, each named.
Status check_party_keys(const PeeringParty& party, std::string_view which) {
  const std::string what = party_name(which);
  Status s;
  s.merge(crypto::check_verify_key(party.signing_key, what + ": signing_key"));
  s.merge(crypto::check_transport_key(party.transport_key, what + ": transport_key"));
  return s;
}

// Whether two versions say the same (signatures aside).
bool same_terms(const Peering& a, const Peering& b) {
  auto same_direction = [](const PeeringDirection& x, const PeeringDirection& y) {
    return x.topics == y.topics && x.ceiling == y.ceiling && x.releasable_to == y.releasable_to &&
           x.transit == y.transit;
  };
  return a.peering_id == b.peering_id && a.first == b.first && a.second == b.second &&
         same_direction(a.first_to_second, b.first_to_second) && same_direction(a.second_to_first, b.second_to_first) &&
         a.not_before == b.not_before && a.not_after == b.not_after;
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

Result<Peering> read_peering_body(const v1::PeeringBody& body) {
  Status s;
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
  s.merge(check_party_keys(p.first, "first"));
  s.merge(check_party_keys(p.second, "second"));
  if (!s) return s;
  return p;
}

Result<Peering> verify_peering(ByteView bytes, const identity::AuthorityLookup& trust) {
  v1::SignedObject obj;
  v1::PeeringBody body;
  Status s = identity::open_envelope(bytes, "peering", &obj, &body);
  if (!s) return s;
  auto read = read_peering_body(body);
  if (!read) return read.status();
  Peering p = std::move(read).value();
  const std::string first = p.first.agency, second = p.second.agency;
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
  // Not reached: an envelope without a signature, or with another agency's,
  // was refused above. Kept so that signed_by is never empty.
  if (signed_by.empty()) return Status::fail(Code::MISSING_CONSENT, what + " is signed by neither of its agencies");
  p.signed_by.assign(signed_by.begin(), signed_by.end());
  return p;
}

PeeringKey key_of(const Peering& p) {
  PeeringKey k{p.peering_id, {p.first.agency, p.second.agency}};
  std::sort(k.agencies.begin(), k.agencies.end());
  return k;
}

std::uint64_t revoked_up_to(const PeeringKey& key, const std::vector<const identity::RevocationList*>& lists) {
  std::uint64_t up_to = 0;
  for (const identity::RevocationList* list : lists) {
    if (list == nullptr || std::find(key.agencies.begin(), key.agencies.end(), list->agency) == key.agencies.end()) {
      continue;
    }
    if (auto it = list->revoked_peerings.find(key.peering_id); it != list->revoked_peerings.end()) {
      up_to = std::max(up_to, it->second);
    }
  }
  return up_to;
}

Result<Peering> effective_peering(std::vector<Peering> versions, const PeeringKey& key, std::uint64_t revoked_up_to,
                                  Status* passed_over) {
  Status why;
  // Only versions of this peering between these two agencies, grouped by
  // number; copies with the same terms count their signatures together.
  std::map<std::uint64_t, std::vector<Peering>> by_version;
  for (auto& v : versions) {
    if (!(key_of(v) == key)) {
      why.add(Code::WRONG_AUTHORITY, "v" + std::to_string(v.version) + " is peering " + v.peering_id + " between " +
                                         v.first.agency + " and " + v.second.agency + ", not " + key.peering_id +
                                         " between " + key.agencies[0] + " and " + key.agencies[1]);
      continue;
    }
    auto& copies = by_version[v.version];
    auto same = std::find_if(copies.begin(), copies.end(), [&](const Peering& c) { return same_terms(c, v); });
    if (same == copies.end()) {
      copies.push_back(std::move(v));
      continue;
    }
    same->signed_by.insert(same->signed_by.end(), v.signed_by.begin(), v.signed_by.end());
    std::sort(same->signed_by.begin(), same->signed_by.end());
    same->signed_by.erase(std::unique(same->signed_by.begin(), same->signed_by.end()), same->signed_by.end());
  }
  std::optional<Peering> current;
  for (auto& [version, copies] : by_version) {
    const std::string what = "v" + std::to_string(version);
    if (version <= revoked_up_to) {
      why.add(Code::NO_PEERING, what + " is revoked (every version up to v" + std::to_string(revoked_up_to) + ")");
      continue;
    }
    // Copies signed by both first, then those signed by one side alone,
    // which must narrow what is then in effect. Of several copies that
    // would take effect, the one that narrows every other does; when none
    // does, nothing does from this number on. So neither the copies' order
    // nor a party's conflicting copy can widen anything.
    std::vector<Peering*> both, alone;
    for (auto& c : copies) (c.signed_by_both() ? both : alone).push_back(&c);
    auto settle = [&](const std::vector<Peering*>& candidates) {
      if (candidates.empty()) return;
      auto narrowest = std::find_if(candidates.begin(), candidates.end(), [&](const Peering* c) {
        return std::all_of(candidates.begin(), candidates.end(),
                           [&](const Peering* o) { return o == c || c->narrows(*o).is_ok(); });
      });
      if (narrowest == candidates.end()) {
        why.add(Code::DUPLICATE_OBJECT, what +
                                            " exists with terms none of which is within all the others: the "
                                            "peering is suspended until a later version both agencies sign");
        current.reset();
        return;
      }
      current = **narrowest;
    };
    settle(both);
    std::vector<Peering*> narrowing;
    for (Peering* c : alone) {
      const std::string by =
          what + ", signed by " + (c->signed_by.empty() ? "nobody" : c->signed_by.front()) + " alone, ";
      if (!current) {
        why.add(Code::NO_PEERING, by + "has no version in effect to narrow: it needs both agencies' signatures");
      } else if (Status narrower = c->narrows(*current); !narrower) {
        why.add(Code::PEERING_WIDENED,
                by + "does not narrow v" + std::to_string(current->version) + ": " + narrower.to_string());
      } else {
        narrowing.push_back(c);
      }
    }
    settle(narrowing);
  }
  if (passed_over != nullptr) *passed_over = why;
  if (current) return *current;
  Status none = Status::fail(Code::NO_PEERING, "no version of peering " + key.peering_id + " is in effect");
  none.merge(why);
  return none;
}

}  // namespace tearline::federation
