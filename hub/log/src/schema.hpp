#pragma once
// The log database's schema. Changes bump kSchemaVersion and add a migration step (docs/log-format.md).

namespace gridhub::log::detail {

// 1: the first. 2: `log.hash`, the hash chain (gridhub/log/chain.hpp). 3: `pii_keys`, the per-ticket
// keys that seal personal data (gridhub/log/pii_vault.hpp); `subscriptions` (cursors), `change_keys`
// and ticket-change records (kinds ticket_update, escalation, erasure); from 2 the step is only the
// CREATEs below.
inline constexpr int kSchemaVersion = 3;

inline constexpr const char* kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS log(
  seq         INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  ticket_id   TEXT,
  channel     INTEGER,
  source_key  TEXT,
  body        BLOB    NOT NULL,
  hash        BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS log_intake_key ON log(channel, source_key) WHERE source_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS tickets(
  ticket_id      TEXT PRIMARY KEY,
  created_seq    INTEGER NOT NULL,
  last_seq       INTEGER NOT NULL,
  status         INTEGER NOT NULL,
  category_code  TEXT,
  community_code TEXT,
  grid_code      TEXT,
  tier           INTEGER,
  assignee_code  TEXT,
  body           BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters(
  id          INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  adapter_id  TEXT,
  channel     INTEGER,
  source_key  TEXT,
  reason_code TEXT NOT NULL,
  field       TEXT,
  detail      TEXT,
  location    TEXT,
  payload     BLOB
);
CREATE TABLE IF NOT EXISTS change_keys(
  key         TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions(
  name        TEXT PRIMARY KEY,
  identity    TEXT NOT NULL,
  acked_seq   INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL

) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pii_keys(
  key_id TEXT PRIMARY KEY,
  key    BLOB NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_key ON dead_letters(channel, source_key) WHERE source_key IS NOT NULL;
)sql";

/// Version 1 -> 2: the column; the writer's migration step then fills it in seq order.
inline constexpr const char* kMigrateV1ToV2 = "ALTER TABLE log ADD COLUMN hash BLOB";

}  // namespace gridhub::log::detail
