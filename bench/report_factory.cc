#include "bench/report_factory.h"

#include <sodium.h>

#include <cstring>

#include "base/clock.h"
#include "wire/frame.h"

namespace tearline::bench {

std::array<std::uint8_t, kSectionTagBytes> section_tag(int pub, std::uint64_t seq, int section) {
  std::array<std::uint8_t, kSectionTagBytes> t{};
  const std::uint32_t magic = 0x544c4221;  // "TLB!"
  const auto p = static_cast<std::uint16_t>(pub);
  const auto s = static_cast<std::uint16_t>(section);
  std::memcpy(t.data(), &magic, 4);
  std::memcpy(t.data() + 4, &p, 2);
  std::memcpy(t.data() + 6, &s, 2);
  std::memcpy(t.data() + 8, &seq, 8);
  return t;
}

ReportFactory::ReportFactory(Shape shape, int pub, const identity::Directory& directory, const crypto::SigningKey& key)
    : shape_(shape), pub_(pub), node_(publisher_node(pub)), key_(key) {
  for (int j = 0; j < shape_.subscribers; ++j) {
    const identity::Credential* c = directory.node(subscriber_node(j));
    subscribers_.push_back(report::Recipient{subscriber_node(j), c ? c->sealing_key : crypto::SealingPublicKey{}});
  }
  filler_.resize(shape_.section_bytes());
  randombytes_buf(filler_.data(), filler_.size());
}

report::ReportDraft ReportFactory::draft(std::uint64_t seq, std::int64_t now_ms,
                                         std::vector<std::vector<report::Recipient>>* recipients) const {
  report::ReportDraft draft;
  draft.topic = std::string(kBenchTopic);
  draft.sequence = seq;
  draft.created_at_ms = now_ms;
  recipients->clear();
  for (int s = 0; s < shape_.sections; ++s) {
    report::SectionDraft sec;
    sec.label.classification = s % 2 == 1 ? tearline::v1::TOP_SECRET : tearline::v1::SECRET;
    sec.label.releasable_to = {std::string(kBenchCountry)};
    sec.content = filler_;
    const auto tag = section_tag(pub_, seq, s);
    std::memcpy(sec.content.data(), tag.data(), tag.size());
    draft.sections.push_back(std::move(sec));
    std::vector<report::Recipient> to;
    for (int j : sealed_recipients(shape_, pub_, seq, s)) to.push_back(subscribers_[static_cast<std::size_t>(j)]);
    recipients->push_back(std::move(to));
  }
  return draft;
}

Result<Bytes> ReportFactory::report(std::uint64_t seq) {
  std::vector<std::vector<report::Recipient>> recipients;
  const report::ReportDraft d = draft(seq, SystemClock::instance().now_ms(), &recipients);
  auto built = report::build_report_to(d, node_, key_, recipients);
  if (!built) return built.status();
  return std::move(built->bytes);
}

Result<std::vector<Bytes>> ReportFactory::publish_frames(std::uint64_t first_seq, std::size_t count) {
  std::vector<report::ReportDraft> drafts;
  std::vector<std::vector<std::vector<report::Recipient>>> recipients;
  drafts.reserve(count);
  recipients.reserve(count);
  const std::int64_t now_ms = SystemClock::instance().now_ms();
  for (std::uint64_t seq = first_seq; seq < first_seq + count; ++seq) {
    recipients.emplace_back();
    drafts.push_back(draft(seq, now_ms, &recipients.back()));
  }
  report::BuildOptions options;
  options.epochs = &epochs_;
  auto built = report::build_batch_to(drafts, node_, key_, recipients, options);
  if (!built) return built.status();
  std::vector<Bytes> frames;
  frames.reserve(built->size());
  for (std::size_t i = 0; i < built->size(); ++i) {
    frames.push_back(wire::encode_frame(wire::make_publish(first_seq + i, (*built)[i].bytes)));
  }
  return frames;
}

}  // namespace tearline::bench
