// The viewers of one channel's storage session (JoinStorageSessionAsViewer, kvs-api.md §5.3). The server offers
// each one a peer connection as KVS's storage session does — an SDP_OFFER through signaling, without
// senderClientId, as from the master — and forwards the master's video and audio to it (relay-viewer.ts: a
// bounded queue per viewer, so a stalled viewer costs the others nothing). Viewers "can only ingest audio": what a
// viewer says goes into the recording (every viewer, mixed by the recorder) and to the master (one at a time, by
// the relay's floor rule, relay-audio-floor.ts).
//
// Viewers and master may each join first and wait for the other: a viewer connected before any master session
// gets media from the moment one starts. When the master's session ends (not when a newer JoinStorageSession
// replaces it) the viewers' peers are closed; a viewer leaving never ends the recording.

import type { RTCPeerConnectionConfig } from 'werift';
import type { Logger } from '../util/logger.js';
import { KeyFrameRequests } from './key-frame-requests.js';
import { AudioFloor, isTalking } from './relay-audio-floor.js';
import { encodeSignal, type IceCandidateInit, type SessionDescription } from './relay-signal.js';
import { RelayViewer, type RelayPacket } from './relay-viewer.js';

/** Viewer ICE candidates held until its answer arrives; a browser trickles a handful. */
const MAX_EARLY_CANDIDATES = 100;

/** What the viewers need of the master's storage session (storage-session.ts). */
export type MasterLink = {
  requestKeyframe(): void;
  sendAudio(p: RelayPacket): void;
  viewerAudio(viewerId: string, p: RelayPacket): void;
  viewerLeft(viewerId: string): void;
};

export type StorageViewersDeps = {
  channelId: number;
  signaling: {
    sendAs(channelId: number, role: 'MASTER', clientId: null, m: { action: 'SDP_OFFER'; messagePayload: string; recipientClientId: string }): void;
    notify(channelId: number, clientId: string, messageType: 'GO_AWAY'): void;
  };
  /** The channel's current master session, if any. */
  master: () => MasterLink | undefined;
  /** A fresh werift configuration per peer (TURN credentials are signed per call). */
  peerConfig: () => RTCPeerConnectionConfig;
  loopbackOnly: boolean;
  /**
   * How long an offer may wait for the viewer's answer: the offer may sit in the hub's queue for the channel's
   * MessageTtlSeconds when the viewer is not connected to signaling yet.
   */
  answerTimeoutMs: () => number;
  /** The last viewer left (the owner may forget this object). */
  emptied?: () => void;
  log: Logger;
};

type Entry = { peer: RelayViewer; offered: Promise<unknown>; answered: boolean; early: IceCandidateInit[]; timer: NodeJS.Timeout };

export class StorageViewers {
  readonly #d: StorageViewersDeps;
  readonly #viewers = new Map<string, Entry>();
  readonly #floor = new AudioFloor();
  readonly #keyFrames: KeyFrameRequests;

  constructor(deps: StorageViewersDeps) {
    this.#d = deps;
    this.#keyFrames = new KeyFrameRequests(() => this.#d.master()?.requestKeyframe());
  }

  get size(): number {
    return this.#viewers.size;
  }

  has(viewerId: string): boolean {
    return this.#viewers.has(viewerId);
  }

  get stats(): { viewers: number; connectedViewers: number; keyFrameRequests: number; droppedPackets: number } {
    const peers = [...this.#viewers.values()].map((e) => e.peer);
    return { viewers: peers.length, connectedViewers: peers.filter((p) => p.connected).length, keyFrameRequests: this.#keyFrames.sent, droppedPackets: peers.reduce((n, p) => n + p.stats.dropped, 0) };
  }

  /** A viewer joins (again): a re-join with the same client id replaces its peer, as KVS gives the newer precedence. */
  join(viewerId: string): void {
    this.#remove(viewerId, 'replaced by a newer JoinStorageSessionAsViewer');
    const peer: RelayViewer = new RelayViewer(viewerId, this.#d.peerConfig(), this.#d.loopbackOnly, {
      keyFrameRequest: () => this.#keyFrames.request(),
      audio: (p, level) => this.#viewerAudio(viewerId, p, level),
      // a viewer that can decode from now on needs a key frame now, not at the master's next GOP
      connected: () => this.#keyFrames.request(),
      gone: () => {
        if (this.#viewers.get(viewerId)?.peer === peer) {
          this.leave(viewerId, 'peer connection closed');
        }
      },
    });
    const offered = peer.offer().then((offer) => {
      if (this.#viewers.get(viewerId)?.peer === peer) {
        // as the master would (recipientClientId, no senderClientId): the KVS SDKs' viewers answer such an offer
        this.#d.signaling.sendAs(this.#d.channelId, 'MASTER', null, { action: 'SDP_OFFER', messagePayload: encodeSignal(offer), recipientClientId: viewerId });
      }
    });
    offered.catch((err: unknown) => {
      this.#d.log.warn('storage viewer | offer failed', { viewerId, err: String(err) });
      if (this.#viewers.get(viewerId)?.peer === peer) {
        this.leave(viewerId, 'offer failed');
      }
    });
    const timer = setTimeout(() => {
      const e = this.#viewers.get(viewerId);
      if (e?.peer === peer && !e.answered) {
        this.leave(viewerId, 'no answer');
      }
    }, this.#d.answerTimeoutMs());
    timer.unref();
    this.#viewers.set(viewerId, { peer, offered, answered: false, early: [], timer });
    this.#d.log.info('storage viewer | joined', { channelId: this.#d.channelId, viewerId });
  }

  answer(viewerId: string, answer: SessionDescription): void {
    const e = this.#viewers.get(viewerId);
    if (e === undefined || e.answered) {
      return;
    }
    e.answered = true;
    clearTimeout(e.timer);
    e.offered
      .then(async () => {
        await e.peer.accept(answer);
        for (const c of e.early.splice(0)) {
          await e.peer.addCandidate(c).catch(() => undefined);
        }
      })
      .catch((err: unknown) => {
        this.#d.log.warn('storage viewer | answer refused', { viewerId, err: String(err) });
        if (this.#viewers.get(viewerId) === e) {
          this.leave(viewerId, 'answer refused');
        }
      });
  }

  candidate(viewerId: string, c: IceCandidateInit): void {
    const e = this.#viewers.get(viewerId);
    if (e === undefined) {
      return;
    }
    if (!e.answered) {
      if (e.early.length < MAX_EARLY_CANDIDATES) {
        e.early.push(c);
      }
      return;
    }
    e.offered.then(() => e.peer.addCandidate(c)).catch(() => undefined);
  }

  /** The master's packets, to every connected viewer's own queue (one still answering would only drop them). */
  forward(kind: 'video' | 'audio', p: RelayPacket): void {
    for (const { peer } of this.#viewers.values()) {
      if (peer.connected) {
        peer.send(kind, p);
      }
    }
  }

  /** A new master session: viewers already connected need a key frame from it. */
  masterStarted(): void {
    if (this.#viewers.size > 0) {
      this.#keyFrames.request();
    }
  }

  leave(viewerId: string, reason: string): void {
    this.#remove(viewerId, reason);
    if (this.#viewers.size === 0) {
      this.#d.emptied?.();
    }
  }

  #remove(viewerId: string, reason: string): void {
    const e = this.#viewers.get(viewerId);
    if (e === undefined) {
      return;
    }
    this.#viewers.delete(viewerId);
    clearTimeout(e.timer);
    e.peer.close();
    this.#floor.release(viewerId);
    this.#d.master()?.viewerLeft(viewerId);
    this.#d.log.info('storage viewer | left', { channelId: this.#d.channelId, viewerId, reason });
  }

  /**
   * The master's session ended: every viewer's peer is closed. werift sends no DTLS close alert, so a viewer would
   * notice only at its consent timeout (~30 s); GO_AWAY tells a connected one now (reconnect and join again).
   */
  endAll(reason: string): void {
    for (const id of [...this.#viewers.keys()]) {
      this.#remove(id, reason);
      this.#d.signaling.notify(this.#d.channelId, id, 'GO_AWAY');
    }
    this.#keyFrames.cancel();
  }

  #viewerAudio(viewerId: string, p: RelayPacket, level: number | undefined): void {
    const master = this.#d.master();
    if (master === undefined) {
      return;
    }
    const at = this.#floor.take(viewerId, p, isTalking(p.payload.length, level), Date.now());
    if (at !== null) {
      master.sendAudio({ ...p, ...at });
    }
    master.viewerAudio(viewerId, p);
  }
}
