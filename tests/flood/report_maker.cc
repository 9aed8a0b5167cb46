#include "flood/report_maker.h"

#include <stdexcept>

#include "base/canonical_proto.h"
#include "base/clock.h"
#include "crypto/hash.h"
#include "crypto/signing.h"
#include "report/builder.h"
#include "report/format.h"

namespace tearline::flood {

ReportMaker::ReportMaker(const RawNode& node, std::string topic, const std::string& recipient, std::size_t bytes)
    : node_(node), topic_(std::move(topic)), content_(bytes, 'f') {
  const identity::Credential* self = node.directory().node(node.node_id());
  if (self == nullptr) throw std::runtime_error("report maker: unknown node " + node.node_id());
  label_ = policy::normalized(policy::Label{tearline::v1::UNCLASSIFIED, {self->country}, {}, false});
  recipients_ = {{}};
  if (!recipient.empty()) {
    const identity::Credential* to = node.directory().node(recipient);
    if (to == nullptr) throw std::runtime_error("report maker: unknown node " + recipient);
    recipients_[0].push_back(report::Recipient{to->node_id, to->sealing_key});
  }
}

Result<report::BuiltReport> ReportMaker::next() {
  report::ReportDraft draft;
  draft.topic = topic_;
  draft.sections.push_back({label_, content_});
  draft.created_at_ms = SystemClock::instance().now_ms();
  last_sequence_ = std::max(last_sequence_ + 1, static_cast<std::uint64_t>(draft.created_at_ms) * 1000);
  draft.sequence = last_sequence_;
  return report::build_report_to(draft, node_.node_id(), node_.keys().signing, recipients_);
}

Result<Bytes> ReportMaker::next_resigned() {
  if (!template_) {
    auto first = next();
    if (!first) return first.status();
    template_ = std::move(first->report);
  }
  tearline::v1::ReportHeader header;
  if (!header.ParseFromString(template_->header())) return Status::fail(Code::REPORT_MALFORMED, "template header");
  std::uint8_t id[report::kReportIdBytes];
  crypto::random_fill(id, sizeof id);
  header.set_report_id(id, sizeof id);
  header.set_created_at_ms(SystemClock::instance().now_ms());
  last_sequence_ = std::max(last_sequence_ + 1, static_cast<std::uint64_t>(header.created_at_ms()) * 1000);
  header.set_sequence(last_sequence_);
  const Bytes header_bytes = serialize_canonical(header);
  tearline::v1::Report r = *template_;
  r.set_header(header_bytes.data(), header_bytes.size());
  report::resign_alone(&r, node_.keys().signing);
  return serialize_canonical(r);
}

}  // namespace tearline::flood
