// Versioned schema migrations, applied in order; never edit a released entry, append a new one.

export const MIGRATIONS: readonly string[] = [
  // 1: streams, tags, per-stream configurations
  `
  CREATE TABLE streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    device_name TEXT,
    media_type TEXT,
    kms_key_id TEXT,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    creation_time_ms INTEGER NOT NULL,
    retention_hours INTEGER NOT NULL,
    storage_tier TEXT NOT NULL DEFAULT 'HOT',
    image_generation_json TEXT,
    notification_json TEXT,
    capacity_json TEXT NOT NULL,
    capacity_changes_json TEXT NOT NULL DEFAULT '[]'
  );
  CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
  );
  `,
  // 2: fragment index, track-info versions and segment files of the embedded fragment store
  `
  CREATE TABLE track_infos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    hash TEXT NOT NULL,
    timecode_scale_ns INTEGER NOT NULL,
    tracks_json TEXT NOT NULL,
    header BLOB NOT NULL,
    UNIQUE (stream_id, hash)
  );
  CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
  );
  CREATE INDEX segments_stream ON segments (stream_id);
  CREATE TABLE fragments (
    stream_id INTEGER NOT NULL,
    fragment_number TEXT NOT NULL,
    producer_ts_ms INTEGER NOT NULL,
    server_ts_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    timecode INTEGER NOT NULL,
    segment_id INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    tags_size INTEGER NOT NULL,
    track_info_id INTEGER NOT NULL,
    PRIMARY KEY (stream_id, fragment_number)
  ) WITHOUT ROWID;
  CREATE INDEX fragments_server_ts ON fragments (stream_id, server_ts_ms);
  CREATE INDEX fragments_producer_ts ON fragments (stream_id, producer_ts_ms);
  CREATE INDEX fragments_segment ON fragments (segment_id);
  `,
  // 3: frame consumers: hooks per stream, checkpoints, and the events hooks put on the timeline
  `
  CREATE TABLE frame_hooks (
    stream_id INTEGER PRIMARY KEY,
    hooks_json TEXT NOT NULL
  );
  CREATE TABLE frame_checkpoints (
    stream_id INTEGER PRIMARY KEY,
    fragment_number TEXT NOT NULL,
    producer_ts_ms INTEGER NOT NULL,
    server_ts_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE TABLE frame_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    hook_name TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence REAL,
    box_json TEXT,
    data_json TEXT,
    fragment_number TEXT NOT NULL,
    producer_ts_ms INTEGER NOT NULL,
    server_ts_ms INTEGER NOT NULL
  );
  CREATE INDEX frame_events_producer ON frame_events (stream_id, producer_ts_ms, id);
  CREATE INDEX frame_events_server ON frame_events (stream_id, server_ts_ms, id);
  `,
  // 4: WebRTC signaling channels (tags live in the shared tags table, by ARN)
  `
  CREATE TABLE signaling_channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    version TEXT NOT NULL,
    creation_time_ms INTEGER NOT NULL,
    message_ttl_seconds INTEGER NOT NULL,
    storage_status TEXT NOT NULL DEFAULT 'DISABLED',
    storage_stream_arn TEXT,
    relay INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 5: access keys besides the root credentials, each with its IAM-style policies (src/iam)
  `
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    last_used_ms INTEGER
  );
  CREATE TABLE access_key_policies (
    access_key_id TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document_json TEXT NOT NULL,
    PRIMARY KEY (access_key_id, policy_name)
  );
  `,
  // 6: encryption at rest (src/kms): KMS-like keys with wrapped key-material versions, per-stream data keys wrapped
  // under one version of their key, and per fragment the data key, nonce and tag (NULL: stored before encryption)
  `
  CREATE TABLE kms_keys (
    id TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    alias TEXT UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    current_version INTEGER NOT NULL,
    rotated_ms INTEGER
  );
  CREATE TABLE kms_key_versions (
    key_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (key_id, version)
  );
  CREATE TABLE data_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    kms_key_id TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_ms INTEGER NOT NULL
  );
  CREATE INDEX data_keys_stream ON data_keys (stream_id);
  CREATE INDEX data_keys_kms_key ON data_keys (kms_key_id);
  ALTER TABLE fragments ADD COLUMN data_key_id INTEGER;
  ALTER TABLE fragments ADD COLUMN enc_nonce BLOB;
  ALTER TABLE fragments ADD COLUMN enc_tag BLOB;
  `,
];
