// What the runner makes of an answer (docs/injection.md, "The verdict"),
// shared by its parts: `accepted`, or the code of the broker's answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/inject/inject_scenario.h"
#include "tearline/v1/wire.pb.h"
#include "wire/frame.h"

namespace tearline::cli::inject {

inline constexpr std::string_view kClientName = "tearline-inject";

struct Verdict {
  std::string got;
  Status reasons;
};

inline Verdict accepted() { return {std::string(kExpectAccepted), Status::ok()}; }
inline Verdict failed(const Status& status) { return {std::string(code_name(status.code())), status}; }

// The answer to a request (null: none within `timeout_ms`).
inline Verdict verdict_of(const std::optional<tearline::v1::Frame>& answer, int timeout_ms) {
  if (!answer) {
    return failed(Status::fail(Code::UNAVAILABLE, "no answer within " + std::to_string(timeout_ms) + " ms"));
  }
  if (answer->has_error()) {
    return {std::string(code_name(static_cast<Code>(answer->error().code()))), wire::status_of(answer->error())};
  }
  if (answer->has_rejected()) return failed(wire::status_of(answer->rejected()));
  if (answer->has_accepted()) return accepted();
  return {"(" + std::string(wire::frame_type_name(*answer)) + ")", Status::ok()};
}

// "[1, 2]".
inline std::string numbers(const std::vector<std::uint32_t>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) out += (i == 0 ? "" : ", ") + std::to_string(list[i]);
  return out + "]";
}

inline std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace tearline::cli::inject
