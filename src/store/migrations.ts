/**
 * Numbered, additive schema migrations. A migration is never edited once released:
 * changes go in a new entry. `PRAGMA user_version` records how far a database got.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the ingest core
  `
  CREATE TABLE windows (
    res         INTEGER NOT NULL,   -- window length in ms: 60000 (minute), 3600000 (hour) or 86400000 (day rollup)
    start       INTEGER NOT NULL,   -- window start, epoch ms, from the lines' own timestamps
    logger      TEXT    NOT NULL,
    level       TEXT    NOT NULL,
    stage       TEXT    NOT NULL,   -- '' when the line has none
    error_code  TEXT    NOT NULL,   -- '' when none; 'OTHER' past the cardinality cap
    lines       INTEGER NOT NULL,
    ops         INTEGER NOT NULL,   -- operations: completed stages (stage_completed / processing_error with a stage)
    ops_failed  INTEGER NOT NULL,
    dur_count   INTEGER NOT NULL,
    dur_sum     REAL    NOT NULL,
    dur_min     REAL,
    dur_max     REAL,
    dur_hist    BLOB,
    PRIMARY KEY (res, start, logger, level, stage, error_code)
  ) WITHOUT ROWID;

  CREATE TABLE sessions (
    session_id  TEXT PRIMARY KEY,
    user_id     TEXT,
    logger      TEXT,
    first_ts    INTEGER NOT NULL,
    last_ts     INTEGER NOT NULL,
    stage       TEXT,               -- stage of the latest event
    events      INTEGER NOT NULL,
    finished    INTEGER NOT NULL,   -- 0 active, 1 completed, 2 failed
    finished_ts INTEGER
  ) WITHOUT ROWID;
  -- Only open sessions are indexed: most sessions start and finish within one batch and
  -- never touch this index, which keeps the per-batch upserts cheap.
  CREATE INDEX sessions_open ON sessions(first_ts) WHERE finished = 0;

  CREATE TABLE recent_lines (
    seq     INTEGER PRIMARY KEY,     -- ingest order
    ts      INTEGER NOT NULL,
    level   TEXT    NOT NULL,
    logger  TEXT    NOT NULL,
    file    TEXT    NOT NULL,
    line    TEXT    NOT NULL         -- the parsed line, redacted, as JSON
  );
  CREATE INDEX recent_lines_level ON recent_lines(level, seq);

  CREATE TABLE checkpoints (
    fingerprint TEXT PRIMARY KEY,
    path        TEXT    NOT NULL,
    dev         INTEGER NOT NULL,
    ino         INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    skipping    INTEGER NOT NULL,
    size_seen   INTEGER,             -- largest size seen for the inode: smaller at restart = truncated
    updated_at  INTEGER NOT NULL
  );

  CREATE TABLE file_stats (
    file        TEXT PRIMARY KEY,    -- the logical file: rotation suffixes stripped
    lines       INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    repaired    INTEGER NOT NULL,
    overlong    INTEGER NOT NULL,
    format      TEXT,
    last_event_ts INTEGER,
    last_read_at  INTEGER
  );

  CREATE TABLE parse_errors (
    start   INTEGER NOT NULL,        -- minute the line was read (it has no trustworthy time of its own)
    file    TEXT    NOT NULL,
    reason  TEXT    NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (start, file, reason)
  ) WITHOUT ROWID;

  CREATE TABLE rejected_samples (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    file    TEXT    NOT NULL,
    offset  INTEGER NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    sample  TEXT    NOT NULL
  );

  CREATE TABLE last_seen (
    kind     TEXT NOT NULL,          -- 'logger' | 'file'
    name     TEXT NOT NULL,
    event_ts INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
  ) WITHOUT ROWID;

  CREATE TABLE samples (
    metric  TEXT    NOT NULL,        -- cpu | memory | disk | load1 | …
    key     TEXT    NOT NULL,        -- '' or the mount point
    ts      INTEGER NOT NULL,
    value   REAL    NOT NULL,
    PRIMARY KEY (metric, key, ts)
  ) WITHOUT ROWID;

  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: alerts, their transitions, the notification outbox and silences
  `
  CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,   -- one row per episode: pending → firing → resolved
    alert_key        TEXT    NOT NULL,      -- rule + sorted labels: the alert's identity
    rule             TEXT    NOT NULL,
    severity         TEXT    NOT NULL,      -- info | warning | error | critical
    labels           TEXT    NOT NULL,      -- JSON object
    state            TEXT    NOT NULL,      -- pending | firing | resolved | inactive (a pending that never fired)
    summary          TEXT    NOT NULL,
    description      TEXT,
    facts            TEXT,                  -- JSON: the fact values at the last transition
    started_at       INTEGER NOT NULL,      -- when the condition first held
    firing_at        INTEGER,
    resolved_at      INTEGER,
    last_notified_at INTEGER
  );
  CREATE INDEX alerts_key ON alerts(alert_key, id);
  CREATE INDEX alerts_state ON alerts(state, id);
  CREATE INDEX alerts_started ON alerts(started_at);

  CREATE TABLE alert_transitions (
    id        INTEGER PRIMARY KEY,
    alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    state     TEXT    NOT NULL,
    summary   TEXT    NOT NULL
  );
  CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id, id);
  CREATE INDEX alert_transitions_at ON alert_transitions(at);

  -- The engine's per-alert state (pending timers, last notification), so a restart
  -- neither forgets a firing alert nor announces it again.
  CREATE TABLE alert_state (
    alert_key TEXT PRIMARY KEY,
    state     TEXT NOT NULL            -- JSON
  );

  CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    notification_id  TEXT    NOT NULL UNIQUE,
    channel          TEXT    NOT NULL,
    alert_id         INTEGER,
    alert_key        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,  -- firing | repeat | resolved
    payload          TEXT    NOT NULL,  -- the AlertMessage as JSON
    created_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL,  -- pending | delivered | failed (permanent) | expired (max_age) | silenced
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    delivered_at     INTEGER
  );
  CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
  CREATE INDEX outbox_created ON outbox(created_at);

  CREATE TABLE silences (
    id          INTEGER PRIMARY KEY,
    matchers    TEXT    NOT NULL,       -- JSON: [{name, value, op: '=' | '!=' | '=~' | '!~'}]
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    created_by  TEXT,
    comment     TEXT,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX silences_ends ON silences(ends_at);
  `,
  // 3: what a checkpoint's last bytes were, so a compressed rotation is recognised by its content
  `
  ALTER TABLE checkpoints ADD COLUMN tail TEXT; -- hash of the 64 bytes before offset (NULL: written before this column)
  `,
];
