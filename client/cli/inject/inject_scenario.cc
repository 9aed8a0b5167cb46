#include "cli/inject/inject_scenario.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "base/files.h"
#include "base/toml_reader.h"
#include "cli/node/report_spec.h"
#include "policy/decisions.h"

namespace tearline::cli::inject {
namespace {

const std::vector<FaultInfo> kFaults = {
    {Fault::kBadSignature, "bad_signature", FaultKind::kReport, "REPORT_SIGNATURE",
     "one bit of the report's signature flipped"},
    {Fault::kSignedByOtherNode, "signed_by_other_node", FaultKind::kReport, "REPORT_SIGNATURE",
     "the header names the sender but another node's key signed it"},
    {Fault::kOriginatorNotSender, "originator_not_sender", FaultKind::kReport, "ORIGINATOR_MISMATCH",
     "a report by another node, validly signed by it, sent on the sender's session"},
    {Fault::kReplayedId, "replayed_id", FaultKind::kReplay, "REPLAYED_REPORT",
     "the exact bytes of an earlier case sent again"},
    {Fault::kStaleTime, "stale_time", FaultKind::kReport, "STALE_REPORT", "created-at 10 minutes in the past"},
    {Fault::kFutureTime, "future_time", FaultKind::kReport, "FUTURE_REPORT", "created-at 10 minutes in the future"},
    {Fault::kSequenceBack, "sequence_back", FaultKind::kReport, "SEQUENCE_REGRESSION",
     "sequence one below the sender's last accepted report"},
    {Fault::kClassificationAboveClearance, "classification_above_clearance", FaultKind::kReport, "CLEARANCE_BELOW",
     "a section classified above the sender's clearance (as written)"},
    {Fault::kReleasableEscalation, "releasable_escalation", FaultKind::kReport, "ORIGINATOR_COUNTRY_MISSING",
     "releasable-to without the sender's country (as written)"},
    {Fault::kUnitNotMember, "unit_not_member", FaultKind::kReport, "UNIT_NOT_HELD",
     "a label unit, or a unit topic, of a unit the sender is not a member of (as written)"},
    {Fault::kOrconRedissemination, "orcon_redissemination", FaultKind::kReport, "ORCON_VIOLATION",
     "derived from an ORCON case by another agency (derive_from)"},
    {Fault::kLooserDerivedLabel, "looser_derived_label", FaultKind::kReport, "DERIVED_LABEL_LOOSER",
     "derived, with a label less restrictive than the source's (derive_from)"},
    {Fault::kTopicDenied, "topic_denied", FaultKind::kReport, "TOPIC_WRITE_DENIED",
     "a topic the broker's policy does not let the sender write (as written)"},
    {Fault::kOversizeFrame, "oversize_frame", FaultKind::kReport, "FRAME_TOO_LARGE",
     "the report padded to a ~1.4 MiB PUBLISH frame: above 1 MiB, below the transport limit"},
    {Fault::kTruncatedBytes, "truncated_bytes", FaultKind::kReport, "REPORT_MALFORMED",
     "PUBLISH of the report without its last 32 bytes"},
    {Fault::kGarbageFrame, "garbage_frame", FaultKind::kRawFrame, "MALFORMED_FRAME",
     "a frame of bytes that are not a tearline frame"},
    {Fault::kDuplicateHeaderField, "duplicate_header_field", FaultKind::kReport, "BAD_ENCODING",
     "a second originator field appended to the signed header, re-signed validly"},
    {Fault::kUnknownFields, "unknown_fields", FaultKind::kReport, "BAD_ENCODING",
     "an unknown field (15) appended to the signed header, re-signed validly"},
    {Fault::kUnknownReportField, "unknown_report_field", FaultKind::kReport, "REPORT_MALFORMED",
     "an unknown field (15) appended to the Report container, outside the signature"},
    {Fault::kBatchWrongLeafIndex, "batch_wrong_leaf_index", FaultKind::kReport, "REPORT_SIGNATURE",
     "the first report of a batch of 4 claiming leaf index 1 (a path of the same length)"},
    {Fault::kBatchSwappedSiblings, "batch_swapped_siblings", FaultKind::kReport, "REPORT_SIGNATURE",
     "the first report of a batch of 4 with its two path entries swapped"},
    {Fault::kBatchPathTruncated, "batch_path_truncated", FaultKind::kReport, "REPORT_MALFORMED",
     "the first report of a batch of 4 with the last entry of its path removed"},
    {Fault::kBatchForeignLeaf, "batch_foreign_leaf", FaultKind::kReport, "REPORT_SIGNATURE",
     "the first report of a batch of 4 carrying another batch's proof and signature"},
    {Fault::kRevokedNode, "revoked_node", FaultKind::kConnection, "HANDSHAKE_REFUSED",
     "the PKI revokes the sender, an admin reloads the broker, the sender connects (changes the PKI)"},
    {Fault::kUnknownTransportKey, "unknown_transport_key", FaultKind::kConnection, "HANDSHAKE_REFUSED",
     "the sender connects with a fresh transport key that no credential holds"},
    {Fault::kForgedAckReceipt, "forged_ack_receipt", FaultKind::kAck, "RECEIPT_INVALID",
     "the sender's ACK of the case's report carries its delivery receipt with one bit of the signature flipped"},
    {Fault::kAckReceiptOtherBroker, "ack_receipt_other_broker", FaultKind::kAck, "RECEIPT_INVALID",
     "the sender's ACK carries a delivery receipt, validly signed, naming another broker"},
    {Fault::kAckSignedByOtherNode, "ack_signed_by_other_node", FaultKind::kAck, "RECEIPT_INVALID",
     "the sender's ACK carries a delivery receipt naming the sender but signed with another node's key"},
    {Fault::kPartnerSubscribe, "partner_subscribe", FaultKind::kPartner, "PEERING_TOPIC",
     "the partner broker `as` subscribes to `topic`, a pattern outside what its peering lets cross towards it"},
    {Fault::kOneSidedPeering, "one_sided_peering", FaultKind::kPartner, "PEERING_TOPIC",
     "our authority alone signs a version of the peering with `as` that adds `topic` towards it, an admin reloads, "
     "`as` subscribes to `topic`: a widening one side signed takes no effect (changes the PKI)"},
    {Fault::kRevokedPeering, "revoked_peering", FaultKind::kPartner, "SESSION_REVOKED",
     "our authority revokes the peering with the partner broker `as`, an admin reloads: its link is closed (changes "
     "the PKI)"},
    {Fault::kPartnerCopy, "partner_copy", FaultKind::kFromPartner, "accepted",
     "the partner broker `as` (--serve) sends the report of `originator`, a node of its agency, with its own hop "
     "stamp: a copy the broker under test takes"},
    {Fault::kForgedHopStamp, "forged_hop_stamp", FaultKind::kFromPartner, "RECEIPT_INVALID",
     "as partner_copy, with one bit of the signature of `as`'s hop stamp (its acceptance receipt) flipped"},
    {Fault::kReplayedHopStamp, "replayed_hop_stamp", FaultKind::kFromPartner, "RECEIPT_INVALID",
     "as partner_copy, carrying the hop stamp `as` signed for the copy of an earlier case (replay_of; default: the "
     "last from the partner)"},
    {Fault::kLoopedCopy, "looped_copy", FaultKind::kFromPartner, "CROSSING_LOOP",
     "`originator`, a node of ours, publishes the report to the broker under test; `as` sends it back with that "
     "broker's hop stamp on its path, as a triangle of brokers would"},
    {Fault::kLinkCut, "link_cut", FaultKind::kFromPartner, "accepted",
     "as partner_copy, then `as` cuts the link at once (its socket closed, no BYE), binds again and sends what was "
     "not acknowledged to the next session: taken once"},
};

const std::set<std::string, std::less<>>& code_names() {
  static const std::set<std::string, std::less<>> names = [] {
    std::set<std::string, std::less<>> out;
#define TEARLINE_INJECT_CODE_NAME(name, number, text) out.insert(#name);
    TEARLINE_CODES(TEARLINE_INJECT_CODE_NAME)
#undef TEARLINE_INJECT_CODE_NAME
    out.erase("OK");
    return out;
  }();
  return names;
}

std::int64_t line_of(const toml::node& n) { return n.source().begin.line; }

// Problems are collected by a TomlReader (base/toml_reader.h): "<source>
// line N: <where>: <message>", reported in the order found.
using Problems = TomlReader;

// 1-based section numbers (1..64), sorted and unique.
std::optional<std::vector<std::uint32_t>> section_numbers(const toml::node& n, const std::string& what,
                                                          Problems& problems) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    problems.add(n, what + " must be a list of section numbers, e.g. [1, 2]");
    return std::nullopt;
  }
  std::vector<std::uint32_t> out;
  for (const auto& e : *a) {
    const auto i = e.is_integer() ? e.value<std::int64_t>() : std::nullopt;
    if (!i || *i < 1 || *i > 64) {
      problems.add(e, what + ": section numbers start at 1 (at most 64)");
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint32_t>(*i));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> strings_of(const toml::node* n, const std::string& what, Problems& problems) {
  std::vector<std::string> out;
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    problems.add(*n, what + " must be a list of strings");
    return out;
  }
  for (const auto& e : *a) {
    if (!e.is_string()) {
      problems.add(e, what + " must be a list of strings");
      continue;
    }
    out.push_back(*e.value<std::string>());
  }
  return out;
}

void parse_sections(const toml::node& n, const std::string& where, report::ReportDraft* draft, Problems& problems) {
  const toml::array* sections = n.as_array();
  if (sections == nullptr || sections->empty() || !sections->is_array_of_tables()) {
    problems.add(n, where + "[[case.section]] must be one or more tables");
    return;
  }
  int index = 0;
  for (const auto& sn : *sections) {
    ++index;
    const toml::table& t = *sn.as_table();
    const std::string at = where + "section " + std::to_string(index) + ": ";
    // `rel` and `unit` are the publish flags' and report spec's names; the
    // older `releasable_to` and `units` are still read (not both at once).
    problems.refuse_unknown_keys(t, {"classification", "rel", "unit", "releasable_to", "units", "orcon", "text"},
                                 at + "unknown key '", "'");
    for (const auto& [now, old] : {std::pair{"rel", "releasable_to"}, std::pair{"unit", "units"}}) {
      if (t.contains(now) && t.contains(old))
        problems.add(sn, at + "give '" + now + "' or its older name '" + old + "', not both");
    }
    const char* rel_key = t.contains("releasable_to") ? "releasable_to" : "rel";
    const char* unit_key = t.contains("units") ? "units" : "unit";
    const auto classification = problems.string(t, "classification", at + "classification");
    const auto text = problems.string(t, "text", at + "text");
    const toml::node* orcon = t.get("orcon");
    if (orcon != nullptr && !orcon->is_boolean()) problems.add(*orcon, at + "orcon must be true or false");
    if (!classification) problems.add(sn, at + "classification is required");
    if (!text) problems.add(sn, at + "text is required");
    const auto rel = strings_of(t.get(rel_key), at + rel_key, problems);
    const auto units = strings_of(t.get(unit_key), at + unit_key, problems);
    if (!classification || !text) continue;
    auto label = label_from_flags(*classification, rel, units, orcon != nullptr && orcon->value_or(false));
    if (!label) {
      for (const auto& r : label.status().reasons()) problems.add(sn, at + r.message, r.code);
      continue;
    }
    draft->sections.push_back(report::SectionDraft{*label, to_bytes(*text)});
  }
}

struct Parser {
  Scenario& scenario;
  Problems& problems;
  std::map<std::string, std::size_t, std::less<>> index_of;  // case name -> index
  std::vector<std::size_t> section_counts;                   // per case: sections of its report (0: none)

  // The earlier case named `name`, which must send a report of its own.
  std::optional<std::size_t> earlier_report_case(const toml::node& n, const std::string& where, std::string_view key) {
    const auto name = n.value<std::string>();
    if (!name) {
      problems.add(n, where + std::string(key) + " must be the name of an earlier case");
      return std::nullopt;
    }
    auto it = index_of.find(*name);
    if (it == index_of.end()) {
      problems.add(n, where + std::string(key) + " '" + *name + "' is not an earlier case");
      return std::nullopt;
    }
    if (!sends_report(fault_kind(scenario.cases[it->second].fault))) {
      problems.add(n, where + std::string(key) + " '" + *name + "' sends no report of its own");
      return std::nullopt;
    }
    return it->second;
  }

  // [case.deliver] or [case.cross]: who = [1-based section numbers].
  void parse_sections_table(const toml::table& t, const char* key, const char* who, const std::string& where,
                            std::size_t sections_sent, std::map<std::string, std::vector<std::uint32_t>>* out) {
    const toml::node* d = t.get(key);
    if (d == nullptr) return;
    const toml::table* dt = d->as_table();
    if (dt == nullptr) {
      problems.add(*d, where + "[case." + key + "] must be a table of " + who + " = [section numbers]");
      return;
    }
    for (const auto& [name, v] : *dt) {
      const std::string what = where + key + "." + std::string(name.str());
      auto numbers = section_numbers(v, what, problems);
      if (!numbers) continue;
      for (auto n : *numbers) {
        if (n > sections_sent) {
          problems.add(v, what + ": the case sends " + std::to_string(sections_sent) + " section(s), so section " +
                              std::to_string(n) + " cannot arrive");
          break;
        }
      }
      (*out)[std::string(name.str())] = *numbers;
    }
  }

  void parse_case(const toml::table& t) {
    Case c;
    c.line = line_of(t);
    std::string where = "[[case]] " + std::to_string(scenario.cases.size() + 1) + ": ";
    problems.refuse_unknown_keys(t,
                                 {"name", "as", "fault", "expect", "other", "originator", "topic", "section",
                                  "derive_from", "derive_sections", "replay_of", "deliver", "cross"},
                                 where + "unknown key '", "'");
    if (auto name = problems.string(t, "name", where + "name"); name && !name->empty()) {
      c.name = *name;
      where = "case '" + c.name + "': ";
      if (index_of.count(c.name) != 0) problems.add_at_line(c.line, where + "another case has the same name");
    } else {
      problems.add_at_line(c.line, where + "name is required");
    }
    if (auto as = problems.string(t, "as", where + "as"); as && !as->empty()) {
      c.as = *as;
    } else {
      problems.add_at_line(c.line, where + "as (the sending node) is required");
    }
    if (auto fault = problems.string(t, "fault", where + "fault")) {
      auto f = fault_from_name(*fault);
      if (!f) {
        std::string known_faults;
        for (const auto& info : faults()) known_faults += (known_faults.empty() ? "" : ", ") + std::string(info.name);
        problems.add(*t.get("fault"), where + "unknown fault '" + *fault + "' (known: " + known_faults + ")");
      } else {
        c.fault = *f;
      }
    }
    const FaultKind kind = fault_kind(c.fault);
    if (auto expect = problems.string(t, "expect", where + "expect")) {
      if (*expect != kExpectAccepted && code_names().count(*expect) == 0) {
        problems.add(*t.get("expect"), where + "expect '" + *expect +
                                           "' is neither \"accepted\" nor a code name such as REPORT_SIGNATURE");
      }
      c.expect = *expect;
    } else {
      problems.add_at_line(c.line, where + "expect is required (\"accepted\" or a code name)");
    }
    if (auto other = problems.string(t, "other", where + "other")) {
      if (c.fault != Fault::kSignedByOtherNode && c.fault != Fault::kOriginatorNotSender &&
          c.fault != Fault::kAckSignedByOtherNode) {
        problems.add(*t.get("other"), where +
                                          "other applies only to signed_by_other_node, originator_not_sender and "
                                          "ack_signed_by_other_node");
      }
      c.other = *other;
    }
    if (auto originator = problems.string(t, "originator", where + "originator")) {
      if (kind != FaultKind::kFromPartner) {
        problems.add(*t.get("originator"), where + "originator applies only to copies from a partner broker (" +
                                               "partner_copy, forged_hop_stamp, replayed_hop_stamp, looped_copy, " +
                                               "link_cut)");
      }
      c.originator = *originator;
    } else if (kind == FaultKind::kFromPartner) {
      problems.add_at_line(c.line, where + "originator (the node whose report the partner broker sends) is required");
    }

    // The report.
    const toml::node* topic = t.get("topic");
    const toml::node* sections = t.get("section");
    if (sends_report(kind)) {
      if (auto s = problems.string(t, "topic", where + "topic")) c.draft.topic = *s;
      if (topic == nullptr) problems.add_at_line(c.line, where + "topic is required");
      if (sections == nullptr) {
        problems.add_at_line(c.line, where + "at least one [[case.section]] is required");
      } else {
        parse_sections(*sections, where, &c.draft, problems);
      }
    } else if (c.fault == Fault::kPartnerSubscribe || c.fault == Fault::kOneSidedPeering) {
      if (auto s = problems.string(t, "topic", where + "topic")) c.draft.topic = *s;
      if (topic == nullptr) problems.add_at_line(c.line, where + "topic (the pattern to subscribe to) is required");
      if (sections != nullptr)
        problems.add(*sections,
                     where + "a " + std::string(fault_name(c.fault)) + " case sends no report: drop sections");
    } else if (topic != nullptr || sections != nullptr) {
      problems.add(topic != nullptr ? *topic : *sections,
                   where + "a " + std::string(fault_name(c.fault)) +
                       " case sends no report of its own: drop topic and sections");
    }
    if (const toml::node* d = t.get("derive_from")) {
      if (kind != FaultKind::kReport) {
        problems.add(*d, where + "derive_from needs a report of the case's own");
      } else {
        c.derive_from = earlier_report_case(*d, where, "derive_from");
      }
    }
    if (const toml::node* ds = t.get("derive_sections")) {
      if (t.get("derive_from") == nullptr) problems.add(*ds, where + "derive_sections needs derive_from");
      if (auto numbers = section_numbers(*ds, where + "derive_sections", problems)) {
        for (auto n : *numbers) {
          if (c.derive_from && n > section_counts[*c.derive_from]) {
            problems.add(*ds, where + "derive_sections: case '" + scenario.cases[*c.derive_from].name +
                                  "' has no section " + std::to_string(n));
          }
          c.derive_sections.push_back(n - 1);
        }
      }
    }
    if ((c.fault == Fault::kOrconRedissemination || c.fault == Fault::kLooserDerivedLabel) &&
        t.get("derive_from") == nullptr) {
      problems.add_at_line(c.line,
                           where + std::string(fault_name(c.fault)) + " needs derive_from = \"<an earlier case>\"");
    }
    if (const toml::node* r = t.get("replay_of")) {
      if (c.fault != Fault::kReplayedId && c.fault != Fault::kReplayedHopStamp) {
        problems.add(*r, where + "replay_of applies only to replayed_id and replayed_hop_stamp");
      } else {
        c.replay_of = earlier_report_case(*r, where, "replay_of");
        if (c.replay_of && c.fault == Fault::kReplayedHopStamp &&
            fault_kind(scenario.cases[*c.replay_of].fault) != FaultKind::kFromPartner) {
          problems.add(*r, where + "replay_of: case '" + scenario.cases[*c.replay_of].name +
                               "' is not a copy from a partner broker, so it has no hop stamp of one");
        }
      }
    } else if (c.fault == Fault::kReplayedHopStamp) {
      for (std::size_t i = scenario.cases.size(); i-- > 0;) {
        if (fault_kind(scenario.cases[i].fault) == FaultKind::kFromPartner) {
          c.replay_of = i;
          break;
        }
      }
      if (!c.replay_of) {
        problems.add_at_line(c.line,
                             where + "replayed_hop_stamp needs an earlier case of a copy from a partner broker");
      }
    } else if (c.fault == Fault::kReplayedId) {
      for (std::size_t i = scenario.cases.size(); i-- > 0;) {
        if (sends_report(fault_kind(scenario.cases[i].fault))) {
          c.replay_of = i;
          break;
        }
      }
      if (!c.replay_of) problems.add_at_line(c.line, where + "replayed_id needs an earlier case that sends a report");
    }
    if (c.fault == Fault::kSequenceBack) {
      const bool earlier = std::any_of(scenario.cases.begin(), scenario.cases.end(), [&](const Case& e) {
        return e.as == c.as && fault_kind(e.fault) == FaultKind::kReport && e.expect == kExpectAccepted;
      });
      if (!earlier && (c.as != scenario.sentinel_from || scenario.cases.empty())) {
        problems.add_at_line(c.line, where + "sequence_back needs an earlier accepted case sent as " + c.as);
      }
    }

    // Deliveries, to nodes and across peerings.
    std::size_t sections_sent = c.draft.sections.size();
    if (c.replay_of && c.fault == Fault::kReplayedId) sections_sent = section_counts[*c.replay_of];
    parse_sections_table(t, "deliver", "node", where, sections_sent, &c.deliver);
    parse_sections_table(t, "cross", "partner broker", where, sections_sent, &c.cross);
    index_of.emplace(c.name, scenario.cases.size());
    section_counts.push_back(sends_report(kind) ? c.draft.sections.size() : 0);
    scenario.cases.push_back(std::move(c));
  }
};

}  // namespace

const std::vector<FaultInfo>& faults() { return kFaults; }

const FaultInfo* fault_info(Fault fault) {
  for (const auto& f : kFaults) {
    if (f.fault == fault) return &f;
  }
  return nullptr;
}

std::optional<Fault> fault_from_name(std::string_view name) {
  for (const auto& f : kFaults) {
    if (f.name == name) return f.fault;
  }
  return std::nullopt;
}

std::string_view fault_name(Fault fault) {
  const FaultInfo* f = fault_info(fault);
  return f == nullptr ? std::string_view() : f->name;
}

bool sends_report(FaultKind kind) {
  return kind == FaultKind::kReport || kind == FaultKind::kAck || kind == FaultKind::kFromPartner;
}

FaultKind fault_kind(Fault fault) {
  const FaultInfo* f = fault_info(fault);
  return f == nullptr ? FaultKind::kReport : f->kind;
}

Result<Scenario> parse_scenario(std::string_view toml_text, std::string_view source_name) {
  Scenario scenario;
  scenario.source = std::string(source_name);
  Problems problems(toml_text, scenario.source, TomlReader::LineStyle::kPrefix);
  if (!problems.parsed()) return problems.status();
  const toml::table& doc = problems.root();
  problems.refuse_unknown_keys(doc, {"sentinel_from", "sentinel_topic", "admin", "case"}, "unknown key '", "'");
  if (auto s = problems.string(doc, "sentinel_from")) scenario.sentinel_from = *s;
  if (auto s = problems.string(doc, "sentinel_topic")) scenario.sentinel_topic = *s;
  if (auto s = problems.string(doc, "admin")) scenario.admin = *s;
  const toml::node* cases = doc.get("case");
  if (cases == nullptr) {
    problems.add_at_line(1, "a scenario needs at least one [[case]]");
  } else if (!cases->is_array_of_tables() || cases->as_array()->empty()) {
    problems.add(*cases, "case must be written as [[case]] tables");
  } else {
    Parser parser{scenario, problems, {}, {}};
    for (const auto& n : *cases->as_array()) parser.parse_case(*n.as_table());
  }
  if (!problems.ok()) return problems.status(TomlReader::Order::kAsFound);
  return scenario;
}

Result<Scenario> load_scenario(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  return parse_scenario(as_chars(*text), path.string());
}

std::string admin_node(const Scenario& scenario, const identity::Directory& directory) {
  if (!scenario.admin.empty()) return scenario.admin;
  for (const identity::Credential* c : directory.nodes()) {
    if (c->has_role("admin")) return c->node_id;
  }
  return {};
}

Status check_scenario(const Scenario& scenario, const identity::Directory& directory, std::int64_t now_seconds) {
  Problems problems("", scenario.source);  // no document: the checks' problems only
  const auto known = [&](const std::string& node) { return directory.node(node) != nullptr; };
  const auto partner_broker = [&](const std::string& node) {
    const identity::Credential* c = directory.node(node);
    const identity::Authority* a = c == nullptr ? nullptr : directory.trust().authority(c->agency);
    return c != nullptr && c->has_role(identity::kBrokerRole) && a != nullptr && a->partner;
  };
  if (!known(scenario.sentinel_from)) {
    problems.add_at_line(
        1, "sentinel_from '" + scenario.sentinel_from + "' is not a node of the directory (set sentinel_from)");
  }
  const std::string admin = admin_node(scenario, directory);
  const bool revokes = std::any_of(scenario.cases.begin(), scenario.cases.end(),
                                   [](const Case& c) { return c.fault == Fault::kRevokedNode; });
  if (revokes && (admin.empty() || !known(admin) || !directory.node(admin)->has_role("admin"))) {
    problems.add_at_line(1, "revoked_node needs an admin node: set admin = \"<node with the admin role>\"");
  }
  for (const Case& c : scenario.cases) {
    const std::string where = "case '" + c.name + "': ";
    if (!known(c.as)) problems.add_at_line(c.line, where + "as '" + c.as + "' is not a node of the directory");
    if (!c.other.empty() && !known(c.other)) {
      problems.add_at_line(c.line, where + "other '" + c.other + "' is not a node of the directory");
    }
    for (const auto& [node, sections] : c.deliver) {
      if (!known(node)) {
        problems.add_at_line(c.line, where + "deliver names '" + node + "', not a node of the directory");
      } else if (const identity::Authority* a = directory.trust().authority(directory.node(node)->agency);
                 a != nullptr && a->partner) {
        problems.add_at_line(c.line, where + "deliver names '" + node + "', a node of partner agency " + a->agency +
                                         ": it connects to its own agency's broker (what crosses: [case.cross])");
      }
    }
    for (const auto& [broker, sections] : c.cross) {
      if (!partner_broker(broker)) {
        problems.add_at_line(c.line, where + "cross names '" + broker + "', not a broker of a partner agency");
      }
    }
    if (fault_kind(c.fault) == FaultKind::kFromPartner) {
      const identity::Credential* broker = directory.node(c.as);
      const identity::Credential* originator = directory.node(c.originator);
      if (!partner_broker(c.as)) {
        problems.add_at_line(c.line, where + "a " + std::string(fault_name(c.fault)) + " case is sent by a broker " +
                                         "of a partner agency: '" + c.as + "' is not one");
      } else if (originator == nullptr) {
        problems.add_at_line(c.line, where + "originator '" + c.originator + "' is not a node of the directory");
      } else if (c.fault == Fault::kLoopedCopy ? directory.trust().authority(originator->agency) == nullptr ||
                                                     directory.trust().authority(originator->agency)->partner
                                               : originator->agency != broker->agency) {
        problems.add_at_line(c.line, where + "originator '" + c.originator + "' must be a node of " +
                                         (c.fault == Fault::kLoopedCopy ? std::string("ours (not of a partner agency)")
                                                                        : broker->agency + ", " + c.as + "'s agency"));
      }
      continue;
    }
    if (fault_kind(c.fault) == FaultKind::kPartner && !partner_broker(c.as)) {
      problems.add_at_line(c.line, where + "a " + std::string(fault_name(c.fault)) + " case is sent as a broker of a " +
                                       "partner agency: '" + c.as + "' is not one");
      continue;
    }
    if (!known(c.as)) continue;

    // Policy faults: the report as written must break the rule named.
    std::vector<Code> wanted;
    std::string rule;
    switch (c.fault) {
      case Fault::kClassificationAboveClearance:
        wanted = {Code::CLEARANCE_BELOW};
        rule = "no section is classified above " + c.as + "'s clearance";
        break;
      case Fault::kReleasableEscalation:
        wanted = {Code::ORIGINATOR_COUNTRY_MISSING};
        rule = "every releasable-to includes " + c.as + "'s country";
        break;
      case Fault::kUnitNotMember:
        wanted = {Code::UNIT_NOT_HELD, Code::NOT_UNIT_MEMBER};
        rule = c.as + " is a member of every unit named (labels and topic)";
        break;
      case Fault::kOrconRedissemination:
        wanted = {Code::ORCON_VIOLATION};
        rule = "no cited ORCON section is of another agency";
        break;
      case Fault::kLooserDerivedLabel:
        wanted = {Code::DERIVED_LABEL_LOOSER};
        rule = "every section is at least as restrictive as its sources";
        break;
      default: break;
    }
    if (wanted.empty()) continue;
    policy::PublishRequest request;
    request.originator = c.as;
    request.topic = c.draft.topic;
    for (const auto& s : c.draft.sections) request.sections.push_back(s.label);
    if (c.derive_from) {
      const Case& src = scenario.cases[*c.derive_from];
      const identity::Credential* by = directory.node(src.as);
      for (std::uint32_t i = 0; i < src.draft.sections.size(); ++i) {
        if (!c.derive_sections.empty() &&
            std::find(c.derive_sections.begin(), c.derive_sections.end(), i) == c.derive_sections.end()) {
          continue;
        }
        request.sources.push_back(policy::SourceSection{src.name, i, src.draft.sections[i].label, src.as,
                                                        by != nullptr ? by->agency : "",
                                                        by != nullptr ? by->country : ""});
      }
    }
    // No topic grants here: only the label, unit and source rules are judged.
    const policy::Decision d = policy::may_publish(directory, policy::TopicPolicy(), request, now_seconds);
    const bool breaks = std::any_of(wanted.begin(), wanted.end(), [&](Code w) { return d.denials.has(w); });
    if (!breaks) {
      problems.add_at_line(c.line, where + "fault " + std::string(fault_name(c.fault)) +
                                       ", but the report does not break its rule: " + rule);
    }
  }
  return problems.status(TomlReader::Order::kAsFound);
}

}  // namespace tearline::cli::inject
