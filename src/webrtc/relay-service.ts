// Relay mode (an openkvs channel mode, /openkvs/updateSignalingChannelRelay): on a channel with relay ENABLED the
// viewers' offers and ICE candidates never reach the master; the server's own peer answers them, and one in-process
// viewer (`openkvs-relay`) receives the master's media once for all of them. This is the Interceptor that hooks
// the relay into the signaling hub, and the per-channel sessions (relay-session.ts).

import type { ChannelRecord, ChannelRegistry } from '../signaling/channel-registry.js';
import type { Interceptor, SignalingHub } from '../signaling/signaling-hub.js';
import type { Logger } from '../util/logger.js';
import { viewerPeerConfig, type PeerSettings } from './peer-config.js';
import { RELAY_CLIENT_ID, RelaySession, type RelaySessionStats } from './relay-session.js';
import { decodeCandidate, decodeDescription } from './relay-signal.js';

/** In-process clients that speak as viewers and must reach the master: the relay itself and the storage peer. */
const SERVER_CLIENT_IDS = new Set([RELAY_CLIENT_ID, 'openkvs-storage']);

export type RelayServiceDeps = {
  hub: Pick<SignalingHub, 'intercept' | 'sendAs' | 'isMasterConnected' | 'broadcast'>;
  channels: Pick<ChannelRegistry, 'onChanged' | 'onDeleted'>;
  peer: PeerSettings;
  log: Logger;
};

export class RelayService {
  readonly #d: RelayServiceDeps;
  readonly #sessions = new Map<number, RelaySession>();
  #closed = false;

  constructor(deps: RelayServiceDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#d.hub.intercept(this.#interceptor());
    this.#d.channels.onChanged((c) => {
      if (!c.relay) {
        this.#end(c.id);
      }
    });
    this.#d.channels.onDeleted((c) => this.#end(c.id));
  }

  /** The live session of a channel, or null when no viewer is being relayed. */
  stats(channelId: number): RelaySessionStats | null {
    return this.#sessions.get(channelId)?.stats ?? null;
  }

  close(): void {
    this.#closed = true;
    for (const id of [...this.#sessions.keys()]) {
      this.#end(id);
    }
  }

  #session(channelId: number): RelaySession {
    let s = this.#sessions.get(channelId);
    if (s === undefined) {
      s = new RelaySession({ channelId, signaling: this.#d.hub, peerConfig: () => viewerPeerConfig(this.#d.peer), loopbackOnly: this.#d.peer.loopbackOnly, log: this.#d.log });
      this.#sessions.set(channelId, s);
    }
    return s;
  }

  #end(channelId: number): void {
    this.#sessions.get(channelId)?.close();
    this.#sessions.delete(channelId);
  }

  #dropIfEmpty(channelId: number): void {
    if (this.#sessions.get(channelId)?.empty === true) {
      this.#sessions.delete(channelId);
    }
  }

  #interceptor(): Interceptor {
    return {
      fromViewer: (channel: ChannelRecord, viewerId, action, payload) => {
        if (this.#closed || !channel.relay || SERVER_CLIENT_IDS.has(viewerId)) {
          return false;
        }
        if (action === 'SDP_OFFER') {
          const offer = decodeDescription(payload, 'offer');
          if (offer !== null) {
            this.#session(channel.id).viewerOffer(viewerId, offer);
          }
        } else if (action === 'ICE_CANDIDATE') {
          const c = decodeCandidate(payload);
          if (c !== null) {
            this.#sessions.get(channel.id)?.viewerCandidate(viewerId, c);
          }
        }
        // answers from a viewer have no meaning here; nothing a relayed viewer sends reaches the master
        return true;
      },
      fromMaster: (channel, recipientId, action, payload) => {
        if (recipientId !== RELAY_CLIENT_ID) {
          return false;
        }
        const s = this.#sessions.get(channel.id);
        if (action === 'SDP_ANSWER') {
          const answer = decodeDescription(payload, 'answer');
          if (answer !== null) {
            s?.upstreamAnswer(answer);
          }
        } else if (action === 'ICE_CANDIDATE') {
          const c = decodeCandidate(payload);
          if (c !== null) {
            s?.upstreamCandidate(c);
          }
        }
        return true;
      },
      left: (channel, role, clientId) => {
        const s = this.#sessions.get(channel.id);
        if (s === undefined) {
          return;
        }
        if (role === 'MASTER') {
          s.masterLeft();
          // the viewers' peer connections are closed, but werift sends no DTLS close alert, so a viewer would only
          // notice at its consent timeout (~30 s): GO_AWAY tells them now to reconnect (and re-offer)
          this.#d.hub.broadcast(channel.id, 'GO_AWAY');
        } else if (clientId !== null) {
          s.viewerLeft(clientId);
        }
        this.#dropIfEmpty(channel.id);
      },
      masterJoined: (channel) => {
        if (channel.relay) {
          this.#sessions.get(channel.id)?.masterJoined();
        }
      },
    };
  }
}
