// The PostgreSQL store's schema (broker/pg_store.h), as migrations: entry
// v-1 of kPgMigrations takes a store from schema version v-1 to v. PgStore
// applies the missing ones at open, in one transaction, and records the
// version reached in schema_version (one row). A store whose version is
// higher than kPgSchemaVersion was made by a newer tearline: it is refused.
// Never edit a migration once released; add the next one.
//
// writer_id: the broker writer that wrote a row. Several brokers share the
// store, each as its own writer (writers.broker_id names it, version 2),
// numbering its reports and chaining its audit log on its own (seq and idx
// are per writer). Report ids and originators' sequences are shared by
// every writer: replay protection holds across brokers.
#pragma once

namespace tearline::broker {

inline constexpr int kPgSchemaVersion = 4;

inline constexpr const char* kPgMigrations[kPgSchemaVersion] = {
    // Version 1: the tables of the SQLite store (broker/sqlite_store.cc,
    // lib/audit/audit_db.h), plus writer_id, and writers in place of meta.
    R"sql(
CREATE TABLE writers (
  writer_id    integer PRIMARY KEY,
  last_seq     bigint NOT NULL DEFAULT 0,  -- the highest seq ever committed, kept when retention deletes
  report_bytes bigint NOT NULL DEFAULT 0   -- SUM(octet_length(bytes)) of its stored reports
);
CREATE TABLE reports (
  writer_id   integer NOT NULL,
  seq         bigint NOT NULL,
  report_id   bytea NOT NULL UNIQUE,       -- unique for good, across writers: REPLAYED_REPORT
  originator  text NOT NULL,
  agency      text NOT NULL,
  country     text NOT NULL,
  topic       text NOT NULL,
  sequence    bigint NOT NULL,
  accepted_ms bigint NOT NULL,
  bytes       bytea NOT NULL,
  receipt     bytea NOT NULL DEFAULT ''::bytea,
  PRIMARY KEY (writer_id, seq)
);
CREATE INDEX reports_by_time ON reports (writer_id, accepted_ms);
CREATE TABLE originators (
  node          text PRIMARY KEY,
  last_sequence bigint NOT NULL
);
CREATE TABLE subscriptions (
  node     text NOT NULL,
  pattern  text NOT NULL,
  position integer NOT NULL,               -- the pattern's place in the node's list
  PRIMARY KEY (node, pattern)
);
CREATE TABLE cursors (
  node      text NOT NULL,
  writer_id integer NOT NULL,              -- the acked seq is one of this writer's
  acked     bigint NOT NULL,
  PRIMARY KEY (node, writer_id)
);
CREATE TABLE audit (
  writer_id integer NOT NULL,
  idx       bigint NOT NULL,
  time_ms   bigint NOT NULL,
  event     text NOT NULL,
  node      text NOT NULL,
  report    text NOT NULL,
  decision  text NOT NULL,
  detail    text NOT NULL,
  prev_hash bytea NOT NULL,
  hash      bytea NOT NULL,
  PRIMARY KEY (writer_id, idx)
);
CREATE TABLE audit_checkpoints (
  writer_id integer NOT NULL,
  idx       bigint NOT NULL,
  time_ms   bigint NOT NULL,
  hash      bytea NOT NULL,
  signature bytea NOT NULL,
  PRIMARY KEY (writer_id, idx)
);
)sql",
    // Version 2: writers are named by their broker's node id (PgStore::open
    // registers a broker, or finds its writer again). The one writer of a
    // version 1 store is left unnamed (NULL): the first broker that opens
    // the store and may claim it does (pg_store.h, "Writers"). Each
    // originator's last report is located (writer, seq), and each report
    // names where its originator's previous one was when it was committed:
    // readers of several streams keep each originator's order with it.
    R"sql(
ALTER TABLE writers ADD COLUMN broker_id text UNIQUE;
ALTER TABLE originators ADD COLUMN last_writer integer, ADD COLUMN last_seq bigint;  -- last_seq NULL: deleted
ALTER TABLE reports ADD COLUMN prev_writer integer, ADD COLUMN prev_seq bigint;     -- NULL: none, or not known
-- Version 1 had one writer, 1: every originator's last report was its.
UPDATE originators o SET last_writer = 1,
  last_seq = (SELECT MAX(seq) FROM reports r WHERE r.writer_id = 1 AND r.originator = o.node);
)sql",
    // Version 3: claims. A node's durable state (subscriptions, cursors) is
    // written by the writer that last claimed it, under the claim's fencing
    // number, which every claim raises (pg_store.h, "Claims").
    R"sql(
CREATE TABLE node_claims (
  node   text PRIMARY KEY,
  holder integer NOT NULL,  -- the writer that holds the claim
  fence  bigint NOT NULL    -- raised by every claim
);
)sql",
    // Version 4: the path of a report that crossed from another agency's
    // broker (a serialized CrossingPath, docs/federation.md); empty for one
    // published to this store's brokers.
    R"sql(
ALTER TABLE reports ADD COLUMN path bytea NOT NULL DEFAULT ''::bytea;
)sql",
};

}  // namespace tearline::broker
