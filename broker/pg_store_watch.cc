// PgStore::watch(): a LISTEN on its own connection for the other writers'
// commits (pg_store.h, "Writers").
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "broker/pg_store_internal.h"

namespace tearline::broker {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, int own_writer)
      : pqxx::notification_receiver(c, PgStore::kNotifyChannel), own_(std::to_string(own_writer)) {}
  // Our own commits wake no one: the broker routes them itself.
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    if (payload != own_) news = true;
  }
  bool news = false;

 private:
  const std::string own_;
};

class PgWatch final : public StoreWatch {
 public:
  PgWatch(std::string conninfo, int own_writer) : conninfo_(std::move(conninfo)), own_writer_(own_writer) {}

  bool wait(std::int64_t timeout_ms) override {
    timeout_ms = std::clamp<std::int64_t>(timeout_ms, 0, 3600000);
    if (!conn_) return listen(timeout_ms);
    try {
      receiver_->news = false;
      conn_->conn.get_notifs();  // what has arrived already, even for a wait of 0
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      // Our own commits wake the connection too: wait again for the rest.
      while (!receiver_->news) {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        conn_->conn.await_notification(static_cast<long>(left.count() / 1000000),
                                       static_cast<long>(left.count() % 1000000));
      }
      // libpqxx 6.4 reconnects a lost connection by itself (and LISTENs
      // again) without saying so: a new server session missed whatever was
      // committed in between.
      if (conn_->conn.backendpid() != pid_) {
        pid_ = conn_->conn.backendpid();
        return true;
      }
      return receiver_->news;
    } catch (const std::exception&) {
      drop();
      return listen(timeout_ms);  // at once: the caller reads in any case
    }
  }

 private:
  // Connects and LISTENs (the receiver's constructor sends the LISTEN).
  // Returns true: what was committed while nobody listened is unknown, so
  // the caller reads. When the server cannot be reached, waits out
  // `timeout_ms` first, so that it is not hammered.
  bool listen(std::int64_t timeout_ms) {
    try {
      conn_ = pg::connect(conninfo_, PgStore::kWatchApplicationName);
      receiver_ = std::make_unique<Receiver>(conn_->conn, own_writer_);
      pid_ = conn_->conn.backendpid();
    } catch (const std::exception&) {
      drop();
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    }
    return true;
  }

  // Forgets the connection without a word to the server: closed first, so
  // that the receiver's UNLISTEN does not make libpqxx connect again.
  void drop() {
    if (conn_) conn_->conn.disconnect();
    receiver_.reset();
    conn_.reset();
  }

  const std::string conninfo_;
  const int own_writer_;
  std::unique_ptr<PgStore::Connection> conn_;
  std::unique_ptr<Receiver> receiver_;  // destroyed before conn_
  int pid_ = 0;                         // the LISTENing server session
};

}  // namespace

std::unique_ptr<StoreWatch> PgStore::watch() { return std::make_unique<PgWatch>(conninfo_, writer_id_); }

}  // namespace tearline::broker
