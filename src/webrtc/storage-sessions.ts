// The storage sessions of every channel: at most one per channel, a newer JoinStorageSession replacing the
// current one (kvs-api.md §5.3: "the most recent client request takes precedence"). Hooked into the signaling
// hub to receive what the master sends to `openkvs-storage`, and to end a session when its master leaves.

import type { ChannelRecord, ChannelRegistry } from '../signaling/channel-registry.js';
import type { SignalingHub } from '../signaling/signaling-hub.js';
import type { Logger } from '../util/logger.js';
import { peerSettingsOf } from './peer-config.js';
import type { RecordingWriterDeps } from './recording-writer.js';
import { STORAGE_CLIENT_ID, StorageSession } from './storage-session.js';

export type StorageSessionsDeps = {
  hub: SignalingHub;
  channels: ChannelRegistry;
  /** The config's webrtc* settings (and turnSecret). */
  webrtc: Parameters<typeof peerSettingsOf>[0];
  writer: Omit<RecordingWriterDeps, 'log'>;
  now: () => number;
  log: Logger;
};

export class StorageSessions {
  readonly #d: StorageSessionsDeps;
  readonly #sessions = new Map<number, StorageSession>();
  /** Sessions replaced or ended whose last fragment is still being stored; close() waits for them. */
  readonly #ending = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: StorageSessionsDeps) {
    this.#d = deps;
    deps.hub.intercept({
      fromMaster: (channel, recipient, action, payload) => {
        if (recipient !== STORAGE_CLIENT_ID) {
          return false;
        }
        // consumed even with no session: no client of that id exists to deliver it to
        this.#sessions.get(channel.id)?.fromMaster(action, payload);
        return true;
      },
      left: (channel, role) => {
        if (role === 'MASTER') {
          this.#end(channel.id, 'the master left');
        }
      },
    });
    deps.channels.onDeleted((c) => this.#end(c.id, 'channel deleted'));
    deps.channels.onChanged((c) => {
      const s = this.#sessions.get(c.id);
      if (s !== undefined && (c.storage.status !== 'ENABLED' || c.storage.streamArn !== s.channel.storage.streamArn)) {
        this.#end(c.id, 'media storage configuration changed');
      }
    });
  }

  /** The channel's current session (tests, status). */
  current(channelId: number): StorageSession | undefined {
    return this.#sessions.get(channelId);
  }

  /** JoinStorageSession: a new session for a channel whose storage is ENABLED; its offer goes out shortly after. */
  join(channel: ChannelRecord): void {
    const streamArn = channel.storage.streamArn;
    if (this.#closed || channel.storage.status !== 'ENABLED' || streamArn === null) {
      return;
    }
    this.#end(channel.id, 'replaced by a newer JoinStorageSession');
    const log = this.#d.log;
    const session = new StorageSession(channel, streamArn, {
      hub: this.#d.hub,
      peer: peerSettingsOf(this.#d.webrtc),
      writer: this.#d.writer,
      now: this.#d.now,
      log,
      ended: (s) => {
        if (this.#sessions.get(s.channel.id) === s) {
          this.#sessions.delete(s.channel.id);
        }
      },
    });
    this.#sessions.set(channel.id, session);
    session.start().catch((err: unknown) => {
      log.warn('storage session | could not start', { channel: channel.name, err: err instanceof Error ? err.message : String(err) });
      this.#end(channel.id, 'start failed');
    });
  }

  /** Server shutdown: every session ends and its last fragment is stored. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#sessions.keys()]) {
      this.#end(id, 'server shutting down');
    }
    while (this.#ending.size > 0) {
      await Promise.all([...this.#ending]);
    }
  }

  #end(channelId: number, reason: string): void {
    const s = this.#sessions.get(channelId);
    if (s === undefined) {
      return;
    }
    this.#sessions.delete(channelId);
    const p: Promise<void> = s
      .stop(reason)
      .catch((err: unknown) => this.#d.log.error('storage session | ending failed', { channel: s.channel.name, err: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.#ending.delete(p));
    this.#ending.add(p);
  }
}
