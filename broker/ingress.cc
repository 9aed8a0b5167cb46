#include "broker/ingress.h"

#include <algorithm>
#include <optional>

#include "broker/replay_guard.h"
#include "broker/router.h"
#include "federation/arrival.h"
#include "policy/decisions.h"

namespace tearline::broker {

std::string arrival_place(const ArrivalTag& tag) {
  return "from " + tag.peer + " " + place_label(tag.writer, tag.broker_seq);
}
namespace v1 = tearline::v1;

namespace {

// The header, if the bytes parse that far (a report malformed further in).
std::optional<v1::ReportHeader> claimed_header(ByteView bytes) {
  v1::Report r;
  v1::ReportHeader h;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  if (!h.ParseFromString(r.header())) return std::nullopt;
  return h;
}

Status resolve_sources(const report::VerifiedReport& rep, const SourceIndex& index,
                       std::vector<policy::SourceSection>* out) {
  Status s;
  for (const auto& ref : rep.header.sources()) {
    const std::string id_hex = to_hex(as_bytes(ref.report_id()));
    auto record = index.find(ref.report_id());
    if (!record) {
      s.add(Code::UNKNOWN_SOURCE, "cited source " + id_hex + " is not a report this broker accepted");
      continue;
    }
    std::vector<std::uint32_t> cited(ref.sections().begin(), ref.sections().end());
    if (cited.empty()) {
      for (std::uint32_t i = 0; i < record->labels.size(); ++i) cited.push_back(i);
    }
    for (auto idx : cited) {
      if (idx >= record->labels.size()) {
        s.add(Code::UNKNOWN_SOURCE, "cited source " + id_hex + " has no section " + std::to_string(idx + 1));
        continue;
      }
      if (std::find(record->torn.begin(), record->torn.end(), idx) != record->torn.end()) {
        s.add(Code::UNKNOWN_SOURCE, "cited source " + id_hex + " reached this broker with section " +
                                        std::to_string(idx + 1) + " torn off: it cannot be cited here");
        continue;
      }
      out->push_back(
          policy::SourceSection{id_hex, idx, record->labels[idx], record->originator, record->agency, record->country});
    }
  }
  return s;
}

}  // namespace

Status check_topic_limits(std::string_view topic, const Limits& limits) {
  if (topic.size() > limits.max_topic_length) {
    return Status::fail(Code::TOPIC_INVALID, "topic has " + std::to_string(topic.size()) +
                                                 " bytes; this broker allows " +
                                                 std::to_string(limits.max_topic_length));
  }
  const std::size_t depth = static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '.')) + 1;
  if (depth > limits.max_topic_depth) {
    return Status::fail(Code::TOPIC_INVALID, "topic has " + std::to_string(depth) + " segments; this broker allows " +
                                                 std::to_string(limits.max_topic_depth));
  }
  return Status::ok();
}

IngressResult check_publish(IngressJob job, const TrustSnapshot& trust, const SourceIndex& sources,
                            const Limits& limits, std::int64_t now_ms, report::RootCache* roots) {
  IngressResult out;
  out.routing_id = std::move(job.routing_id);
  out.node_id = std::move(job.node_id);
  out.request_id = job.request_id;

  if (trust.is_partner_node(out.node_id)) {
    out.status = Status::fail(Code::NOT_AUTHORIZED, out.node_id +
                                                        " is a partner agency's node: a partner's boundary broker "
                                                        "receives over its peering and does not publish here");
    return out;
  }
  report::VerifyOptions options;
  options.max_sections = limits.max_sections;
  options.max_recipients = limits.max_recipients;
  options.roots = roots;
  // Parsed once. A report naming another originator is refused for that
  // before anything else, even when it is malformed in other ways.
  auto parsed = report::parse_report_structure(job.report, options);
  std::string claimed;
  if (parsed) {
    claimed = parsed->header.originator();
    out.report_id_hex = parsed->report_id_hex();
  } else if (auto header = claimed_header(job.report)) {
    claimed = header->originator();
    out.report_id_hex = to_hex(as_bytes(header->report_id()));
  }
  if (!claimed.empty() && claimed != out.node_id) {
    out.status = Status::fail(Code::ORIGINATOR_MISMATCH,
                              "the report names " + claimed + " as originator but the session is " + out.node_id);
    return out;
  }
  if (!parsed) {
    out.status = parsed.status();
    return out;
  }
  auto verified = report::verify_parsed(std::move(parsed).value(), *trust.directory, options);
  if (!verified) {
    out.status = verified.status();
    return out;
  }
  if (verified->withheld_count() != 0) {
    out.status = Status::fail(Code::REPORT_MALFORMED, "a published report must carry every section sealed");
    return out;
  }
  Status topic_limits = check_topic_limits(verified->header.topic(), limits);
  if (!topic_limits) {
    out.status = topic_limits;
    return out;
  }
  Status when = check_created_at(verified->header.created_at_ms(), now_ms, limits.clock_window_seconds * 1000);
  if (!when) {
    out.status = when;
    return out;
  }
  policy::PublishRequest request;
  request.originator = out.node_id;
  request.topic = verified->header.topic();
  for (const auto& s : verified->sections) {
    if (!s.label) {  // withheld_count() == 0 above rules it out; stated for the reader and the analysis
      out.status = Status::fail(Code::REPORT_MALFORMED, "a published report must carry every section sealed");
      return out;
    }
    request.sections.push_back(*s.label);
  }
  Status src = resolve_sources(*verified, sources, &request.sources);
  if (!src) {
    out.status = src;
    return out;
  }
  policy::Decision d = policy::may_publish(*trust.directory, trust.topics, request, now_ms / 1000);
  if (!d.allowed()) {
    out.status = d.denials;
    return out;
  }
  out.report = std::make_shared<const report::VerifiedReport>(std::move(verified).value());
  out.raw = std::move(job.report);
  return out;
}

IngressResult check_arrival_job(IngressJob job, const TrustSnapshot& trust, const Limits& limits, std::int64_t now_ms,
                                report::RootCache* roots) {
  IngressResult out;
  out.routing_id = std::move(job.routing_id);
  out.node_id = std::move(job.node_id);
  out.arrival = std::move(job.arrival);
  if (!out.arrival) {
    out.status = Status::fail(Code::REPORT_MALFORMED, "not a copy from a partner's broker");
    return out;
  }
  if (auto header = claimed_header(job.report)) out.report_id_hex = to_hex(as_bytes(header->report_id()));
  const std::int64_t now_s = now_ms / 1000;
  const PeerLink* link = trust.peer(out.arrival->peer, now_s);
  if (link == nullptr) {
    out.status = Status::fail(Code::NO_PEERING, "no peering with " + out.arrival->peer +
                                                    " is in effect here now: nothing it delivers is taken");
    return out;
  }
  const identity::Authority* ours = trust.directory->trust().authority(link->us().agency);
  const federation::Boundary boundary{
      &link->peering,      &link->to_us(),         link->us().agency, ours != nullptr ? ours->country : std::string(),
      link->them().agency, link->them().broker_id, link->since};
  federation::ArrivalLimits bounds;
  bounds.max_sections = limits.max_sections;
  bounds.max_recipients = limits.max_recipients;
  bounds.clock_window_ms = limits.clock_window_seconds * 1000;
  const federation::ArrivedCopy copy{out.arrival->broker_seq, ByteView(job.report), ByteView(out.arrival->receipt),
                                     ByteView(out.arrival->path), out.arrival->writer};
  auto taken = federation::check_arrival(boundary, copy, *trust.directory, now_s, bounds, roots);
  if (!taken) {
    out.status = taken.status();
    return out;
  }
  Status topic_limits = check_topic_limits(taken->report.header.topic(), limits);
  if (!topic_limits) {
    out.status = topic_limits;
    return out;
  }
  out.node_id = taken->report.originator.node_id;
  out.path = std::move(taken->path);
  out.report = std::make_shared<const report::VerifiedReport>(std::move(taken->report));
  out.report_id_hex = out.report->report_id_hex();
  out.raw = std::move(job.report);
  return out;
}

}  // namespace tearline::broker
