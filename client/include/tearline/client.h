// The tearline client library: one public header.
//
// A Session is one agency node's connection to a broker: CURVE with the
// node's transport key, HELLO/WELCOME, then publish (build, seal to every
// eligible recipient, sign), subscribe, and receive verified, opened reports
// with a status per section. Broker errors come back as values (code and
// every reason). After a broker restart the session says HELLO again and
// re-subscribes by itself; duplicate deliveries are dropped by report id.
//
// Threading: a Session is used from one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"
#include "report/builder.h"
#include "report/verify.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::client {

struct SessionOptions {
  std::string endpoint;                  // e.g. tcp://127.0.0.1:7801
  std::filesystem::path directory;       // PKI directory: trust.toml, credentials/, ..., broker.pub
  std::filesystem::path key_file;        // the node's key file (mode 0600)
  std::string node_id;
  int connect_timeout_ms = 5000;         // HELLO answered within this, or UNAVAILABLE
  int request_timeout_ms = 5000;         // each request answered within this
  std::string client_name = "tearline-client";
};

struct PublishOutcome {
  bool accepted = false;
  Bytes report_id;
  std::uint64_t broker_seq = 0;
  Status status;  // the broker's reasons when rejected
};

struct ReceivedSection {
  report::SectionStatus status = report::SectionStatus::kWithheld;
  std::optional<policy::Label> label;
  std::string text;  // when opened
};

struct Received {
  std::uint64_t broker_seq = 0;
  Status verification;  // OK when the signature and every commitment verified
  std::string report_id_hex, originator, topic;
  std::int64_t created_at_ms = 0;
  std::vector<ReceivedSection> sections;
  Bytes raw;  // the report bytes as delivered
};

class Session {
 public:
  // Loads the directory and key file, connects and says HELLO. Fails with the
  // broker's ERROR (e.g. SESSION_REVOKED) or, when nothing answers within
  // connect_timeout_ms, UNAVAILABLE.
  static Result<std::unique_ptr<Session>> connect(const SessionOptions& options);
  ~Session();

  const std::string& node_id() const;
  const identity::Directory& directory() const;

  // Builds the report (sealed to every node its labels admit now, signed),
  // sends it and waits for the verdict. Sequence and created-at are filled in.
  Result<PublishOutcome> publish(report::ReportDraft draft);
  // Sends report bytes as they are (for testers) and waits for the verdict.
  Result<PublishOutcome> publish_bytes(ByteView report);
  // Builds a report without sending it (for `tearline explain` and testers).
  Result<report::BuiltReport> build(report::ReportDraft draft);

  Status subscribe(const std::vector<std::string>& patterns);
  Status unsubscribe(const std::vector<std::string>& patterns);
  Status admin_reload();

  // Waits up to timeout_ms for the next report; verifies, opens and ACKs it.
  // nullopt on timeout.
  std::optional<Received> receive(int timeout_ms);

  // For testers: sends raw bytes as one frame; returns the next frame the
  // broker sends that is not a DELIVER (or nullopt on timeout).
  std::optional<tearline::v1::Frame> send_raw(ByteView frame_bytes, int timeout_ms);
  // The last ERROR frame received outside a request, if any (cleared on read).
  std::optional<Status> take_session_error();

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Verifies and opens delivered report bytes as `node_id` (used by Session,
// and by tools that read a report from a file).
Received open_delivered(ByteView report, std::uint64_t broker_seq, const identity::Directory& directory,
                        std::string_view node_id, const crypto::SealingKey& key);

}  // namespace tearline::client
