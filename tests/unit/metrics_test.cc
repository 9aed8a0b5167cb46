// broker/metrics and broker/metrics_server: the Prometheus text format the
// broker serves (docs/observability.md), its loopback-only endpoint, and
// the configuration key that sets it.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "broker/config.h"
#include "broker/live_events.h"
#include "broker/metrics.h"
#include "broker/metrics_server.h"
#include "support/temp_dir.h"

using namespace tearline;
using namespace tearline::broker;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_CASE("metrics: a histogram's buckets are cumulative, with +Inf, sum and count") {
  Histogram h({0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.001, 0.002, 0.05, 7.0}) h.observe(v);
  std::string out;
  h.render("x_seconds", "help.", &out);
  CHECK(has_line(out, "# TYPE x_seconds histogram"));
  CHECK(has_line(out, "x_seconds_bucket{le=\"0.001\"} 2"));  // a value equal to a bound is in its bucket
  CHECK(has_line(out, "x_seconds_bucket{le=\"0.01\"} 3"));
  CHECK(has_line(out, "x_seconds_bucket{le=\"0.1\"} 4"));
  CHECK(has_line(out, "x_seconds_bucket{le=\"+Inf\"} 5"));
  CHECK(has_line(out, "x_seconds_sum 7.0535"));
  CHECK(has_line(out, "x_seconds_count 5"));
}

TEST_CASE("metrics: counters by code are labelled by the code's stable name, and label values are escaped") {
  CodeCounter c;
  c.add(Code::REPORT_SIGNATURE);
  c.add(Code::REPORT_SIGNATURE, 2);
  c.add(Code::STALE_REPORT);
  std::string out;
  c.render("r_total", "help.", "code", &out);
  CHECK(has_line(out, "# TYPE r_total counter"));
  CHECK(has_line(out, "r_total{code=\"REPORT_SIGNATURE\"} 3"));
  CHECK(has_line(out, "r_total{code=\"STALE_REPORT\"} 1"));
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("metrics: render has every family once, the counters and the published gauges") {
  Metrics m;
  m.rejected_by_code.add(Code::TOPIC_WRITE_DENIED);
  m.crossings_refused.add(Code::CROSSING_LOOP);
  m.crossings_taken = 4;
  GaugeSnapshot g;
  g.sessions_ready = 3;
  g.sessions_new = 1;
  g.broker_id = "tearline-broker";
  g.directory_generation = 2;
  g.last_checkpoint_ms = 10'000;
  m.set_gauges(g);
  CounterSnapshot c;
  c.accepted = 12;
  c.rejected = 1;
  c.delivered = 30;
  const std::string out = m.render(c, "0.2.0 (git abc)", 1'000, 25'500);
  CHECK(has_line(out, "tearline_build_info{version=\"0.2.0 (git abc)\",broker_id=\"tearline-broker\"} 1"));
  CHECK(has_line(out, "tearline_start_time_seconds 1"));
  CHECK(has_line(out, "tearline_reports_accepted_total 12"));
  CHECK(has_line(out, "tearline_reports_rejected_by_code_total{code=\"TOPIC_WRITE_DENIED\"} 1"));
  CHECK(has_line(out, "tearline_deliveries_total 30"));
  CHECK(has_line(out, "tearline_crossings_taken_total 4"));
  CHECK(has_line(out, "tearline_crossings_refused_total{code=\"CROSSING_LOOP\"} 1"));
  CHECK(has_line(out, "tearline_sessions{state=\"new\"} 1"));
  CHECK(has_line(out, "tearline_sessions{state=\"ready\"} 3"));
  CHECK(has_line(out, "tearline_directory_generation 2"));
  CHECK(has_line(out, "tearline_audit_checkpoint_age_seconds 15.5"));
  // Each family's TYPE line once.
  std::size_t types = 0;
  for (std::size_t at = out.find("# TYPE "); at != std::string::npos; at = out.find("# TYPE ", at + 1)) ++types;
  std::size_t helps = 0;
  for (std::size_t at = out.find("# HELP "); at != std::string::npos; at = out.find("# HELP ", at + 1)) ++helps;
  CHECK(types == helps);
  CHECK(types == 33);
}

TEST_CASE("DOC TRUTH: docs/observability.md lists every metric family the broker serves, with its type") {
  std::ifstream in(std::string(TEARLINE_SOURCE_DIR) + "/docs/observability.md");
  REQUIRE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string out = Metrics().render(CounterSnapshot{}, "v", 0, 0);
  std::istringstream lines(out);
  std::set<std::string> served;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string rest = line.substr(7);
    const std::string name = rest.substr(0, rest.find(' '));
    const std::string type = rest.substr(rest.find(' ') + 1);
    INFO(name << " " << type);
    CHECK(doc.find("| `" + name + "` | " + type + " |") != std::string::npos);
    served.insert(name);
  }
  CHECK(served.size() == 33);
  // And the table names nothing the broker does not serve.
  for (std::size_t at = doc.find("| `tearline_"); at != std::string::npos; at = doc.find("| `tearline_", at + 1)) {
    const std::string name = doc.substr(at + 3, doc.find('`', at + 3) - at - 3);
    INFO(name);
    CHECK(served.count(name) == 1);
  }
}

TEST_CASE("metrics: the endpoint listens on loopback only, answers /metrics and 404 elsewhere") {
  std::string host;
  int port = -1;
  const auto parse_loopback_listen = [](const std::string& listen, std::string* h, int* p) {
    bool loopback = false;
    return parse_listen(listen, h, p, &loopback) && loopback;
  };
  CHECK(parse_loopback_listen("127.0.0.1:9464", &host, &port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 9464);
  CHECK(parse_loopback_listen("[::1]:0", &host, &port));
  CHECK(host == "::1");
  CHECK(parse_loopback_listen("localhost:80", &host, &port));
  CHECK(host == "127.0.0.1");  // not whatever /etc/hosts says
  CHECK(parse_loopback_listen("127.1.2.3:1", &host, &port));
  for (const char* refused : {"0.0.0.0:9464", "10.0.0.7:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                              "127.0.0.256:1", "127.0.0:1", "127.0.0.1.5:1", "example.org:80", ":9464", "127.0.0.1:9x",
                              "127.0.0.1:-0", "127.0.0.1:+80", "LOCALHOST:80", "127..0.1:80"}) {
    INFO(refused);
    CHECK_FALSE(parse_loopback_listen(refused, &host, &port));
  }

  auto server = MetricsServer::bind("127.0.0.1:0", [] { return std::string("tearline_up 1\n"); });
  REQUIRE(server);
  (*server)->serve();
  const std::string address = (*server)->address();
  REQUIRE(address.rfind("127.0.0.1:", 0) == 0);
  httplib::Client client("127.0.0.1", std::stoi(address.substr(10)));
  auto got = client.Get("/metrics");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == "tearline_up 1\n");
  CHECK(got->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  auto other = client.Get("/other");
  REQUIRE(other);
  CHECK(other->status == 404);
  CHECK(MetricsServer::bind("0.0.0.0:0", [] { return std::string(); }).code() == Code::INVALID_FIELD);
  // The port is not shared with a second server (no SO_REUSEPORT).
  auto second = MetricsServer::bind(address, [] { return std::string(); });
  CHECK(second.code() == Code::IO_ERROR);
  // A server bound and never served, and one stopped at once, are destroyed without waiting.
  {
    auto idle = MetricsServer::bind("127.0.0.1:0", [] { return std::string(); });
  }
  {
    auto quick = MetricsServer::bind("127.0.0.1:0", [] { return std::string(); });
    REQUIRE(quick);
    (*quick)->serve();
  }
}

TEST_CASE("live events: a bounded ring numbered without a gap; readers wait, and close wakes them") {
  LiveEvents live;
  live.reload(2, {"dea-gone"});
  live.session("node-\"a\"\n", true);
  auto all = live.after(0, 10, 0);
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == 1);
  CHECK(all[0].type == "reload");
  CHECK(all[0].data == R"({"generation":2,"ended":["dea-gone"]})");
  CHECK(all[1].data == R"({"node":"node-\"a\"\n","state":"ready","reason":""})");
  CHECK(live.after(2, 10, 0).empty());
  for (std::size_t i = 0; i < LiveEvents::kCapacity + 5; ++i) live.reload(i);
  auto kept = live.after(0, LiveEvents::kCapacity + 10, 0);
  REQUIRE(kept.size() == LiveEvents::kCapacity);
  CHECK(kept.front().id == 8);  // the 7 oldest left the ring
  CHECK(kept.back().id == LiveEvents::kCapacity + 7);
  std::thread waiter([&] { CHECK(live.after(kept.back().id, 1, 60'000).empty()); });
  live.close();
  waiter.join();  // woken at once, not after a minute
  CHECK(json_quote(std::string("a\x01"
                               "b")) == "\"a\\u0001b\"");
}

TEST_CASE("live events: GET /events streams them as server-sent events, and a stop ends an open stream") {
  LiveEvents live;
  live.reload(1);
  auto server = MetricsServer::bind(
      "127.0.0.1:0", [] { return std::string(); }, nullptr, &live);
  REQUIRE(server);
  (*server)->serve();
  const int port = std::stoi((*server)->address().substr(10));
  std::string got;
  std::atomic<bool> first{false};
  std::thread reader([&] {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    (void)client.Get("/events", [&](const char* data, std::size_t n) {
      got.append(data, n);
      first = got.find("-2\nevent: ") != std::string::npos;
      return true;  // keep reading until the server ends the stream
    });
  });
  live.session("diran-bogota-hq", true);
  for (int i = 0; i < 500 && !first; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(first);
  const std::string epoch = std::to_string(live.epoch());
  CHECK(got.find("id: " + epoch + "-1\nevent: reload\ndata: {\"generation\":1,\"ended\":[]}\n\n") != std::string::npos);
  CHECK(got.find("id: " + epoch + "-2\nevent: session\ndata: ") != std::string::npos);
  {
    INFO("a reader that resumes gets what came after its last id; a Host other than the address is refused");
    live.reload(3);
    httplib::Client again("127.0.0.1", port);
    again.set_read_timeout(5, 0);
    std::string resumed;
    (void)again.Get("/events", {{"Last-Event-ID", epoch + "-2"}}, [&](const char* data, std::size_t n) {
      resumed.append(data, n);
      return resumed.find("\n\n") == std::string::npos;  // the first event, then stop
    });
    CHECK(resumed.rfind("id: " + epoch + "-3\nevent: reload\n", 0) == 0);
    // An id of another run (the broker restarted): from the start of this one.
    std::string fresh;
    (void)again.Get("/events", {{"Last-Event-ID", "1-2"}}, [&](const char* data, std::size_t n) {
      fresh.append(data, n);
      return fresh.find("\n\n") == std::string::npos;
    });
    CHECK(fresh.rfind("id: " + epoch + "-1\n", 0) == 0);
    auto rebound = again.Get("/metrics", {{"Host", "attacker.example:80"}});
    REQUIRE(rebound);
    CHECK(rebound->status == 403);
  }
  const auto began = std::chrono::steady_clock::now();
  server->reset();  // the stream is open: the stop must end it
  reader.join();
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(5));
}

TEST_CASE("metrics: off loopback only with a token, which every request must carry") {
  std::string host;
  int port = -1;
  bool loopback = true;
  CHECK(parse_listen("0.0.0.0:9464", &host, &port, &loopback));
  CHECK_FALSE(loopback);
  CHECK(parse_listen("[::]:9464", &host, &port, &loopback));
  CHECK(host == "::");
  CHECK_FALSE(loopback);
  CHECK(parse_listen("[::1]:9464", &host, &port, &loopback));
  CHECK(loopback);
  CHECK_FALSE(parse_listen("[zz]:9464", &host, &port, &loopback));
  CHECK_FALSE(parse_listen("metrics.example:9464", &host, &port, &loopback));
  CHECK_FALSE(parse_listen("127.000.000.001:9464", &host, &port, &loopback));  // no leading zeros

  const std::string token(40, 'k');
  CHECK(MetricsServer::bind("0.0.0.0:0", [] { return std::string(); }).code() == Code::INVALID_FIELD);
  auto server = MetricsServer::bind(
      "127.0.0.1:0", [] { return std::string("up 1\n"); }, nullptr, nullptr, token);
  REQUIRE(server);
  (*server)->serve();
  httplib::Client client("127.0.0.1", std::stoi((*server)->address().substr(10)));
  auto none = client.Get("/metrics");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate") == "Bearer");
  auto wrong = client.Get("/metrics", {{"Authorization", "Bearer " + std::string(40, 'x')}});
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  auto bearer = client.Get("/metrics", {{"Authorization", "Bearer " + token}});
  REQUIRE(bearer);
  CHECK(bearer->status == 200);
  CHECK(bearer->body == "up 1\n");
  auto query = client.Get("/live?token=" + token);
  REQUIRE(query);
  CHECK(query->status == 404);  // past the token (no /live without a live stream here)
  auto query_metrics = client.Get("/metrics?token=" + token);
  REQUIRE(query_metrics);
  CHECK(query_metrics->status == 401);  // ?token= is for the page and its stream only

  testing::TempDir dir;
  const auto file = dir.path() / "token";
  {
    std::ofstream out(file);
    out << token << "\n";
  }
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto read = read_token_file(file);
  INFO(read.status().to_string());
  REQUIRE(read);
  CHECK(*read == token);
  std::filesystem::permissions(file, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  CHECK(read_token_file(file).code() == Code::KEY_FILE);
  {
    std::ofstream out(file, std::ios::trunc);
    out << "short\n";
  }
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK(read_token_file(file).code() == Code::KEY_FILE);
  CHECK(read_token_file(dir.path() / "missing").code() == Code::KEY_FILE);
}

TEST_CASE("metrics: broker.metrics_listen must be a loopback HOST:PORT") {
  const std::string base =
      "[broker]\nkey_file = \"k\"\ndirectory = \"d\"\npolicy = \"p\"\ndata_dir = \"x\"\nmetrics_listen = ";
  auto ok = parse_config(base + "\"127.0.0.1:9464\"\n", "/tmp", "t.toml");
  INFO(ok.status().to_string());
  REQUIRE(ok);
  CHECK(ok->metrics_listen == "127.0.0.1:9464");
  auto off = parse_config("[broker]\nkey_file = \"k\"\ndirectory = \"d\"\npolicy = \"p\"\ndata_dir = \"x\"\n", "/tmp",
                          "t.toml");
  REQUIRE(off);
  CHECK(off->metrics_listen.empty());
  auto wide = parse_config(base + "\"0.0.0.0:9464\"\n", "/tmp", "t.toml");
  REQUIRE_FALSE(wide);
  CHECK(wide.status().to_string().find("metrics_listen must be HOST:PORT with a loopback host") != std::string::npos);
  auto tokened = parse_config(base + "\"0.0.0.0:9464\"\nmetrics_token_file = \"tok\"\n", "/tmp", "t.toml");
  INFO(tokened.status().to_string());
  REQUIRE(tokened);
  CHECK(tokened->metrics_token_file == "/tmp/tok");
  auto alone = parse_config(
      "[broker]\nkey_file = \"k\"\ndirectory = \"d\"\npolicy = \"p\"\ndata_dir = \"x\"\nmetrics_token_file = \"t\"\n",
      "/tmp", "t.toml");
  CHECK_FALSE(alone);
}
