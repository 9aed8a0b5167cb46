// A fuzz target is one function that feeds arbitrary bytes to one parser of
// untrusted input and checks what must hold of its answer, aborting when it
// does not. Each fuzz_<name>.cc defines tearline::fuzz::<name>() and ends with
// TEARLINE_FUZZ_ENTRY(<name>): in the fuzz build (TEARLINE_LIBFUZZER defined)
// that is the libFuzzer entry point of the fuzz_<name> executable; in the
// normal build the same functions are linked into
// tests/unit/fuzz_regressions_test.cc, which replays the saved inputs of
// tests/fuzz/regressions/fuzz_<name>/ through them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "base/bytes.h"

namespace tearline::fuzz {

void wire_frame(ByteView input);          // wire::decode_frame, default limit
void report_verify(ByteView input);       // report::verify_report, then open_sections
void batch_path(ByteView input);          // report::root_from_path (format 2 batch proofs)
void credential(ByteView input);          // identity::verify_credential
void charter(ByteView input);             // identity::verify_charter
void revocation_list(ByteView input);     // identity::verify_revocation_list
void broker_config(ByteView input);       // broker::parse_config
void roster(ByteView input);              // identity::parse_roster
void topic_policy(ByteView input);        // policy::TopicPolicy::parse
void topic(ByteView input);               // validate_topic / validate_pattern / topic_matches
void label(ByteView input);               // policy::decode_label
void scenario(ByteView input);            // cli::parse_scenario + check_scenario (tearline inject)
void acceptance_receipt(ByteView input);  // receipt::verify_acceptance (digest, then receipt)
void delivery_receipt(ByteView input);    // receipt::parse_delivery + verify_delivery
void peering(ByteView input);             // federation::verify_peering + effective_peering
void crossing_path(ByteView input);       // receipt::verify_path (digest, then CrossingPath)

struct Target {
  std::string_view name;  // the executable, and the folder of its corpus, artifacts and regressions
  void (*run)(ByteView);
};

inline constexpr Target kTargets[] = {
    {"fuzz_wire_frame", wire_frame},
    {"fuzz_report_verify", report_verify},
    {"fuzz_batch_path", batch_path},
    {"fuzz_credential", credential},
    {"fuzz_charter", charter},
    {"fuzz_revocation_list", revocation_list},
    {"fuzz_broker_config", broker_config},
    {"fuzz_roster", roster},
    {"fuzz_topic_policy", topic_policy},
    {"fuzz_topic", topic},
    {"fuzz_label", label},
    {"fuzz_scenario", scenario},
    {"fuzz_acceptance_receipt", acceptance_receipt},
    {"fuzz_delivery_receipt", delivery_receipt},
    {"fuzz_peering", peering},
    {"fuzz_crossing_path", crossing_path},
};

// Aborts, naming the broken invariant, when `holds` is false. Unlike assert()
// it checks in every build type.
inline void require(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", invariant);
  std::abort();
}

}  // namespace tearline::fuzz

#ifdef TEARLINE_LIBFUZZER
#define TEARLINE_FUZZ_ENTRY(target)                                                   \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    tearline::fuzz::target(tearline::ByteView(data, size));                           \
    return 0;                                                                         \
  }
#else
#define TEARLINE_FUZZ_ENTRY(target)
#endif
