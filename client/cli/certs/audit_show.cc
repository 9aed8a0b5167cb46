// `tearline audit show`: lists audit entries, filtered, as text rows or one
// JSON object per line (CliAuditEntry, proto/tearline/v1/cli_admin.proto).
// --follow keeps reading the database (read-only, every kPollInterval) and
// prints each new matching entry as the broker appends it, like tail -f,
// until SIGINT or SIGTERM (exit 0), or --idle-exit MS without a new entry.
// Bad arguments end with exit 2 and one line naming the accepted values
// (--decision and --event: those the broker writes, audit::kDecisions and
// kEvents, and any other the log holds).
#include <csignal>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "audit/time_bound.h"
#include "base/clock.h"
#include "base/time_format.h"
#include "cli/certs/audit_show.h"
#include "cli/certs/audit_store.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "tearline/v1/cli_admin.pb.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kCommand = "audit show";
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr std::uint64_t kMaxLimit = 1000000000;

struct ShowArgs {
  AuditStoreArgs store;
  std::string node, report, decision, event, since, until, limit, idle_exit;
  bool since_given = false, until_given = false;  // an empty --since "" is bad input, not "unbounded"
  bool follow = false, json = false;
};

[[noreturn]] void usage(const std::string& message) {
  throw CommandExit(kExitUsage, one_line(std::string(kCommand) + ": " + message));
}

// `value` must be one the broker writes (`known`) or one the log holds (a
// newer broker's); otherwise exit 2 listing both.
template <std::size_t N>
void require_one_of(audit::AuditReader& log, std::string_view option, audit::Column column, const std::string& value,
                    const std::array<std::string_view, N>& known) {
  if (value.empty() || std::find(known.begin(), known.end(), value) != known.end()) return;
  auto in_log = log.distinct(column);
  if (!in_log) {
    throw CommandExit(kExitUsage, one_line(std::string(kCommand) + ": " + in_log.status().to_string()),
                      in_log.status().code());
  }
  if (std::find(in_log->begin(), in_log->end(), value) != in_log->end()) return;
  std::set<std::string> names(known.begin(), known.end());
  names.insert(in_log->begin(), in_log->end());
  usage(std::string(option) + " '" + value +
        "' is not one the broker records; give one of: " + join(std::vector<std::string>(names.begin(), names.end())));
}

std::int64_t time_or_exit(std::string_view option, const std::string& text, std::int64_t now_ms) {
  auto ms = audit::parse_time_bound(text, now_ms);
  if (!ms) usage(std::string(option) + " " + ms.status().reasons().front().message);
  return *ms;
}

std::uint64_t number_or_exit(std::string_view option, const std::string& text, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 1 || n > max) {
    usage(std::string(option) + " '" + text + "' must be a number from 1 to " + std::to_string(max));
  }
  return n;
}

audit::Filter filter_of(const ShowArgs& a, audit::AuditReader& log) {
  require_one_of(log, "--decision", audit::Column::kDecision, a.decision, audit::kDecisions);
  require_one_of(log, "--event", audit::Column::kEvent, a.event, audit::kEvents);
  audit::Filter f;
  f.node = a.node;
  f.report = a.report;
  f.decision = a.decision;
  f.event = a.event;
  const std::int64_t now = SystemClock::instance().now_ms();
  if (a.since_given) f.since_ms = time_or_exit("--since", a.since, now);
  if (a.until_given) f.until_ms = time_or_exit("--until", a.until, now);
  if (f.since_ms != 0 && f.until_ms != 0 && f.since_ms > f.until_ms) {
    usage("--since " + format_utc_ms(f.since_ms) + " is after --until " + format_utc_ms(f.until_ms));
  }
  if (!a.limit.empty()) f.limit = number_or_exit("--limit", a.limit, kMaxLimit);
  return f;
}

void print_entry(const audit::AuditEntry& e, bool json) {
  if (json) {
    tearline::v1::CliAuditEntry m;
    m.set_index(e.index);
    m.set_time_ms(e.time_ms);
    m.set_time(format_utc_ms(e.time_ms));
    m.set_event(printable(e.event));
    m.set_node(printable(e.node));
    m.set_report(printable(e.report));
    m.set_decision(printable(e.decision));
    m.set_detail(printable(e.detail));
    m.set_hash(to_hex(ByteView(e.hash.data(), e.hash.size())));
    std::cout << to_json(m) << "\n";
    return;
  }
  const std::string node = e.node.empty() ? "-" : printable(e.node);
  const std::string report = e.report.empty() ? "-" : printable(e.report.substr(0, 12));
  std::printf("%6llu %s %-10s %-9s %-24s %-12s %s\n", static_cast<unsigned long long>(e.index),
              format_utc_ms(e.time_ms).c_str(), printable(e.event).c_str(), printable(e.decision).c_str(), node.c_str(),
              report.c_str(), printable(e.detail).c_str());
}

// Prints the entries matching `f`; returns the index of the last printed (or
// f.after_index when none).
std::uint64_t print_batch(audit::AuditReader& log, const audit::Filter& f, bool json) {
  auto entries = log.entries(f);
  // An unreadable database is bad input (exit 2), whatever SQLite's code.
  if (!entries) {
    throw CommandExit(kExitUsage, one_line(std::string(kCommand) + ": " + entries.status().to_string()),
                      entries.status().code());
  }
  std::uint64_t last = f.after_index;
  for (const auto& e : *entries) {
    print_entry(e, json);
    last = e.index;
  }
  std::cout.flush();
  std::fflush(stdout);
  return last;
}

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM set g_stop while it lives; the previous handlers come back after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

void follow(audit::AuditReader& log, audit::Filter f, bool json, std::uint64_t idle_exit_ms) {
  const StopSignals signals;
  g_stop = 0;
  auto last_new = std::chrono::steady_clock::now();
  f.limit = 0;  // only the first batch is limited
  while (g_stop == 0) {
    std::this_thread::sleep_for(kPollInterval);
    if (g_stop != 0) break;
    const std::uint64_t last = print_batch(log, f, json);
    const auto now = std::chrono::steady_clock::now();
    if (last != f.after_index) {
      f.after_index = last;
      last_new = now;
    } else if (idle_exit_ms != 0 && now - last_new >= std::chrono::milliseconds(idle_exit_ms)) {
      break;
    }
  }
}

void run_show(const ShowArgs& a) {
  std::uint64_t idle_exit_ms = 0;
  if (!a.idle_exit.empty()) {
    if (!a.follow) usage("--idle-exit goes with --follow");
    idle_exit_ms = number_or_exit("--idle-exit", a.idle_exit, 86400000);
  }
  const auto log = open_audit_or_exit(kCommand, a.store);
  audit::Filter f = filter_of(a, *log);
  f.after_index = print_batch(*log, f, a.json);
  if (a.follow) follow(*log, f, a.json, idle_exit_ms);
}

}  // namespace

void add_audit_show(CLI::App& audit) {
  auto a = std::make_shared<ShowArgs>();
  auto* show = audit.add_subcommand(
      "show",
      "List audit entries, filtered (every filter at once); with --follow keep printing new ones as the broker "
      "appends them. Exit 0, 2 bad input or no database");
  add_audit_store_options(*show, &a->store);
  show->add_option("--node", a->node, "only entries about this node (routing entries: those with a clause about it)");
  show->add_option("--report", a->report, "only entries about this report (hex id or a prefix)");
  std::vector<std::string> decisions(audit::kDecisions.begin(), audit::kDecisions.end());
  std::vector<std::string> events(audit::kEvents.begin(), audit::kEvents.end());
  show->add_option("--decision", a->decision, "only this decision: " + join(decisions));
  show->add_option("--event", a->event, "only this event: " + join(events));
  show->add_option("--since", a->since,
                   "from this time on, inclusive: 2026-12-06T10:00:00Z, a date (2026-12-06), a time ago (30s, 10m, "
                   "2h, 3d) or unix ms")
      ->type_name("TIME");
  show->add_option("--until", a->until, "up to this time, inclusive (the forms of --since)")->type_name("TIME");
  show->add_option("--limit", a->limit, "only the last N matching entries (with --follow: of those already there)")
      ->type_name("N");
  show->add_flag("--follow", a->follow,
                 "keep printing new matching entries as the broker appends them, until SIGINT or SIGTERM");
  show->add_option("--idle-exit", a->idle_exit, "with --follow: stop after MS milliseconds without a new entry")
      ->type_name("MS");
  show->add_flag("--json", a->json, "one JSON object per entry (CliAuditEntry in proto/tearline/v1/cli_admin.proto)");
  show->callback([a, show] {
    a->since_given = show->count("--since") > 0;
    a->until_given = show->count("--until") > 0;
    run_show(*a);
  });
}

}  // namespace tearline::cli
