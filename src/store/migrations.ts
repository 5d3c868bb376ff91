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
];
