// Runner::State, the runner's state and its steps (inject_runner.h), shared
// by the files that implement them: inject_runner.cc (sessions, reports,
// deliveries) and inject_runner_faults.cc (copies from a partner broker,
// ACK faults). Internal to client/cli/inject.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>  // mkdtemp
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "base/clock.h"
#include "cli/inject/inject_faults.h"
#include "cli/inject/inject_partner_server.h"
#include "cli/inject/inject_partners.h"
#include "cli/inject/inject_runner.h"
#include "cli/inject/inject_verdict.h"
#include "cli/node/report_spec.h"
#include "client/connection.h"
#include "client/session_internal.h"
#include "crypto/key_file.h"
#include "identity/pki.h"
#include "receipt/delivery.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::cli::inject {
namespace v1 = tearline::v1;

constexpr std::int64_t kTenMinutesMs = std::int64_t{10} * 60 * 1000;
constexpr int kCutOffWaitMs = 100;  // a revoked node's session, read after the sentinel

inline std::int64_t now_ms() { return SystemClock::instance().now_ms(); }

// What a case sent: later cases cite or re-send it, and deliveries are
// recognized by its report id.
struct Sent {
  std::string name;
  Bytes report_id;
  std::string report_id_hex;
  Bytes bytes;
  std::vector<std::string> texts;
};

inline Verdict verdict_of(const Result<client::PublishOutcome>& outcome) {
  if (!outcome) return failed(outcome.status());
  if (outcome->accepted) return accepted();
  return failed(outcome->status);
}

// "'cucuta-seizure': opened [1, 2], withheld [3]".
inline std::string describe(const client::Received& r, const std::map<std::string, std::string>& names) {
  if (!r.verification) return "a report that does not verify (" + r.verification.to_string() + ")";
  auto it = names.find(r.report_id_hex);
  std::string out = it != names.end()
                        ? "'" + it->second + "'"
                        : "report " + r.report_id_hex.substr(0, 8) + " from " + r.originator + " on " + r.topic;
  std::map<std::string, std::vector<std::uint32_t>> by_status;
  for (std::size_t i = 0; i < r.sections.size(); ++i) {
    by_status[std::string(client::section_status_name(r.sections[i].status))].push_back(
        static_cast<std::uint32_t>(i + 1));
  }
  std::string parts;
  for (const auto& [status, list] : by_status) parts += (parts.empty() ? ": " : ", ") + status + " " + numbers(list);
  return out + parts;
}

struct Runner::State {
  const Scenario& scenario;
  NodeOptions options;
  identity::DirectoryPtr directory;
  std::map<std::string, std::unique_ptr<client::Session>> held;  // by node, subscribed to ">"
  // Held sessions of nodes no longer valid (revoked): they must receive nothing more.
  std::map<std::string, std::unique_ptr<client::Session>> cut_off;
  PartnerLinks partners{options, scenario};                       // as partner agencies' boundary brokers
  std::map<std::string, std::string> serve;                       // partner broker -> endpoint (--serve)
  std::map<std::string, std::unique_ptr<PartnerServer>> servers;  // as partner brokers the broker under test pulls from
  std::map<std::size_t, Bytes> hop_stamps;    // per case: the hop stamp its copy from a partner carried
  std::vector<std::string> pending_problems;  // found while sending, reported with the deliveries
  std::map<std::string, crypto::NodeSecrets> keys;
  std::map<std::string, std::uint64_t> last_used, last_accepted;  // sequences, per originator
  std::vector<std::optional<Sent>> sent;                          // per case
  std::map<std::string, std::string> names;                       // report id hex -> case name
  int sentinels = 0;

  State(const Scenario& s, NodeOptions o, std::map<std::string, std::string> endpoints)
      : scenario(s), options(std::move(o)), serve(std::move(endpoints)), sent(s.cases.size()) {}

  // Answers the broker's frames on every served link (it PINGs, and drops a silent partner).
  void serve_links() {
    for (auto& [broker, server] : servers) server->serve();
  }

  int timeout() const { return options.timeout_ms; }

  // What case `index` sent, or null when there is no such case or it sent nothing.
  const Sent* sent_by(std::optional<std::size_t> index) const {
    if (!index || *index >= sent.size()) return nullptr;
    const std::optional<Sent>& case_sent = sent[*index];
    return case_sent.has_value() ? &*case_sent : nullptr;
  }

  client::SessionOptions session_options(const std::string& node) const {
    NodeOptions o = options;
    o.node = node;
    o.key.clear();
    client::SessionOptions s = o.session_options();
    s.client_name = std::string(kClientName);
    return s;
  }

  Result<std::unique_ptr<client::Session>> connect(const std::string& node) const {
    return client::Session::connect(session_options(node));
  }

  Result<const crypto::NodeSecrets*> secrets(const std::string& node) {
    auto it = keys.find(node);
    if (it == keys.end()) {
      auto k = crypto::read_node_keys(session_options(node).key_file);
      if (!k) return k.status();
      it = keys.emplace(node, std::move(k).value()).first;
    }
    return &it->second;
  }

  // Above every sequence the runner used for the node, and time-based like
  // the reference client's, so sequences also exceed those of earlier runs.
  std::uint64_t next_sequence(const std::string& node) {
    std::uint64_t& last = last_used[node];
    last = std::max<std::uint64_t>(last + 1, static_cast<std::uint64_t>(now_ms()) * 1000);
    return last;
  }

  Status load_directory() {
    auto dir = identity::Directory::load(options.directory_path(), now_ms() / 1000, nullptr);
    if (!dir) return dir.status();
    directory = std::move(dir).value();
    return Status::ok();
  }

  // Moves the held sessions of nodes that are no longer valid (revoked) to
  // cut_off; each must have been closed with ERROR SESSION_REVOKED.
  void cut_off_invalid() {
    for (auto it = held.begin(); it != held.end();) {
      if (directory->check_node(it->first, now_ms() / 1000)) {
        ++it;
        continue;
      }
      client::Session& session = *it->second;
      std::optional<Status> error = session.take_session_error();
      const std::int64_t deadline = steady_ms() + timeout();
      while (!error && steady_ms() < deadline) {
        if (auto r = session.receive(50)) {
          pending_problems.push_back(it->first + " (revoked): received " + describe(*r, names));
        }
        error = session.take_session_error();
      }
      if (!error || error->code() != Code::SESSION_REVOKED) {
        pending_problems.push_back(
            it->first + ": its open session was not closed with SESSION_REVOKED (" +
            (error ? error->to_string() : "no error within " + std::to_string(timeout()) + " ms") + ")");
      }
      cut_off[it->first] = std::move(it->second);
      it = held.erase(it);
    }
  }

  // The first node of the directory other than `node`.
  std::string other_than(const std::string& node) const {
    for (const identity::Credential* c : directory->nodes()) {
      if (c->node_id != node && !c->has_role(identity::kBrokerRole)) return c->node_id;
    }
    return node;
  }

  Result<report::BuiltReport> build(const report::ReportDraft& draft, const std::string& originator,
                                    const std::string& signer) {
    auto key = secrets(signer);
    if (!key) return key.status();
    return report::build_report(draft, originator, (*key)->signing, *directory);
  }

  // `draft` as the first of a batch of kFaultBatchSize; the others (later
  // sequences, never sent) only give it a path.
  Result<std::vector<report::BuiltReport>> build_in_batch(const report::ReportDraft& draft,
                                                          const std::string& originator) {
    auto key = secrets(originator);
    if (!key) return key.status();
    std::vector<report::ReportDraft> drafts(kFaultBatchSize, draft);
    for (std::size_t i = 1; i < drafts.size(); ++i) drafts[i].sequence = draft.sequence + i;
    return report::build_batch(drafts, originator, (*key)->signing, *directory);
  }

  // ---- sending ---------------------------------------------------------------

  // Connects as the sender; a failed Result is fatal (broker unreachable),
  // a refused connection is the case's verdict.
  Result<std::unique_ptr<client::Session>> sender(const Case& c, std::optional<Verdict>* refused) const {
    auto s = connect(c.as);
    if (!s) {
      if (s.code() == Code::UNAVAILABLE) return s.status();
      *refused = failed(s.status());
      return std::unique_ptr<client::Session>();
    }
    return std::move(s).value();
  }

  Result<Verdict> send_report(const Case& c, std::size_t index) {
    report::ReportDraft draft = c.draft;
    if (c.derive_from) {
      const Sent* src = sent_by(c.derive_from);
      if (src == nullptr) return failed(Status::fail(Code::INVALID_FIELD, "derive_from case sent no report"));
      draft.sources.push_back(report::SourceCitation{src->report_id, c.derive_sections});
    }
    std::string originator = c.as, signer = c.as;
    const std::string other = c.other.empty() ? other_than(c.as) : c.other;
    draft.created_at_ms = now_ms();
    switch (c.fault) {
      case Fault::kSignedByOtherNode: signer = other; break;
      case Fault::kOriginatorNotSender: originator = signer = other; break;
      case Fault::kStaleTime: draft.created_at_ms -= kTenMinutesMs; break;
      case Fault::kFutureTime: draft.created_at_ms += kTenMinutesMs; break;
      case Fault::kSequenceBack: {
        auto it = last_accepted.find(c.as);
        draft.sequence = it == last_accepted.end() || it->second < 2 ? 1 : it->second - 1;
        break;
      }
      case Fault::kOversizeFrame: draft = padded_for_oversize(std::move(draft)); break;
      default: break;
    }
    if (draft.sequence == 0) draft.sequence = next_sequence(originator);
    auto built = build(draft, originator, signer);
    if (!built) return failed(built.status());  // refused locally, e.g. SECTION_TOO_LARGE

    Bytes bytes = built->bytes;
    switch (c.fault) {
      case Fault::kBadSignature: bytes = flip_signature_bit(built->report); break;
      case Fault::kTruncatedBytes: bytes = truncate_report(built->bytes); break;
      case Fault::kDuplicateHeaderField:
      case Fault::kUnknownFields: {
        auto key = secrets(signer);
        if (!key) return failed(key.status());
        const Bytes suffix =
            c.fault == Fault::kUnknownFields ? unknown_field() : duplicate_originator_field(originator);
        bytes = resign_with_header_suffix(built->report, suffix, (*key)->signing);
        break;
      }
      case Fault::kUnknownReportField: bytes = append_unknown_report_field(built->bytes); break;
      case Fault::kBatchWrongLeafIndex:
      case Fault::kBatchSwappedSiblings:
      case Fault::kBatchPathTruncated:
      case Fault::kBatchForeignLeaf: {
        auto batch = build_in_batch(draft, originator);
        if (!batch) return failed(batch.status());
        auto other_batch = build_in_batch(draft, originator);
        if (!other_batch) return failed(other_batch.status());
        built = std::move(batch->front());
        const BatchFault kind = c.fault == Fault::kBatchWrongLeafIndex    ? BatchFault::kWrongLeafIndex
                                : c.fault == Fault::kBatchSwappedSiblings ? BatchFault::kSwappedSiblings
                                : c.fault == Fault::kBatchPathTruncated   ? BatchFault::kPathTruncated
                                                                          : BatchFault::kForeignLeaf;
        bytes = alter_batch_proof(built->report, kind, &other_batch->front().report);
        break;
      }
      default: break;
    }
    Sent s{c.name, built->report_id, to_hex(built->report_id), bytes, {}};
    for (const auto& section : c.draft.sections) s.texts.push_back(to_string(section.content));
    names[s.report_id_hex] = c.name;
    sent[index] = std::move(s);

    std::optional<Verdict> refused;
    auto session = sender(c, &refused);
    if (!session) return session.status();
    if (refused) return *refused;
    Verdict v;
    if (c.fault == Fault::kOversizeFrame) {
      const Bytes frame = publish_frame(bytes);
      if (frame.size() <= wire::kDefaultMaxFrameBytes ||
          frame.size() >= static_cast<std::size_t>(wire::kDefaultTransportMaxMessageBytes)) {
        return failed(Status::fail(Code::INVALID_FIELD, "the padded frame has " + std::to_string(frame.size()) +
                                                            " bytes, not between the frame and transport limits"));
      }
      v = verdict_of(client::send_raw(**session, frame, timeout()), timeout());
    } else {
      v = verdict_of((*session)->publish_bytes(bytes));
    }
    if (v.got == kExpectAccepted) last_accepted[originator] = std::max(last_accepted[originator], draft.sequence);
    return v;
  }

  Result<Verdict> send_replay(const Case& c) {
    const Sent* src = sent_by(c.replay_of);
    if (src == nullptr) return failed(Status::fail(Code::INVALID_FIELD, "replay_of case sent no report"));
    std::optional<Verdict> refused;
    auto session = sender(c, &refused);
    if (!session) return session.status();
    if (refused) return *refused;
    return verdict_of((*session)->publish_bytes(src->bytes));
  }

  Result<Verdict> send_garbage(const Case& c) {
    std::optional<Verdict> refused;
    auto session = sender(c, &refused);
    if (!session) return session.status();
    if (refused) return *refused;
    return verdict_of(client::send_raw(**session, garbage_frame(), timeout()), timeout());
  }

  // The node's own signing and sealing keys with a transport key no
  // credential holds, in a key file of a fresh private folder.
  Result<Verdict> connect_unknown_key(const Case& c) {
    auto own = crypto::read_node_keys(session_options(c.as).key_file);
    if (!own) return failed(own.status());
    crypto::NodeSecrets rogue{std::move(own->signing), std::move(own->sealing), crypto::TransportKey::generate()};
    std::string dir_template = (std::filesystem::temp_directory_path() / "tearline-inject.XXXXXX").string();
    if (::mkdtemp(dir_template.data()) == nullptr) {
      return failed(Status::fail(Code::IO_ERROR, "cannot create a temporary folder for the rogue key file"));
    }
    const std::filesystem::path dir(dir_template);
    client::SessionOptions o = session_options(c.as);
    o.key_file = dir / (c.as + ".key");
    Status written = crypto::write_node_keys(o.key_file, rogue);
    Verdict v;
    if (!written) {
      v = failed(written);
    } else {
      auto s = client::Session::connect(o);
      v = s ? accepted() : failed(s.status());
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return v;
  }

  // Revokes the sender's credential in the PKI (compromised from now) with
  // its agency's authority key, has the admin node reload the broker, then connects as the sender.
  Result<Verdict> connect_revoked(const Case& c) {
    const identity::Credential* cred = directory->node(c.as);
    if (cred == nullptr) return failed(Status::fail(Code::UNKNOWN_NODE, c.as + " is not in the directory"));
    const std::int64_t now = now_ms() / 1000;
    const identity::CredentialRevocation compromised{cred->serial, identity::RevocationReason::kCompromised, now};
    auto list = identity::revoke(identity::PkiPaths(options.pki), cred->agency, {compromised}, {}, now);
    if (!list) return failed(list.status());
    auto reloaded = admin_reload();
    if (!reloaded) return reloaded.status();
    if (!reloaded->got.empty()) return *reloaded;
    cut_off_invalid();
    auto s = connect(c.as);
    return s ? accepted() : failed(s.status());
  }

  // The admin node asks the broker to reload and the runner reloads its
  // directory. A failed Result: unreachable; a Verdict with `got`: refused;
  // an empty Verdict: done.
  Result<Verdict> admin_reload() {
    const std::string admin = admin_node(scenario, *directory);
    auto admin_session = connect(admin);
    if (!admin_session) {
      if (admin_session.code() == Code::UNAVAILABLE) return admin_session.status();
      return failed(admin_session.status());
    }
    Status reloaded = (*admin_session)->admin_reload();
    if (reloaded.code() == Code::UNAVAILABLE) return reloaded;
    if (!reloaded) return failed(reloaded);
    if (Status dir = load_directory(); !dir) return failed(dir);
    return Verdict{};
  }

  // ---- copies from a partner broker, ACK faults (inject_runner_faults.cc) ----

  // The case's report, of `originator`, sent by the runner as the partner
  // broker `as` to the broker under test (PartnerServer), as the fault says.
  Result<Verdict> send_from_partner(const Case& c, std::size_t index);
  // On a raw connection of the sender (no library session, so nothing ACKs
  // for it): subscribe to the case's topic, publish the case's report,
  // receive its DELIVER, answer with the ACK the fault crafts. The verdict is
  // the broker's answer to that ACK; then a PING must still be answered (a
  // bad ACK is a bad frame: the session stays), else a problem is reported
  // with the deliveries.
  Result<Verdict> send_ack_fault(const Case& c, std::size_t index);
  // The next frame within the timeout that `want` accepts; others are dropped.
  std::optional<v1::Frame> await(client::Connection& conn, const std::function<bool(const v1::Frame&)>& want) const;

  // ---- deliveries ----------------------------------------------------------------

  struct Deliveries {
    std::map<std::string, std::vector<client::Received>> by_node;
    std::map<std::string, std::vector<Crossed>> crossed;  // by partner broker (PartnerLinks::collect)
    std::vector<std::string> problems;                    // the runner could not tell what was delivered
    Status sentinel;                                      // the sentinel's rejection, if it was rejected
  };

  // Publishes the sentinel and reads every held session up to it. A failed
  // Result: the sentinel got no answer (broker unreachable).
  Result<Deliveries> collect() {
    Deliveries out;
    auto publisher = held.find(scenario.sentinel_from);
    if (publisher == held.end()) {
      out.sentinel = Status::fail(Code::INVALID_FIELD,
                                  "the sentinel node " + scenario.sentinel_from + " holds no session (not valid now)");
      out.problems.push_back(out.sentinel.reasons().front().message);
      return out;
    }
    std::vector<std::string> countries;  // of every node valid now, partners' too: the sentinel crosses
    for (const identity::Credential* c : directory->nodes()) {
      if (directory->check_node(c->node_id, now_ms() / 1000)) countries.push_back(c->country);
    }
    std::sort(countries.begin(), countries.end());
    countries.erase(std::unique(countries.begin(), countries.end()), countries.end());
    auto label = label_from_flags("UNCLASSIFIED", countries, {}, false);
    if (!label) return label.status();
    report::ReportDraft draft;
    draft.topic = scenario.sentinel_topic;
    draft.sections.push_back({*label, to_bytes("sentinel " + std::to_string(++sentinels))});
    draft.created_at_ms = now_ms();
    draft.sequence = next_sequence(scenario.sentinel_from);
    auto built = build(draft, scenario.sentinel_from, scenario.sentinel_from);
    if (!built) return built.status();
    const std::string sentinel = to_hex(built->report_id);
    names[sentinel] = "sentinel " + std::to_string(sentinels);
    auto outcome = publisher->second->publish_bytes(built->bytes);
    if (!outcome) return outcome.status();
    if (!outcome->accepted) {
      out.sentinel = Status::fail(Code::INVALID_FIELD, "the sentinel report of " + scenario.sentinel_from + " on " +
                                                           scenario.sentinel_topic +
                                                           " was rejected: " + outcome->status.to_string());
      out.problems.push_back(out.sentinel.reasons().front().message);
      return out;
    }
    last_accepted[scenario.sentinel_from] = draft.sequence;
    // A raw link sends nothing by itself: a PING keeps the broker from
    // timing it out between cases (session_timeout_ms).
    partners.ping();
    serve_links();
    for (auto& [node, session] : held) {
      auto& got = out.by_node[node];
      const std::int64_t deadline = steady_ms() + timeout();
      for (;;) {
        const std::int64_t left = deadline - steady_ms();
        auto r = left > 0 ? session->receive(static_cast<int>(left)) : std::nullopt;
        if (!r) {
          out.problems.push_back(node + ": the sentinel did not arrive within " + std::to_string(timeout()) + " ms");
          break;
        }
        if (r->report_id_hex == sentinel) break;
        got.push_back(std::move(*r));
      }
    }
    partners.collect(sentinel, &out.crossed, &out.problems);
    serve_links();
    // Every entitled session has the sentinel: whatever the broker sent a
    // revoked node's session alongside it has had time to arrive too.
    for (auto& [node, session] : cut_off) {
      const std::int64_t deadline = steady_ms() + kCutOffWaitMs;
      while (steady_ms() < deadline) {
        if (auto r = session->receive(kCutOffWaitMs)) {
          out.problems.push_back(node + " (revoked): received " + describe(*r, names));
        }
      }
    }
    return out;
  }

  // Every difference between what arrived and [case.deliver]; nodes not
  // listed must receive nothing.
  std::vector<std::string> compare(const Case& c, const Sent* report, const Deliveries& d) const {
    std::vector<std::string> problems = pending_problems;
    problems.insert(problems.end(), d.problems.begin(), d.problems.end());
    if (!d.problems.empty() && d.by_node.empty()) return problems;
    for (const auto& [node, got] : d.by_node) {
      auto it = c.deliver.find(node);
      const std::vector<std::uint32_t> want = it == c.deliver.end() ? std::vector<std::uint32_t>{} : it->second;
      if (want.empty()) {
        for (const auto& r : got) problems.push_back(node + ": expected nothing, got " + describe(r, names));
        continue;
      }
      const std::string expected = node + ": expected '" + c.name + "' with sections " + numbers(want) + " opened";
      if (got.empty()) {
        problems.push_back(expected + ", got nothing");
        continue;
      }
      std::vector<std::string> wrong;
      for (const auto& r : got) {
        if (report == nullptr || r.report_id_hex != report->report_id_hex || !r.verification) {
          wrong.push_back(describe(r, names));
          continue;
        }
        std::vector<std::uint32_t> opened;
        bool only_withheld = true;
        for (std::size_t i = 0; i < r.sections.size(); ++i) {
          const auto& s = r.sections[i];
          if (s.status == client::SectionStatus::kOpened) {
            opened.push_back(static_cast<std::uint32_t>(i + 1));
            if (i < report->texts.size() && s.text != report->texts[i]) {
              wrong.push_back("section " + std::to_string(i + 1) + " opened with other text than was sent");
            }
          } else if (s.status != client::SectionStatus::kWithheld) {
            only_withheld = false;
          }
        }
        if (opened != want || !only_withheld) wrong.push_back(describe(r, names));
      }
      if (got.size() > 1) wrong.insert(wrong.begin(), std::to_string(got.size()) + " reports");
      for (const auto& w : wrong) problems.push_back(expected + ", got " + w);
    }
    for (const auto& [node, want] : c.deliver) {
      if (!want.empty() && d.by_node.count(node) == 0 && held.count(node) == 0) {
        problems.push_back(node + ": expected sections " + numbers(want) +
                           " opened, but the node holds no session (its credential is not valid now)");
      }
    }
    partners.compare(c, report != nullptr ? &report->report_id_hex : nullptr, d.crossed, names, &problems);
    return problems;
  }
};

}  // namespace tearline::cli::inject
