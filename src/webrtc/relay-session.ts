// One channel in relay mode: the viewers' peers, the one upstream connection to the master, and what flows
// between them. Lifecycle (docs/webrtc-relay.md): upstream opens when the first viewer offers and the master is
// connected (or when the master joins while viewers wait); it closes when the last viewer leaves; when the master
// leaves (or the upstream fails) every viewer's peer connection is closed too, so viewers see the session end.

import type { RTCPeerConnectionConfig } from 'werift';
import type { Logger } from '../util/logger.js';
import { KeyFrameRequests } from './key-frame-requests.js';
import { AudioFloor, isTalking } from './relay-audio-floor.js';
import { encodeSignal, type IceCandidateInit, type SessionDescription } from './relay-signal.js';
import { RelayUpstream } from './relay-upstream.js';
import { VideoSource } from './relay-video-source.js';
import { RelayViewer, type RelayPacket } from './relay-viewer.js';

/** The relay's client id when it speaks to the master as a viewer. */
export const RELAY_CLIENT_ID = 'openkvs-relay';

type Action = 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE';
export type RelaySignaling = {
  sendAs(channelId: number, role: 'MASTER' | 'VIEWER', clientId: string | null, m: { action: Action; messagePayload: string; recipientClientId?: string }): void;
  isMasterConnected(channelId: number): boolean;
};

export type RelaySessionDeps = {
  channelId: number;
  signaling: RelaySignaling;
  /** A fresh werift configuration per peer (TURN credentials are signed per call). */
  peerConfig: () => RTCPeerConnectionConfig;
  loopbackOnly: boolean;
  log: Logger;
};

export type RelaySessionStats = { viewers: number; connectedViewers: number; upstream: 'NONE' | 'CONNECTING' | 'CONNECTED'; upstreamConnections: number; keyFrameRequests: number; droppedPackets: number };

type ViewerEntry = { viewer: RelayViewer; ready: Promise<unknown> };

export class RelaySession {
  readonly #d: RelaySessionDeps;
  readonly #viewers = new Map<string, ViewerEntry>();
  readonly #floor = new AudioFloor();
  #upstream: { peer: RelayUpstream; ready: Promise<unknown>; connected: boolean } | null = null;
  #upstreamConnections = 0;
  readonly #keyFrames = new KeyFrameRequests(() => this.#upstream?.peer.requestKeyFrame());
  readonly #videoSource = new VideoSource((viewerId) => this.#viewers.get(viewerId)?.viewer.requestKeyFrame());
  #closed = false;

  constructor(deps: RelaySessionDeps) {
    this.#d = deps;
  }

  get empty(): boolean {
    return this.#viewers.size === 0 && this.#upstream === null;
  }

  get stats(): RelaySessionStats {
    const viewers = [...this.#viewers.values()].map((e) => e.viewer);
    return {
      viewers: viewers.length,
      connectedViewers: viewers.filter((v) => v.connected).length,
      upstream: this.#upstream === null ? 'NONE' : this.#upstream.connected ? 'CONNECTED' : 'CONNECTING',
      upstreamConnections: this.#upstreamConnections,
      keyFrameRequests: this.#keyFrames.sent,
      droppedPackets: viewers.reduce((n, v) => n + v.stats.dropped, 0),
    };
  }

  viewerOffer(viewerId: string, offer: SessionDescription): void {
    // a viewer that offers again (a reconnect) gets a new peer
    this.#removeViewer(viewerId);
    const viewer = new RelayViewer(viewerId, this.#d.peerConfig(), this.#d.loopbackOnly, {
      keyFrameRequest: () => this.#requestKeyFrame(),
      audio: (p, level) => this.#viewerAudio(viewerId, p, level),
      video: (p) => this.#viewerVideo(viewerId, p),
      // What was sent before its DTLS was up never reached it: from here it needs a key frame to start decoding.
      connected: () => this.#requestKeyFrame(),
      gone: () => {
        if (this.#viewers.get(viewerId)?.viewer === viewer) {
          this.viewerLeft(viewerId);
        }
      },
    });
    const ready = viewer.answer(offer).then(
      (answer) => {
        this.#d.signaling.sendAs(this.#d.channelId, 'MASTER', null, { action: 'SDP_ANSWER', messagePayload: encodeSignal(answer), recipientClientId: viewerId });
        this.#requestKeyFrame();
      },
      (err: unknown) => {
        this.#d.log.warn('relay viewer offer refused', { viewerId, error: String(err) });
        this.viewerLeft(viewerId);
      },
    );
    this.#viewers.set(viewerId, { viewer, ready });
    this.#ensureUpstream();
  }

  viewerCandidate(viewerId: string, c: IceCandidateInit): void {
    const e = this.#viewers.get(viewerId);
    e?.ready.then(() => e.viewer.addCandidate(c)).catch(() => undefined);
  }

  viewerLeft(viewerId: string): void {
    this.#removeViewer(viewerId);
    if (this.#viewers.size === 0) {
      this.#closeUpstream();
    }
  }

  masterJoined(): void {
    // a newer master replaces the old one without a "left": whatever upstream existed spoke to the old one
    this.#closeUpstream();
    this.#ensureUpstream();
  }

  masterLeft(): void {
    this.#closeUpstream();
    for (const id of [...this.#viewers.keys()]) {
      this.#removeViewer(id);
    }
  }

  upstreamAnswer(answer: SessionDescription): void {
    const u = this.#upstream;
    u?.ready.then(() => u.peer.accept(answer)).catch((err: unknown) => this.#d.log.warn('relay upstream answer refused', { error: String(err) }));
  }

  upstreamCandidate(c: IceCandidateInit): void {
    const u = this.#upstream;
    u?.ready.then(() => u.peer.addCandidate(c)).catch(() => undefined);
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.masterLeft();
  }

  #ensureUpstream(): void {
    if (this.#closed || this.#upstream !== null || this.#viewers.size === 0 || !this.#d.signaling.isMasterConnected(this.#d.channelId)) {
      return;
    }
    const peer = new RelayUpstream(this.#d.peerConfig(), this.#d.loopbackOnly, {
      video: (p) => this.#forward(p, 'video'),
      audio: (p) => this.#forward(p, 'audio'),
      keyFrameRequest: () => this.#videoSource.keyFrameRequested(),
      connected: () => {
        if (this.#upstream?.peer === peer) {
          this.#upstream.connected = true;
          this.#requestKeyFrame();
        }
      },
      gone: () => {
        if (this.#upstream?.peer === peer) {
          this.#d.log.info('relay upstream closed, ending the relay session', { channelId: this.#d.channelId });
          this.masterLeft();
        }
      },
    });
    this.#upstreamConnections++;
    const ready = peer.offer().then((offer) => {
      this.#d.signaling.sendAs(this.#d.channelId, 'VIEWER', RELAY_CLIENT_ID, { action: 'SDP_OFFER', messagePayload: encodeSignal(offer) });
    });
    ready.catch((err: unknown) => this.#d.log.warn('relay upstream offer failed', { error: String(err) }));
    this.#upstream = { peer, ready, connected: false };
  }

  #closeUpstream(): void {
    const u = this.#upstream;
    this.#upstream = null;
    u?.peer.close();
    this.#keyFrames.cancel();
  }

  #removeViewer(viewerId: string): void {
    const e = this.#viewers.get(viewerId);
    if (e !== undefined) {
      this.#viewers.delete(viewerId);
      e.viewer.close();
      this.#floor.release(viewerId);
      this.#videoSource.release(viewerId);
    }
  }

  #forward(p: RelayPacket, kind: 'video' | 'audio'): void {
    for (const { viewer } of this.#viewers.values()) {
      viewer.send(kind, p);
    }
  }

  #viewerAudio(viewerId: string, p: RelayPacket, level: number | undefined): void {
    const u = this.#upstream;
    if (u === null || !u.connected) {
      return;
    }
    const at = this.#floor.take(viewerId, p, isTalking(p.payload.length, level), Date.now());
    if (at !== null) {
      u.peer.sendAudio({ ...p, ...at });
    }
  }

  #viewerVideo(viewerId: string, p: RelayPacket): void {
    const u = this.#upstream;
    if (u === null || !u.connected) {
      return;
    }
    const at = this.#videoSource.take(viewerId, p, this.#floor.holder, Date.now());
    if (at !== null) {
      u.peer.sendVideo({ ...p, ...at });
    }
  }

  /** Coalesced (key-frame-requests.ts); only while the upstream can carry it. */
  #requestKeyFrame(): void {
    if (this.#upstream?.connected === true) {
      this.#keyFrames.request();
    }
  }
}
