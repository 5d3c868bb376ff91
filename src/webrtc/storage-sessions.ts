// The storage sessions of every channel: at most one per channel, a newer JoinStorageSession replacing the
// current one (kvs-api.md §5.3: "the most recent client request takes precedence"), and the viewers who joined
// with JoinStorageSessionAsViewer (storage-viewers.ts). Hooked into the signaling hub to receive what the master
// sends to `openkvs-storage` and what joined viewers answer, and to end a session when its master leaves.

import type { ChannelRecord, ChannelRegistry } from '../signaling/channel-registry.js';
import type { SignalingHub } from '../signaling/signaling-hub.js';
import type { Logger } from '../util/logger.js';
import { peerSettingsOf, viewerPeerConfig } from './peer-config.js';
import type { AacEncoderFactory } from './aac-encoder.js';
import type { RecordingWriterDeps } from './recording-writer.js';
import { decodeCandidate, decodeDescription } from './relay-signal.js';
import { STORAGE_CLIENT_ID, StorageSession } from './storage-session.js';
import { StorageViewers } from './storage-viewers.js';

/** After the channel's message TTL (the offer may wait that long for an offline viewer), time to answer and connect. */
const VIEWER_ANSWER_MARGIN_MS = 15_000;

export type StorageSessionsDeps = {
  hub: SignalingHub;
  channels: ChannelRegistry;
  /** The config's webrtc* settings (and turnSecret). */
  webrtc: Parameters<typeof peerSettingsOf>[0];
  writer: Omit<RecordingWriterDeps, 'log'>;
  /** Each recording's AAC encoder (aac-encoder.ts). */
  aacEncoder?: AacEncoderFactory;
  now: () => number;
  log: Logger;
};

export type ViewerJoin = 'JOINED' | 'LIMIT';

export class StorageSessions {
  readonly #d: StorageSessionsDeps;
  readonly #sessions = new Map<number, StorageSession>();
  readonly #viewers = new Map<number, StorageViewers>();
  /** Sessions replaced or ended whose last fragment is still being stored; close() waits for them. */
  readonly #ending = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: StorageSessionsDeps) {
    this.#d = deps;
    deps.hub.intercept(
      {
        fromViewer: (channel, viewerId, action, payload) => {
          const room = this.#viewers.get(channel.id);
          if (room === undefined || !room.has(viewerId)) {
            return false;
          }
          if (action === 'SDP_OFFER') {
            // a viewer offering starts a call of its own (to the master, or relayed): it has left the storage session
            this.#viewerLeft(channel.id, viewerId, 'the viewer made an offer of its own');
            return false;
          }
          if (action === 'SDP_ANSWER') {
            const answer = decodeDescription(payload, 'answer');
            if (answer !== null) {
              room.answer(viewerId, answer);
            }
          } else {
            const c = decodeCandidate(payload);
            if (c !== null) {
              room.candidate(viewerId, c);
            }
          }
          return true;
        },
        fromMaster: (channel, recipient, action, payload) => {
          if (recipient !== STORAGE_CLIENT_ID) {
            return false;
          }
          // consumed even with no session: no client of that id exists to deliver it to
          this.#sessions.get(channel.id)?.fromMaster(action, payload);
          return true;
        },
        left: (channel, role, clientId) => {
          if (role === 'MASTER') {
            this.#end(channel.id, 'the master left');
          } else if (clientId !== null) {
            this.#viewerLeft(channel.id, clientId, 'left signaling');
          }
        },
      },
      'first',
    );
    deps.channels.onDeleted((c) => {
      this.#end(c.id, 'channel deleted');
      this.#endViewers(c.id, 'channel deleted');
    });
    deps.channels.onChanged((c) => {
      const s = this.#sessions.get(c.id);
      if (s !== undefined && (c.storage.status !== 'ENABLED' || c.storage.streamArn !== s.channel.storage.streamArn)) {
        this.#end(c.id, 'media storage configuration changed');
      }
      if (c.storage.status !== 'ENABLED') {
        this.#endViewers(c.id, 'media storage disabled');
      }
    });
  }

  /** The channel's storage viewers (tests, status). */
  viewers(channelId: number): StorageViewers | undefined {
    return this.#viewers.get(channelId);
  }

  /**
   * JoinStorageSessionAsViewer: the viewer gets an offer through signaling (held in the hub's queue for the
   * channel's MessageTtlSeconds if it is not connected yet); LIMIT when the channel already has signalingMaxViewers
   * storage viewers other than this one.
   */
  joinAsViewer(channel: ChannelRecord, viewerId: string): ViewerJoin {
    if (this.#closed) {
      return 'JOINED';
    }
    let room = this.#viewers.get(channel.id);
    if (room !== undefined && !room.has(viewerId) && room.size >= this.#d.hub.maxViewers) {
      return 'LIMIT';
    }
    if (room === undefined) {
      room = this.#newViewers(channel.id);
      this.#viewers.set(channel.id, room);
    }
    room.join(viewerId);
    return 'JOINED';
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
    // the viewers stay: the newer session's media goes to them
    this.#end(channel.id, 'replaced by a newer JoinStorageSession', { keepViewers: true });
    const log = this.#d.log;
    const session: StorageSession = new StorageSession(channel, streamArn, {
      hub: this.#d.hub,
      peer: peerSettingsOf(this.#d.webrtc),
      writer: this.#d.writer,
      ...(this.#d.aacEncoder !== undefined ? { aacEncoder: this.#d.aacEncoder } : {}),
      now: this.#d.now,
      log,
      ended: (s) => {
        if (this.#sessions.get(s.channel.id) === s) {
          // ended on its own (its peer connection failed): the viewers' session is over too
          this.#sessions.delete(s.channel.id);
          this.#endViewers(s.channel.id, 'the master session ended');
        }
      },
      media: (kind, p) => {
        if (this.#sessions.get(channel.id) === session) {
          this.#viewers.get(channel.id)?.forward(kind, p);
        }
      },
    });
    this.#sessions.set(channel.id, session);
    this.#viewers.get(channel.id)?.masterStarted();
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
    for (const id of [...this.#viewers.keys()]) {
      this.#endViewers(id, 'server shutting down');
    }
    while (this.#ending.size > 0) {
      await Promise.all([...this.#ending]);
    }
  }

  #end(channelId: number, reason: string, opts: { keepViewers?: boolean } = {}): void {
    const s = this.#sessions.get(channelId);
    if (s === undefined) {
      // viewers waiting for a master that never joined keep waiting
      return;
    }
    this.#sessions.delete(channelId);
    if (opts.keepViewers !== true) {
      this.#endViewers(channelId, reason);
    }
    const p: Promise<void> = s
      .stop(reason)
      .catch((err: unknown) => this.#d.log.error('storage session | ending failed', { channel: s.channel.name, err: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.#ending.delete(p));
    this.#ending.add(p);
  }

  #endViewers(channelId: number, reason: string): void {
    this.#viewers.get(channelId)?.endAll(reason);
    this.#viewers.delete(channelId);
  }

  #newViewers(channelId: number): StorageViewers {
    const room: StorageViewers = new StorageViewers({
      channelId,
      signaling: this.#d.hub,
      master: () => this.#sessions.get(channelId),
      peerConfig: () => viewerPeerConfig(peerSettingsOf(this.#d.webrtc)),
      loopbackOnly: this.#d.webrtc.webrtcLoopbackOnly,
      answerTimeoutMs: () => (this.#d.channels.byId(channelId)?.messageTtlSeconds ?? 60) * 1000 + VIEWER_ANSWER_MARGIN_MS,
      emptied: () => {
        if (this.#viewers.get(channelId) === room) {
          this.#viewers.delete(channelId);
        }
      },
      log: this.#d.log,
    });
    return room;
  }

  #viewerLeft(channelId: number, viewerId: string, reason: string): void {
    this.#viewers.get(channelId)?.leave(viewerId, reason);
  }
}
