#include "cli/demo/demo_node.h"
#include "base/clock.h"

#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <stdexcept>

#include "base/bytes.h"
#include "cli/common/exit_codes.h"
#include "policy/label.h"
#include "wire/frame.h"

namespace tearline::cli::demo {
namespace v1 = tearline::v1;

namespace {

constexpr int kReceiveSliceMs = 50;           // stdin is looked at between slices (receive() pings across them)
constexpr std::int64_t kClosedPollMs = 1000;  // after the broker closed the session

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1Fu;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0Fu;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Section contents come from other nodes: keep valid UTF-8, replace the rest.
std::string utf8_or_replaced(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

v1::DemoEvent received_event(const client::Received& r) {
  v1::DemoEvent e;
  e.set_kind(v1::DemoEvent::RECEIVED);
  e.set_report_id(r.report_id_hex);
  e.set_topic(utf8_or_replaced(r.topic));
  e.set_originator(utf8_or_replaced(r.originator));
  e.set_verification(r.verification.is_ok() ? "valid" : utf8_or_replaced(r.verification.to_string()));
  for (const auto& hop : r.path) e.add_path(utf8_or_replaced(hop.broker_id));
  std::uint32_t index = 1;
  for (const auto& s : r.sections) {
    auto* out = e.add_sections();
    out->set_index(index++);
    out->set_status(std::string(client::section_status_name(s.status)));
    if (s.label) out->set_label(policy::describe(client::to_policy(*s.label)));
    if (s.status == client::SectionStatus::kOpened) out->set_text(utf8_or_replaced(s.text));
  }
  return e;
}

void set_refusal(v1::DemoEvent* e, const Status& status) {
  e->set_code(std::string(code_name(status.code())));
  e->set_reasons(utf8_or_replaced(status.to_string()));
}

Result<report::ReportDraft> draft_of(const v1::DemoCommand& c) {
  report::ReportDraft draft;
  draft.topic = c.topic();
  for (const auto& spec : c.sections()) {
    const auto& l = spec.label();
    policy::Label label{l.classification(),
                        {l.releasable_to().begin(), l.releasable_to().end()},
                        {l.units().begin(), l.units().end()},
                        l.orcon()};
    label = policy::normalized(std::move(label));
    Status valid = policy::validate_label(label);
    if (!valid) return valid;
    draft.sections.push_back({std::move(label), to_bytes(spec.text())});
  }
  for (const auto& src : c.sources()) {
    report::SourceCitation cite;
    if (!from_hex(src.report_id(), &cite.report_id)) {
      return Status::fail(Code::INVALID_FIELD, "source report id '" + src.report_id() + "' is not hex");
    }
    for (auto index : src.sections()) {
      if (index == 0) return Status::fail(Code::INVALID_FIELD, "source sections count from 1");
      cite.sections.push_back(index - 1);
    }
    draft.sources.push_back(std::move(cite));
  }
  return draft;
}

v1::DemoEvent answer(client::Session& session, const v1::DemoCommand& c) {
  v1::DemoEvent e;
  e.set_kind(v1::DemoEvent::ANSWER);
  e.set_command(c.id());
  Result<client::PublishOutcome> outcome = Status::fail(Code::INVALID_FIELD, "unknown command");
  switch (c.kind()) {
    case v1::DemoCommand::PUBLISH: {
      auto draft = draft_of(c);
      if (!draft) {
        set_refusal(&e, draft.status());
        return e;
      }
      auto built = client::build(session, std::move(draft).value());
      if (!built) {
        set_refusal(&e, built.status());
        return e;
      }
      e.set_report_id(to_hex(built->report_id));
      outcome = session.publish_bytes(built->bytes);
      break;
    }
    case v1::DemoCommand::PUBLISH_BYTES: outcome = session.publish_bytes(as_bytes(c.report())); break;
    case v1::DemoCommand::RELOAD: {
      Status s = session.admin_reload();
      e.set_accepted(s.is_ok());
      if (!s) set_refusal(&e, s);
      return e;
    }
    default: break;
  }
  if (!outcome) {
    set_refusal(&e, outcome.status());
  } else if (outcome->accepted) {
    e.set_accepted(true);
  } else {
    set_refusal(&e, outcome->status);
  }
  return e;
}

// Reads what stdin holds now; false at end of file.
bool read_stdin(std::string* buffer) {
  for (;;) {
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return true;
    char chunk[65536];
    const ssize_t n = ::read(0, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string to_json_line(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok())
    throw std::runtime_error("cannot print " + message.GetTypeName() + " as JSON: " + std::string(status.message()));
  return out;
}

Status from_json_line(const std::string& line, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(line, message, options);
  if (!status.ok()) {
    return Status::fail(Code::INVALID_FIELD, "not a " + message->GetTypeName() + ": " + std::string(status.message()));
  }
  return Status::ok();
}

int run_node(const NodeOptions& options) {
  auto emit = [&](v1::DemoEvent e) {
    e.set_node(options.node);
    std::cout << to_json_line(e) << '\n' << std::flush;  // one line, flushed: the demo waits for it
  };
  auto connected = client::Session::connect(options.session_options());
  if (!connected) {
    v1::DemoEvent e;
    e.set_kind(v1::DemoEvent::FAILED);
    set_refusal(&e, connected.status());
    emit(e);
    return exit_code_for(connected.status());
  }
  client::Session& session = **connected;
  Status subscribed = session.subscribe({">"});
  if (!subscribed) {
    v1::DemoEvent e;
    e.set_kind(v1::DemoEvent::FAILED);
    set_refusal(&e, subscribed);
    emit(e);
    return exit_code_for(subscribed);
  }
  v1::DemoEvent ready;
  ready.set_kind(v1::DemoEvent::READY);
  emit(ready);

  bool closed = false;
  auto note_session_error = [&](const Status& error) {
    if (closed || !wire::closes_session(error.code())) return;
    closed = true;
    v1::DemoEvent e;
    e.set_kind(v1::DemoEvent::SESSION_CLOSED);
    set_refusal(&e, error);
    // The first reason restates the code; the others are the causes (REVOKED ...).
    const auto& all = error.reasons();
    if (all.size() > 1) e.set_reasons(utf8_or_replaced(Status::fail({all.begin() + 1, all.end()}).to_string()));
    emit(e);
  };
  std::string input;
  std::int64_t next_closed_poll = 0;
  for (;;) {
    if (!read_stdin(&input)) return 0;  // the demo is gone
    for (std::size_t nl; (nl = input.find('\n')) != std::string::npos;) {
      const std::string line = input.substr(0, nl);
      input.erase(0, nl + 1);
      v1::DemoCommand command;
      Status parsed = from_json_line(line, &command);
      if (!parsed) {
        v1::DemoEvent e;
        e.set_kind(v1::DemoEvent::ANSWER);
        set_refusal(&e, parsed);
        emit(e);
        continue;
      }
      if (command.kind() == v1::DemoCommand::QUIT) return 0;
      emit(answer(session, command));
      if (auto error = session.take_session_error()) note_session_error(*error);
    }
    const std::int64_t now = steady_now_ms();
    if (closed && now < next_closed_poll) {
      // Nothing should arrive any more: look only now and then (each look
      // says HELLO again, which the broker refuses).
      pollfd p{0, POLLIN, 0};
      (void)::poll(&p, 1, kReceiveSliceMs);
      continue;
    }
    next_closed_poll = now + kClosedPollMs;
    if (auto report = session.receive(kReceiveSliceMs)) emit(received_event(*report));
    if (auto error = session.take_session_error()) note_session_error(*error);
  }
}

// ---- NodeProcess -----------------------------------------------------------

Result<std::unique_ptr<NodeProcess>> NodeProcess::start(const std::filesystem::path& exe, const std::string& node,
                                                        const std::filesystem::path& directory,
                                                        const std::filesystem::path& key_file,
                                                        const std::string& endpoint, const std::filesystem::path& log,
                                                        const std::string& broker_id) {
  ChildSpec spec;
  spec.argv = {exe.string(),       "demo-node", "--node",          node,       "--directory",
               directory.string(), "--key",     key_file.string(), "--broker", endpoint};
  if (!broker_id.empty()) spec.argv.insert(spec.argv.end(), {"--broker-id", broker_id});
  spec.program = kSelfExe;  // the demo's own binary, as the JSON lines must match
  spec.pipe_stdin = true;
  spec.pipe_stdout = true;
  spec.stderr_file = log;
  auto child = ChildProcess::start(spec);
  if (!child) return child.status();
  auto p = std::unique_ptr<NodeProcess>(new NodeProcess());
  p->child_ = std::move(child).value();
  p->node_ = node;
  p->log_ = log;
  return p;
}

std::uint64_t NodeProcess::send(v1::DemoCommand command) {
  const std::uint64_t id = next_command_++;
  command.set_id(id);
  return child_->write_line(to_json_line(command)) ? id : 0;
}

void NodeProcess::pump() {
  for (const auto& line : child_->read_lines()) {
    v1::DemoEvent e;
    Status parsed = from_json_line(line, &e);
    if (!parsed) {
      problems_.push_back(node_ + " printed a line that is not an event (" + parsed.to_string() + ")");
      continue;
    }
    switch (e.kind()) {
      case v1::DemoEvent::READY: ready_ = true; break;
      case v1::DemoEvent::RECEIVED: received_.push_back(std::move(e)); break;
      case v1::DemoEvent::ANSWER: answers_[e.command()] = std::move(e); break;
      case v1::DemoEvent::SESSION_CLOSED: session_closed_ = std::move(e); break;
      case v1::DemoEvent::FAILED: failure_ = std::move(e); break;
      default: problems_.push_back(node_ + " printed an event of unknown kind"); break;
    }
  }
}

const v1::DemoEvent* NodeProcess::answer(std::uint64_t command) const {
  auto it = answers_.find(command);
  return it == answers_.end() ? nullptr : &it->second;
}

const v1::DemoEvent* NodeProcess::received_report(const std::string& report_id_hex) const {
  for (const auto& e : received_) {
    if (e.report_id() == report_id_hex) return &e;
  }
  return nullptr;
}

std::vector<v1::DemoEvent> NodeProcess::take_new_received() {
  std::vector<v1::DemoEvent> out(received_.begin() + static_cast<std::ptrdiff_t>(taken_), received_.end());
  taken_ = received_.size();
  return out;
}

}  // namespace tearline::cli::demo
