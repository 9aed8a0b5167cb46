// `tearline-bench tearline-pub`: one originator node. Runs the common
// publisher loop over a raw DEALER speaking the tearline protocol, building
// each send opportunity's reports as one signed batch inside the measured
// interval (pub_loop.h). With --pool (`run --prebuilt`, for comparison) it
// sends reports built before the start instead, as far as they go.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/clock.h"

#include "bench/pub_loop.h"
#include "bench/report_factory.h"
#include "bench/roles.h"
#include "bench/tearline_node.h"
#include "wire/frame.h"

namespace tearline::bench {
namespace {

// Reports built earlier are reused for this long: well inside the broker's
// +-300 s created-at window for the rest of a cell's runs.
constexpr std::int64_t kPoolReuseMs = 180'000;

// Pool file: u64 built_at_ms, u64 count, then count x (u32 length, bytes).
std::vector<Bytes> load_pool(const std::filesystem::path& file, std::int64_t* built_at_ms) {
  std::vector<Bytes> pool;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return pool;
  std::uint64_t built_at = 0, count = 0;
  if (std::fread(&built_at, 8, 1, f) == 1 && std::fread(&count, 8, 1, f) == 1 &&
      SystemClock::instance().now_ms() - static_cast<std::int64_t>(built_at) < kPoolReuseMs) {
    *built_at_ms = static_cast<std::int64_t>(built_at);
    pool.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint32_t len = 0;
      if (std::fread(&len, 4, 1, f) != 1) break;
      Bytes b(len);
      if (len > 0 && std::fread(b.data(), 1, len, f) != len) break;
      pool.push_back(std::move(b));
    }
  }
  std::fclose(f);
  return pool;
}

void save_pool(const std::filesystem::path& file, const std::vector<Bytes>& pool, std::int64_t built_at_ms) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return;
  const auto at = static_cast<std::uint64_t>(built_at_ms);
  const std::uint64_t count = pool.size();
  bool ok = std::fwrite(&at, 8, 1, f) == 1 && std::fwrite(&count, 8, 1, f) == 1;
  for (const auto& b : pool) {
    const auto len = static_cast<std::uint32_t>(b.size());
    ok = ok && std::fwrite(&len, 4, 1, f) == 1 && std::fwrite(b.data(), 1, b.size(), f) == b.size();
  }
  ok = std::fclose(f) == 0 && ok;
  if (ok) std::filesystem::rename(tmp, file);
}

class TearlinePub final : public PubTransport {
 public:
  TearlinePub(TearlineNode& node, ReportFactory& factory, std::vector<Bytes> pool, PubSummary& summary)
      : node_(node),
        factory_(factory),
        ready_(std::move(pool)),
        summary_(summary),
        reused_before_(factory.epochs().reused()),
        started_before_(factory.epochs().started()) {}

  Status prepare(std::uint64_t first_seq, std::size_t count, std::size_t ahead) override {
    const ReadyReports::Build need = ready_.to_build(first_seq, count, ahead);
    if (need.count == 0) return Status::ok();
    const std::int64_t t0 = thread_cpu_ns();
    auto frames = factory_.publish_frames(need.first, need.count);
    summary_.build_cpu_ns += thread_cpu_ns() - t0;
    if (!frames) return frames.status();
    summary_.batches++;
    summary_.batch_reports += need.count;
    summary_.built_inline += need.count;
    summary_.epoch_reused = factory_.epochs().reused() - reused_before_;
    summary_.epoch_started = factory_.epochs().started() - started_before_;
    for (auto& f : *frames) ready_.add(std::move(f));
    return Status::ok();
  }

  Status send(std::uint64_t seq) override {
    auto frame = ready_.take(seq);
    if (!frame) return frame.status();
    return node_.send_bytes(*frame);
  }

  void poll(const Verdict& verdict) override {
    while (auto f = node_.receive(0)) {
      if (f->has_accepted()) {
        verdict(f->accepted().request_id(), Outcome::kAccepted, 0);
      } else if (f->has_rejected()) {
        if (rejections_++ < 5) {
          std::fprintf(stderr, "pub %s: REJECTED %llu: %s\n", node_.node_id.c_str(),
                       static_cast<unsigned long long>(f->rejected().request_id()),
                       wire::status_of(f->rejected()).to_string().c_str());
        }
        verdict(f->rejected().request_id(), Outcome::kRejected, static_cast<std::int32_t>(f->rejected().code()));
      } else if (f->has_error()) {
        summary_.errors++;
        std::fprintf(stderr, "pub %s: ERROR %s\n", node_.node_id.c_str(),
                     wire::status_of(f->error()).to_string().c_str());
        if (f->error().request_id() != 0) {
          verdict(f->error().request_id(), Outcome::kRejected, static_cast<std::int32_t>(f->error().code()));
        }
      }
    }
  }

  int wait_fd() override { return node_.fd(); }
  bool pending_input() override { return node_.readable(); }
  void keepalive() override { (void)node_.send(wire::make_ping(1)); }

 private:
  TearlineNode& node_;
  ReportFactory& factory_;
  ReadyReports ready_;
  PubSummary& summary_;
  std::uint64_t reused_before_, started_before_;  // the epochs' counters after the pool
  int rejections_ = 0;
};

}  // namespace

int tearline_pub_main(const RoleArgs& args) {
  auto control = Control::open(control_file(args.run_dir));
  if (!control) {
    std::fprintf(stderr, "pub %d: %s\n", args.index, control.status().to_string().c_str());
    return 1;
  }
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "pub %d: %s\n", args.index, s.to_string().c_str());
    (*control)->abort.store(1);
    return 1;
  };
  auto node = TearlineNode::load(args.pki, publisher_node(args.index));
  if (!node) return fail(node.status());
  const int fifo = open_notify_fifo(notify_fifo(args.run_dir, args.index));
  if (fifo < 0) return fail(Status::fail(Code::IO_ERROR, "cannot open the notify FIFO"));

  PubSummary summary;
  ReportFactory factory(args.shape, args.index, *(*node)->directory, (*node)->keys->signing);
  std::vector<Bytes> pool;
  std::int64_t built_at = SystemClock::instance().now_ms();
  if (!args.pool_file.empty()) pool = load_pool(args.pool_file, &built_at);
  const std::size_t reused = pool.size();
  if (pool.size() > args.pool) pool.resize(args.pool);
  pool.reserve(args.pool);
  const std::int64_t t0 = mono_ns();
  while (pool.size() < args.pool) {
    if ((*control)->abort.load()) return 1;
    const std::size_t n = std::min<std::size_t>(kMaxBuildBatch, args.pool - pool.size());
    auto frames = factory.publish_frames(pool.size() + 1, n);
    if (!frames) return fail(frames.status());
    for (auto& f : *frames) pool.push_back(std::move(f));
  }
  summary.build_ns = mono_ns() - t0;
  summary.prebuilt = args.pool;
  // An extended pool keeps the stamp of its oldest reports.
  if (!args.pool_file.empty() && pool.size() > reused) save_pool(args.pool_file, pool, built_at);

  (*node)->broker_id = args.broker_id;
  Status connected = (*node)->connect(args.endpoint);
  if (!connected) return fail(connected);
  (*control)->ready_pubs.fetch_add(1);

  TearlinePub transport(**node, factory, std::move(pool), summary);
  Status ran = run_publisher(args, **control, fifo, transport, summary);
  ::close(fifo);
  return ran ? 0 : fail(ran);
}

}  // namespace tearline::bench
