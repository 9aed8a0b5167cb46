// lib/identity: what the directory holds in force: validity in time,
// revocation, consent to charters, and the trust store it needs to load
// (helpers: identity_test_helpers.h).
#include <catch2/catch.hpp>

#include "identity_test_helpers.h"

namespace tearline::identity_test {

// ---- validity in time --------------------------------------------------------

TEST_CASE("credential validity is a question asked with a time") {
  const Directory& dir = *world().directory();
  const identity::Credential* c = dir.node("dea-cucuta-agent");
  REQUIRE(c != nullptr);
  struct Row {
    std::string what;
    std::int64_t t;
    Code expected;
  };
  const Row rows[] = {
      {"a second before not_before", c->not_before - 1, Code::NOT_YET_VALID},
      {"a year before", c->not_before - 365 * kDay, Code::NOT_YET_VALID},
      {"at not_before (inclusive)", c->not_before, Code::OK},
      {"demo now", kDemoNow, Code::OK},
      {"a second before not_after", c->not_after - 1, Code::OK},
      {"at not_after (exclusive)", c->not_after, Code::EXPIRED},
      {"ten years later", c->not_after + 3650 * kDay, Code::EXPIRED},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    CHECK(dir.check_node("dea-cucuta-agent", row.t).code() == row.expected);
  }
}

TEST_CASE("expired and not-yet-valid credentials load with a warning and fail check_node") {
  FreshWorld fresh;
  identity::IssueRequest past{"dea-retired", "DEA", v1::SECRET, {"agent"}, kDemoNow - 30 * kDay, kDemoNow - kDay, 0};
  identity::IssueRequest future{"dea-incoming", "DEA", v1::SECRET, {"agent"}, kDemoNow + kDay, kDemoNow + 30 * kDay, 0};
  REQUIRE(identity::issue_node(fresh.pki, past));
  REQUIRE(identity::issue_node(fresh.pki, future));

  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  CHECK(has_issue(report.warnings, "dea-retired.cred", Code::EXPIRED));
  CHECK(has_issue(report.warnings, "dea-incoming.cred", Code::NOT_YET_VALID));
  CHECK(dir->check_node("dea-retired", kDemoNow).code() == Code::EXPIRED);
  CHECK(dir->check_node("dea-incoming", kDemoNow).code() == Code::NOT_YET_VALID);
  CHECK(dir->check_node("dea-incoming", kDemoNow + kDay).is_ok());
  CHECK(dir->check_node("dea-retired", kDemoNow - 2 * kDay).is_ok());

  identity::IssueRequest inverted{"dea-bad", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow, 0};
  CHECK(identity::issue_node(fresh.pki, inverted).code() == Code::INVALID_FIELD);
  identity::IssueRequest unset{"dea-bad", "DEA", v1::CLASSIFICATION_UNSET, {}, kDemoNow, kDemoNow + kDay, 0};
  CHECK(identity::issue_node(fresh.pki, unset).code() == Code::INVALID_FIELD);
}

TEST_CASE("a charter outside its window is not in force") {
  FreshWorld fresh;
  auto v = identity::create_charter(fresh.pki, "later-cell", "DIRAN", {"diran-bogota-hq"}, kDemoNow + kDay,
                                    kDemoNow + 10 * kDay);
  REQUIRE(v);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "later-cell", *v, "DIRAN"));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  CHECK(dir->charter_in_force("later-cell", kDemoNow).code() == Code::NOT_YET_VALID);
  CHECK_FALSE(dir->is_member("diran-bogota-hq", "later-cell", kDemoNow));
  CHECK(dir->is_member("diran-bogota-hq", "later-cell", kDemoNow + kDay));
  CHECK(dir->charter_in_force("later-cell", kDemoNow + 10 * kDay).code() == Code::EXPIRED);
}

// ---- revocation --------------------------------------------------------------

TEST_CASE("a revoked serial makes check_node REVOKED, for that agency only") {
  FreshWorld fresh;
  LoadReport before_report;
  auto before = load(fresh.pki, &before_report);
  const std::uint64_t serial = serial_of(*before, "dea-cucuta-agent");
  // Serials are per agency: DIRAN's commander has the same number.
  REQUIRE(serial_of(*before, "diran-cucuta-commander") == serial);
  REQUIRE(before->check_node("dea-cucuta-agent", kDemoNow).is_ok());

  auto number = identity::revoke(fresh.pki, "DEA", {{serial}}, {}, kDemoNow);
  REQUIRE(number);
  CHECK(*number == 2);
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  const Status s = dir->check_node("dea-cucuta-agent", kDemoNow);
  CHECK(s.code() == Code::REVOKED);
  CHECK(s.reasons().size() == 1);
  CHECK(dir->check_node("dea-bogota-analyst", kDemoNow).is_ok());
  CHECK(dir->check_node("diran-cucuta-commander", kDemoNow).is_ok());
  REQUIRE(dir->revocation_list("DEA") != nullptr);
  CHECK(dir->revocation_list("DEA")->number == 2);

  // The next list keeps what the previous one revoked.
  REQUIRE(identity::revoke(fresh.pki, "DEA", {{serial_of(*dir, "dea-bogota-analyst")}}, {}, kDemoNow));
  LoadReport report3;
  auto dir3 = load(fresh.pki, &report3);
  CHECK(dir3->revocation_list("DEA")->number == 3);
  CHECK(dir3->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);
  CHECK(dir3->check_node("dea-bogota-analyst", kDemoNow).code() == Code::REVOKED);
}

TEST_CASE("a charter version revoked by a party agency is no longer in force") {
  FreshWorld fresh;
  // A non-party withdrawing "consent" it never gave changes nothing.
  REQUIRE(identity::revoke(fresh.pki, "FGR", {}, {{"cucuta-jtf", 1}}, kDemoNow));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(dir->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));

  REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {{"cucuta-jtf", 1}}, kDemoNow));
  LoadReport report2;
  auto revoked = load(fresh.pki, &report2);
  CHECK(report2.rejected.empty());
  CHECK(revoked->charter_in_force("cucuta-jtf", kDemoNow).code() == Code::REVOKED);
  for (const char* member : {"dea-cucuta-agent", "diran-cucuta-commander", "diran-cucuta-analyst"}) {
    INFO(member);
    CHECK(revoked->units_of(member, kDemoNow).empty());
    CHECK_FALSE(revoked->is_member(member, "cucuta-jtf", kDemoNow));
  }
}

TEST_CASE("the highest charter version in force wins; revoking it falls back") {
  FreshWorld fresh;
  // v2 drops the DEA agent; DEA is then no party and need not sign.
  auto v2 = identity::create_charter(fresh.pki, "cucuta-jtf", "DIRAN", {"diran-cucuta-commander"}, kDemoNow - 3600,
                                     kDemoNow + 30 * kDay);
  REQUIRE(v2);
  REQUIRE(*v2 == 2);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "cucuta-jtf", 2, "DIRAN"));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  auto in_force = dir->charter_in_force("cucuta-jtf", kDemoNow);
  REQUIRE(in_force);
  CHECK((*in_force)->version == 2);
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));
  CHECK(dir->is_member("diran-cucuta-commander", "cucuta-jtf", kDemoNow));

  REQUIRE(identity::revoke(fresh.pki, "DIRAN", {}, {{"cucuta-jtf", 2}}, kDemoNow));
  LoadReport report2;
  auto fallback = load(fresh.pki, &report2);
  auto v1_in_force = fallback->charter_in_force("cucuta-jtf", kDemoNow);
  REQUIRE(v1_in_force);
  CHECK((*v1_in_force)->version == 1);
  CHECK(fallback->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));
}

TEST_CASE("a revocation list with a lower number than the one held is REVOCATION_ROLLBACK") {
  FreshWorld fresh;
  LoadReport r0;
  const std::uint64_t serial = serial_of(*load(fresh.pki, &r0), "dea-cucuta-agent");
  REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // list 2: nothing revoked
  const Bytes list2 = read_bytes(fresh.pki.revocation_list("DEA"));
  REQUIRE(identity::revoke(fresh.pki, "DEA", {{serial}}, {}, kDemoNow).is_ok());  // list 3: the agent revoked
  LoadReport held_report;
  auto held = load(fresh.pki, &held_report);
  REQUIRE(held->revocation_list("DEA")->number == 3);
  REQUIRE(held->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);

  // Someone puts list 2 back.
  write_bytes(fresh.pki.revocation_list("DEA"), list2);

  // Control: a first load, with nothing held, takes list 2 at face value.
  LoadReport naive_report;
  auto naive = load(fresh.pki, &naive_report);
  CHECK(naive->revocation_list("DEA")->number == 2);
  CHECK(naive->check_node("dea-cucuta-agent", kDemoNow).is_ok());

  LoadReport report;
  auto reloaded = load(fresh.pki, &report, held.get());
  CHECK(has_issue(report.rejected, "DEA.crl", Code::REVOCATION_ROLLBACK, "older than list 3"));
  REQUIRE(reloaded->revocation_list("DEA") != nullptr);
  CHECK(reloaded->revocation_list("DEA")->number == 3);
  CHECK(reloaded->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);

  SECTION("a list with a higher number replaces the held one") {
    REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // 2 + 1 = 3 again, from list 2
    REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // 4, still without the agent
    LoadReport newer_report;
    auto newer = load(fresh.pki, &newer_report, held.get());
    CHECK(newer_report.rejected.empty());
    CHECK(newer->revocation_list("DEA")->number == 4);
    CHECK(newer->check_node("dea-cucuta-agent", kDemoNow).is_ok());
  }
}

// ---- consent -----------------------------------------------------------------

TEST_CASE("a charter lacking a party's consent is rejected with MISSING_CONSENT") {
  FreshWorld fresh;
  const std::int64_t from = kDemoNow - 3600, to = kDemoNow + 30 * kDay;

  // DIRAN hosts and enrolls a DEA agent; DEA never co-signs.
  auto v = identity::create_charter(fresh.pki, "border-cell", "DIRAN", {"diran-cucuta-analyst", "dea-cucuta-agent"},
                                    from, to);
  REQUIRE(v);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "border-cell", *v, "DIRAN"));
  // DEA signs a unit hosted by DIRAN; DIRAN never does.
  auto w = identity::create_charter(fresh.pki, "dea-cell", "DIRAN", {"dea-bogota-analyst"}, from, to);
  REQUIRE(w);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "dea-cell", *w, "DEA"));
  // Nobody signs.
  REQUIRE(identity::create_charter(fresh.pki, "empty-cell", "DIRAN", {"diran-bogota-hq"}, from, to));

  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(has_issue(report.rejected, "border-cell.v1.charter", Code::MISSING_CONSENT, "DEA"));
  CHECK(has_issue(report.rejected, "dea-cell.v1.charter", Code::MISSING_CONSENT, "DIRAN (the host agency)"));
  CHECK(has_issue(report.rejected, "empty-cell.v1.charter", Code::BAD_SIGNATURE, "no signature"));
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "border-cell", kDemoNow));
  CHECK_FALSE(dir->is_member("diran-cucuta-analyst", "border-cell", kDemoNow));
  CHECK_FALSE(dir->is_member("dea-bogota-analyst", "dea-cell", kDemoNow));
  CHECK(dir->unit_ids() == std::vector<std::string>{"cucuta-jtf"});

  // Control: once DEA co-signs, the unit takes effect.
  REQUIRE(identity::cosign_charter_file(fresh.pki, "border-cell", *v, "DEA"));
  LoadReport after;
  auto consented = load(fresh.pki, &after);
  CHECK_FALSE(has_issue(after.rejected, "border-cell.v1.charter", Code::MISSING_CONSENT));
  CHECK(consented->is_member("dea-cucuta-agent", "border-cell", kDemoNow));
}

TEST_CASE("a charter listing a node under an agency that is not its own enrolls nobody") {
  // DIRAN alone signs a charter that claims the DEA agent is a DIRAN member.
  v1::CharterBody body;
  body.set_format_version(1);
  body.set_unit_id("hijack");
  body.set_host_agency("DIRAN");
  body.set_version(1);
  body.set_not_before(kDemoNow - 3600);
  body.set_not_after(kDemoNow + kDay);
  auto* m = body.add_members();
  m->set_node_id("dea-cucuta-agent");
  m->set_agency("DIRAN");
  auto* own = body.add_members();
  own->set_node_id("diran-bogota-hq");
  own->set_agency("DIRAN");
  const Bytes charter = make_signed(serialize_canonical(body), {{"DIRAN", &key_of("DIRAN"), tags::kCharter}});
  REQUIRE(identity::verify_charter(charter, demo_trust()).is_ok());  // consistent on its own

  Directory::Sources sources;
  sources.credentials.emplace_back("dea-cucuta-agent.cred", read_bytes(world().pki().credential("dea-cucuta-agent")));
  sources.credentials.emplace_back("diran-bogota-hq.cred", read_bytes(world().pki().credential("diran-bogota-hq")));
  sources.charters.emplace_back("hijack.v1.charter", charter);
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  CHECK(has_issue(report.rejected, "unit hijack member dea-cucuta-agent", Code::WRONG_AUTHORITY));
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "hijack", kDemoNow));
  CHECK(dir->units_of("dea-cucuta-agent", kDemoNow).empty());
  CHECK(dir->is_member("diran-bogota-hq", "hijack", kDemoNow));
}

// ---- the trust store ---------------------------------------------------------

TEST_CASE("a directory without a usable trust store does not load") {
  struct Row {
    std::string what;
    std::optional<std::string> trust_toml;  // nullopt: no file
    Code expected;
  };
  const std::string key = to_hex(demo_trust().authority("DEA")->verify_key.view());
  const Row rows[] = {
      {"missing trust store", std::nullopt, Code::IO_ERROR},
      {"empty file", "", Code::EMPTY_TRUST_STORE},
      {"comments only", "# nothing pinned yet\n", Code::EMPTY_TRUST_STORE},
      {"an empty authority list", "authority = []\n", Code::EMPTY_TRUST_STORE},
      {"not TOML", "[[authority]\nagency = \n", Code::INVALID_FIELD},
      {"short key", "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"abcd\"\n", Code::INVALID_FIELD},
      {"unknown country", "[[authority]]\nagency = \"DEA\"\ncountry = \"XXX\"\nverify_key = \"" + key + "\"\n",
       Code::INVALID_FIELD},
      {"agency pinned twice",
       "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key +
           "\"\n[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\n",
       Code::DUPLICATE_OBJECT},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    TempDir dir;
    fs::create_directories(dir.path() / "credentials");
    fs::copy_file(world().pki().credential("dea-cucuta-agent"), dir.path() / "credentials" / "dea-cucuta-agent.cred");
    if (row.trust_toml) write_bytes(dir.path() / "trust.toml", as_bytes(*row.trust_toml));
    LoadReport report;
    auto loaded = Directory::load(dir.path(), kDemoNow, &report);
    CHECK(loaded.code() == row.expected);
  }

  // Control: the same folder with one good authority loads the credential.
  TempDir dir;
  fs::create_directories(dir.path() / "credentials");
  fs::copy_file(world().pki().credential("dea-cucuta-agent"), dir.path() / "credentials" / "dea-cucuta-agent.cred");
  write_bytes(dir.path() / "trust.toml",
              as_bytes("[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\n"));
  LoadReport report;
  auto loaded = Directory::load(dir.path(), kDemoNow, &report);
  REQUIRE(loaded);
  CHECK((*loaded)->node("dea-cucuta-agent") != nullptr);
}

}  // namespace tearline::identity_test
