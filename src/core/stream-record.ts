import { DEFAULT_STREAM_CAPACITY, type StreamCapacity } from '../conf/config.js';

export type StreamStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING';
export type StorageTier = 'HOT' | 'WARM';

export type StreamRecord = {
  id: number;
  name: string;
  arn: string;
  deviceName: string | null;
  mediaType: string | null;
  kmsKeyId: string | null;
  version: string;
  status: StreamStatus;
  creationTimeMs: number;
  retentionHours: number;
  storageTier: StorageTier;
  imageGeneration: unknown;
  notification: unknown;
  capacity: StreamCapacity;
  /** Epoch-ms times of explicit capacity changes (the resharding-style change budget). */
  capacityChanges: number[];
};

/** Either StreamName or StreamARN (or both, if they agree), as nearly every stream operation takes. */
export type StreamRef = { name?: string | undefined; arn?: string | undefined };

export type StreamRow = {
  id: number;
  name: string;
  arn: string;
  device_name: string | null;
  media_type: string | null;
  kms_key_id: string | null;
  version: string;
  status: string;
  creation_time_ms: number;
  retention_hours: number;
  storage_tier: string;
  image_generation_json: string | null;
  notification_json: string | null;
  capacity_json: string;
  capacity_changes_json: string;
};

export function rowToRecord(r: StreamRow): StreamRecord {
  return {
    id: r.id,
    name: r.name,
    arn: r.arn,
    deviceName: r.device_name,
    mediaType: r.media_type,
    kmsKeyId: r.kms_key_id,
    version: r.version,
    status: r.status as StreamStatus,
    creationTimeMs: r.creation_time_ms,
    retentionHours: r.retention_hours,
    storageTier: r.storage_tier as StorageTier,
    imageGeneration: r.image_generation_json === null ? null : (JSON.parse(r.image_generation_json) as unknown),
    notification: r.notification_json === null ? null : (JSON.parse(r.notification_json) as unknown),
    // Settings added by later versions take their defaults for streams created before them.
    capacity: { ...DEFAULT_STREAM_CAPACITY, ...(JSON.parse(r.capacity_json) as Partial<StreamCapacity>) },
    capacityChanges: JSON.parse(r.capacity_changes_json) as number[],
  };
}

/** Fragments with a server timestamp before this are expired for the stream (retention > 0). */
export const retentionCutoffMs = (stream: Pick<StreamRecord, 'retentionHours'>, nowMs: number): number => nowMs - stream.retentionHours * 3_600_000;
