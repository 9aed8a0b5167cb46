// PgStore::watch(): a LISTEN on its own connection for the other writers'
// commits (pg_store.h, "Several writers").
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
    if (!conn_) return listen(timeout_ms);
    try {
      receiver_->news = false;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      // Our own commits wake the connection too: wait again for the rest.
      for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return receiver_->news;
        conn_->conn.await_notification(static_cast<long>(left.count() / 1000000),
                                       static_cast<long>(left.count() % 1000000));
        if (receiver_->news) return true;
      }
    } catch (const std::exception&) {
      // The connection was lost: listen again at once.
      receiver_.reset();
      conn_.reset();
      return listen(timeout_ms);
    }
  }

 private:
  // Connects and LISTENs. Returns true: what was committed while nobody
  // listened is unknown, so the caller reads. When the server cannot be
  // reached, waits out `timeout_ms` first, so that it is not hammered.
  bool listen(std::int64_t timeout_ms) {
    try {
      conn_ = pg::connect(conninfo_, PgStore::kWatchApplicationName);
      receiver_ = std::make_unique<Receiver>(conn_->conn, own_writer_);
      conn_->conn.get_notifs();  // sends the LISTEN now, not at the first wait
    } catch (const std::exception&) {
      receiver_.reset();
      conn_.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    }
    return true;
  }

  const std::string conninfo_;
  const int own_writer_;
  std::unique_ptr<PgStore::Connection> conn_;
  std::unique_ptr<Receiver> receiver_;  // destroyed before conn_
};

}  // namespace

std::unique_ptr<StoreWatch> PgStore::watch() { return std::make_unique<PgWatch>(conninfo_, writer_id_); }

}  // namespace tearline::broker
