/**
 * The catalogue's tables. One row per alert (candid is the primary key, so a candid delivered twice is
 * recorded once), where its bytes are (segment file, byte offset, length; and its Kafka position), the
 * next offset of every archived partition, the segments' durable sizes, the nights and their state, and
 * the quarantine. Bumping SCHEMA_VERSION needs a migration step in catalogue.ts.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS alerts (
  candid          INTEGER PRIMARY KEY,
  object_id       TEXT    NOT NULL,
  night           TEXT    NOT NULL,
  programid       INTEGER NOT NULL,
  jd              REAL    NOT NULL,
  ra              REAL    NOT NULL,
  dec             REAL    NOT NULL,
  fid             INTEGER NOT NULL,
  magpsf          REAL,
  sigmapsf        REAL,
  rb              REAL,
  drb             REAL,
  schema_version  TEXT    NOT NULL,
  topic           TEXT,
  partition       INTEGER,
  kafka_offset    INTEGER,
  kafka_timestamp INTEGER,
  segment         TEXT    NOT NULL,
  byte_offset     INTEGER NOT NULL,
  byte_length     INTEGER NOT NULL,
  archived_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_object ON alerts (object_id, jd);
CREATE INDEX IF NOT EXISTS alerts_by_night ON alerts (night, programid, jd);
CREATE INDEX IF NOT EXISTS alerts_by_segment ON alerts (segment, byte_offset);
CREATE VIRTUAL TABLE IF NOT EXISTS alerts_sky USING rtree (candid, ra_min, ra_max, dec_min, dec_max);

CREATE TABLE IF NOT EXISTS positions (
  topic       TEXT    NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS segments (
  key        TEXT    PRIMARY KEY,
  night      TEXT    NOT NULL,
  programid  INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS nights (
  night         TEXT    NOT NULL,
  programid     INTEGER NOT NULL,
  state         TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
  alerts        INTEGER NOT NULL DEFAULT 0,
  bytes         INTEGER NOT NULL DEFAULT 0,
  first_jd      REAL,
  last_jd       REAL,
  last_alert_at INTEGER,
  closed_at     INTEGER,
  reopened      INTEGER NOT NULL DEFAULT 0,
  tarball_key   TEXT,
  tarball_bytes INTEGER,
  tarball_md5   TEXT,
  tarball_alerts INTEGER,
  stored        TEXT    NOT NULL DEFAULT 'local',
  PRIMARY KEY (night, programid)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS quarantine (
  id           INTEGER PRIMARY KEY,
  topic        TEXT,
  partition    INTEGER,
  kafka_offset INTEGER,
  source       TEXT,
  code         TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  byte_length  INTEGER NOT NULL,
  at           INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;
