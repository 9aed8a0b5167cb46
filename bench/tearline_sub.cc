// `tearline-bench tearline-sub`: one subscriber node. Subscribes to bench.>,
// then for every DELIVER: verifies the report (report::verify_report against
// its own directory, with one report::RootCache for the process, as a client
// session does), opens the sections sealed to it (one report::UnwrapCache),
// and checks them
// against the plan: a present section it is not entitled to is a violation,
// an entitled one withheld is a missing section, and every opened plaintext
// must carry its (publisher, seq, section) tag. ACKs cumulatively after each
// batch it takes from the socket.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "bench/report_factory.h"
#include "bench/sub_core.h"
#include "bench/tearline_node.h"
#include "client/session_internal.h"
#include "receipt/delivery.h"
#include "report/root_cache.h"
#include "report/unwrap_cache.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::bench {
namespace {

constexpr int kBatch = 256;

// What a subscriber keeps across deliveries, as a client session does.
struct Caches {
  report::RootCache roots;
  report::UnwrapCache unwraps;
};

void check_delivery(SubCore& core, const RoleArgs& args, TearlineNode& node, Caches& caches, const std::string& bytes) {
  auto& sum = core.summary();
  report::VerifyOptions options;
  options.roots = &caches.roots;
  auto verified = report::verify_report(as_bytes(bytes), *node.directory, options);
  if (!verified) {
    if (sum.verify_failures++ < 5)
      std::fprintf(stderr, "sub %d: %s\n", args.index, verified.status().to_string().c_str());
    return;
  }
  const int pub = publisher_index(verified->header.originator());
  const std::uint64_t seq = verified->header.sequence();
  if (pub < 0 || pub >= args.shape.publishers ||
      verified->sections.size() != static_cast<std::size_t>(args.shape.sections)) {
    sum.unexpected++;
    return;
  }
  if (!core.fresh(pub, seq)) return;
  bool any_entitled = false;
  auto opened = report::open_sections(*verified, node.node_id, node.keys->sealing, &caches.unwraps);
  std::uint32_t opened_count = 0;
  for (int s = 0; s < args.shape.sections; ++s) {
    const bool ok = entitled(args.shape, pub, seq, s, args.index);
    any_entitled = any_entitled || ok;
    const bool present = verified->sections[static_cast<std::size_t>(s)].present;
    const auto& o = opened[static_cast<std::size_t>(s)];
    if (present && !ok) sum.violations++;
    if (!present && ok) sum.missing_sections++;
    if (o.status == report::SectionStatus::kOpened) {
      opened_count++;
      const auto tag = section_tag(pub, seq, s);
      if (o.plaintext.size() < tag.size() || std::memcmp(o.plaintext.data(), tag.data(), tag.size()) != 0) {
        sum.open_failures++;
      }
    } else if (ok && present) {
      sum.open_failures++;
    }
  }
  if (!any_entitled) sum.unexpected++;
  core.delivered(pub, seq, opened_count);
}

}  // namespace

int tearline_sub_main(const RoleArgs& args) {
  auto core = SubCore::open(args);
  if (!core) {
    std::fprintf(stderr, "sub %d: %s\n", args.index, core.status().to_string().c_str());
    return 1;
  }
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "sub %d: %s\n", args.index, s.to_string().c_str());
    (*core)->control().abort.store(1);
    return 1;
  };
  auto node = TearlineNode::load(args.pki, subscriber_node(args.index));
  if (!node) return fail(node.status());
  TearlineNode& n = **node;
  n.broker_id = args.broker_id;
  Status s = n.connect(args.endpoint);
  if (!s) return fail(s);
  s = n.request(wire::make_subscribe(1, {"bench.>"}));
  if (!s) return fail(s);
  (*core)->ready();
  Caches caches;

  std::int64_t last_sent = mono_ns();
  while (!(*core)->over()) {
    // One signed delivery receipt per read batch and stream (the broker's
    // own: writer ""; another broker's sharing its store: that broker's
    // id), as the client library coalesces them: the ACK's cost is part of
    // what the bench measures.
    std::map<std::string, std::vector<receipt::DeliveredCopy>> copies;
    bool any = false;
    for (int i = 0; i < kBatch; ++i) {
      auto f = n.receive(i == 0 ? 20 : 0);
      if (!f) break;
      if (f->has_deliver()) {
        any = true;
        copies[f->deliver().writer()].push_back(
            receipt::describe_copy(f->deliver().broker_seq(), as_bytes(f->deliver().report())));
        check_delivery(**core, args, n, caches, f->deliver().report());
      } else if (f->has_error()) {
        auto& sum = (*core)->summary();
        sum.errors++;
        sum.last_error = static_cast<std::int32_t>(f->error().code());
        std::fprintf(stderr, "sub %d: ERROR %s\n", args.index, wire::status_of(f->error()).to_string().c_str());
      }
    }
    if (any) {
      for (const auto& [writer, of_stream] : copies) {
        const Bytes signed_receipt =
            receipt::sign_delivery(n.node_id, n.connection->welcome().broker_id(), n.keys->signing,
                                   SystemClock::instance().now_ms(), of_stream, writer);
        (void)n.send(wire::make_ack(of_stream.back().broker_seq, signed_receipt, writer));
      }
      last_sent = mono_ns();
    } else if (mono_ns() - last_sent > 5'000'000'000) {
      (void)n.send(wire::make_ping(2));
      last_sent = mono_ns();
    }
  }
  auto& sum = (*core)->summary();
  sum.root_hits = caches.roots.hits();
  sum.root_verifies = caches.roots.verifies();
  sum.unwrap_hits = caches.unwraps.hits();
  sum.unwrap_opens = caches.unwraps.opens();
  return (*core)->finish();
}

}  // namespace tearline::bench
