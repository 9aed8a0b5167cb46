#include "report/key_epochs.h"

#include <algorithm>

namespace tearline::report {

KeyEpochs::KeyEpochs(EpochLimits limits) : limits_(limits) {}

bool KeyEpochs::still_valid(const Epoch& e, const std::vector<Recipient>& recipients, std::int64_t now_ms) const {
  if (e.uses >= limits_.max_reports) return false;
  if (now_ms < e.started_ms || now_ms - e.started_ms >= limits_.max_age_ms) return false;
  return std::equal(
      e.recipients.begin(), e.recipients.end(), recipients.begin(), recipients.end(),
      [](const Recipient& a, const Recipient& b) { return a.node_id == b.node_id && a.key.bytes == b.key.bytes; });
}

KeyEpochs::Use KeyEpochs::acquire(ByteView label_bytes, const std::vector<Recipient>& recipients, std::int64_t now_ms,
                                  const RandomFill& random) {
  auto it = std::find_if(epochs_.begin(), epochs_.end(), [&](const Epoch& e) {
    return e.label.size() == label_bytes.size() && std::equal(e.label.begin(), e.label.end(), label_bytes.begin());
  });
  if (it != epochs_.end() && still_valid(*it, recipients, now_ms)) {
    epochs_.splice(epochs_.begin(), epochs_, it);
    Epoch& e = epochs_.front();
    ++e.uses;
    ++reused_;
    return Use{*e.key, e.wraps, true};
  }
  if (it != epochs_.end()) epochs_.erase(it);  // its set changed or it aged out: the old key is wiped now
  if (epochs_.size() >= std::max<std::size_t>(1, limits_.max_labels)) epochs_.pop_back();

  Epoch e;
  e.label.assign(label_bytes.begin(), label_bytes.end());
  crypto::SecureBuffer<crypto::kContentKeyBytes> key_bytes;
  fill_random(random, key_bytes.data(), key_bytes.size());
  e.key = std::make_unique<crypto::ContentKey>(crypto::ContentKey::from_bytes(key_bytes.view()));
  e.recipients = recipients;
  e.wraps.reserve(recipients.size());
  for (const auto& r : recipients) e.wraps.push_back(crypto::wrap_key(r.key, *e.key));
  e.started_ms = now_ms;
  e.uses = 1;
  ++started_;
  epochs_.push_front(std::move(e));
  const Epoch& fresh = epochs_.front();
  return Use{*fresh.key, fresh.wraps, false};
}

}  // namespace tearline::report
