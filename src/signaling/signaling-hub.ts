import { KvsError } from '../errors/codes.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ChannelRecord, ChannelRegistry } from './channel-registry.js';
import { MESSAGE_RATES, MessageRate } from './message-rate.js';
import { MessageError, parseClientMessage, statusResponse, type ServiceMessage } from './signaling-messages.js';

export type Role = 'MASTER' | 'VIEWER';

/** How the hub talks to one connected client: a WebSocket, or an in-process peer (storage, relay). */
export type Transport = {
  send(message: ServiceMessage): void;
  close(code: number, reason: string): void;
};

export type HubLimits = {
  /** Viewers connected to one channel at once. */
  maxViewers: number;
  /** A connection that sends nothing for this long is closed (KVS: 10 min). */
  idleTimeoutMs: number;
  /** A connection is told GO_AWAY after this long, then closed after the grace (KVS: 1 h, 1 min). */
  maxConnectionMs: number;
  goAwayGraceMs: number;
  /**
   * A connection this old is sent RECONNECT_ICE_SERVER once: the TURN credentials it got from GetIceServerConfig
   * are about to expire. null when the server hands out no expiring credentials.
   */
  iceRefreshAfterMs: number | null;
};

/**
 * When to send RECONNECT_ICE_SERVER for credentials valid `ttlSeconds`: a minute before they expire, or a fifth of
 * their life for short ones — time for a client to fetch new ones and reconnect before a TURN allocation refresh
 * is refused.
 */
export const iceRefreshAfterMs = (ttlSeconds: number): number => ttlSeconds * 1000 - Math.min(60_000, (ttlSeconds * 1000) / 5);

type Client = { role: Role; clientId: string | null; transport: Transport; lastSeen: number; openedAt: number; goneAway: boolean; iceRefreshed: boolean; rate: MessageRate };
type Pending = { to: string; message: ServiceMessage; expiresAt: number; offerFrom: string | null };

/** The key the master is stored under in a channel's client table. */
const MASTER = '\u0000master';

/**
 * Where a viewer's messages go instead of the master (relay mode), or where the master's messages to an unknown
 * recipient go (the storage peer): set by the server-side WebRTC peer.
 */
export type Interceptor = {
  /** A viewer sent something; return true when handled (not forwarded to the master). */
  fromViewer?(channel: ChannelRecord, viewerId: string, action: ServiceMessage['messageType'], payload: string): boolean;
  /** The master sent to this recipient; return true when handled. */
  fromMaster?(channel: ChannelRecord, recipientId: string | undefined, action: ServiceMessage['messageType'], payload: string): boolean;
  /** A client disconnected. */
  left?(channel: ChannelRecord, role: Role, clientId: string | null): void;
  /** A master connected. */
  masterJoined?(channel: ChannelRecord): void;
};

class ChannelState {
  readonly clients = new Map<string, Client>();
  pending: Pending[] = [];
}

/**
 * The signaling service: one master and many viewers per channel, messages routed between them as KVS does
 * (master → a named viewer, viewer → the master), held for the channel's MessageTtlSeconds when the recipient is
 * offline, a newer connection with the same identity replacing the older one, idle and maximum-duration timeouts.
 */
export class SignalingHub {
  readonly #channels: ChannelRegistry;
  readonly #limits: HubLimits;
  readonly #log: Logger;
  readonly #state = new Map<number, ChannelState>();
  readonly #timer: NodeJS.Timeout;
  readonly #interceptors: Interceptor[] = [];
  /** SendAlexaOfferToMaster calls waiting for the master's answer, by channel id and sender client id. */
  readonly #answerWaiters = new Map<string, (payload: string | null) => void>();
  #closed = false;
  /** Told of every message dropped for its connection's rate (metrics). */
  onMessageRefused: (() => void) | null = null;

  constructor(channels: ChannelRegistry, limits: HubLimits, log: Logger) {
    this.#channels = channels;
    this.#limits = limits;
    this.#log = log;
    this.#timer = setInterval(() => this.#sweep(), Math.min(1000, limits.goAwayGraceMs, limits.idleTimeoutMs));
    this.#timer.unref();
    channels.onDeleted((c) => this.#closeChannel(c.id, 'channel deleted'));
  }

  /**
   * `first` puts it ahead of those already registered: the storage session claims the viewers that joined it
   * before relay mode (registered earlier) would take every viewer's messages.
   */
  intercept(i: Interceptor, order: 'first' | 'last' = 'last'): void {
    if (order === 'first') {
      this.#interceptors.unshift(i);
    } else {
      this.#interceptors.push(i);
    }
  }

  /** Viewers one channel may have at once (signalingMaxViewers); the storage session's viewers share it. */
  get maxViewers(): number {
    return this.#limits.maxViewers;
  }

  /** Registers a connected client; the returned functions deliver what it sends and tell the hub it left. */
  connect(channel: ChannelRecord, role: Role, clientId: string | null, transport: Transport): { receive(text: string): void; touch(): void; closed(): void } {
    const state = this.#stateOf(channel.id);
    const key = role === 'MASTER' ? MASTER : clientId!;
    if (role === 'VIEWER' && !state.clients.has(key) && this.#viewerCount(state) >= this.#limits.maxViewers) {
      throw new KvsError('ClientLimitExceededException', `The channel already has the maximum number of viewers (${this.#limits.maxViewers}).`);
    }
    const previous = state.clients.get(key);
    const now = Date.now();
    const client: Client = { role, clientId, transport, lastSeen: now, openedAt: now, goneAway: false, iceRefreshed: false, rate: new MessageRate(systemClock) };
    state.clients.set(key, client);
    if (previous !== undefined) {
      // the most recent connection with the same identity takes precedence
      previous.transport.close(1000, 'replaced by a newer connection');
    }
    this.#deliverPending(channel.id, state, key);
    if (role === 'MASTER') {
      for (const i of this.#interceptors) {
        i.masterJoined?.(channel);
      }
    }
    let gone = false;
    return {
      receive: (text) => {
        client.lastSeen = Date.now();
        if (!gone && state.clients.get(key) === client) {
          this.#receive(channel.id, client, text);
        }
      },
      touch: () => {
        client.lastSeen = Date.now();
      },
      closed: () => {
        gone = true;
        if (!this.#closed && state.clients.get(key) === client) {
          state.clients.delete(key);
          const c = this.#channels.byId(channel.id);
          if (c !== undefined) {
            for (const i of this.#interceptors) {
              i.left?.(c, role, clientId);
            }
          }
        }
      },
    };
  }

  /** Sends as if the given in-process client had sent it (the storage or relay peer). */
  sendAs(channelId: number, role: Role, clientId: string | null, message: { action: 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE'; messagePayload: string; recipientClientId?: string }): void {
    const state = this.#stateOf(channelId);
    this.#route(channelId, state, { role, clientId }, message.action, message.messagePayload, message.recipientClientId);
  }

  /**
   * SendAlexaOfferToMaster: the offer reaches the master as an SDP_OFFER from `senderClientId` (now, or when it
   * connects within the channel's MessageTtlSeconds); resolves with the master's SDP_ANSWER payload to that id, or
   * null when none came within `timeoutMs`. The sender is no signaling client, so the answer is taken here.
   */
  offerToMaster(channel: ChannelRecord, senderClientId: string, payload: string, timeoutMs: number): Promise<string | null> {
    const key = `${channel.id}\n${senderClientId}`;
    // a newer offer from the same sender replaces the older one in the queue, and its wait too
    this.#answerWaiters.get(key)?.(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (answer: string | null): void => {
        clearTimeout(timer);
        if (this.#answerWaiters.get(key) === done) {
          this.#answerWaiters.delete(key);
        }
        resolve(answer);
      };
      this.#answerWaiters.set(key, done);
      this.#deliver(channel, this.#stateOf(channel.id), MASTER, { senderClientId, messageType: 'SDP_OFFER', messagePayload: payload }, senderClientId);
    });
  }

  isMasterConnected(channelId: number): boolean {
    return this.#state.get(channelId)?.clients.has(MASTER) ?? false;
  }

  viewerIds(channelId: number): string[] {
    const state = this.#state.get(channelId);
    return state === undefined ? [] : [...state.clients.entries()].filter(([k]) => k !== MASTER).map(([k]) => k);
  }

  /** Tells one viewer to reconnect (GO_AWAY), if it is connected; nothing is queued for an offline one. */
  notify(channelId: number, clientId: string, messageType: 'GO_AWAY' | 'RECONNECT_ICE_SERVER'): void {
    this.#state.get(channelId)?.clients.get(clientId)?.transport.send({ messageType });
  }

  /** Tells every client of a channel to reconnect (GO_AWAY) or to refresh its ICE servers first. */
  broadcast(channelId: number, messageType: 'GO_AWAY' | 'RECONNECT_ICE_SERVER'): void {
    for (const c of this.#state.get(channelId)?.clients.values() ?? []) {
      c.transport.send({ messageType });
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const done of [...this.#answerWaiters.values()]) {
      done(null);
    }
    for (const id of [...this.#state.keys()]) {
      this.#closeChannel(id, 'server shutting down');
    }
  }

  #receive(channelId: number, from: Client, text: string): void {
    let msg;
    try {
      msg = parseClientMessage(text);
    } catch (err) {
      if (err instanceof MessageError) {
        const status = statusResponse(err);
        if (status !== null) {
          from.transport.send(status);
        }
        return;
      }
      throw err;
    }
    if (!from.rate.allow(msg.action)) {
      this.onMessageRefused?.();
      if (from.rate.refused === 1) {
        this.#log.warn('signaling client over its message rate: messages dropped', { channelId, role: from.role, clientId: from.clientId, action: msg.action, ratePerSecond: MESSAGE_RATES[msg.action] });
      }
      const status = statusResponse(new MessageError('ClientLimitExceededException', `More than ${MESSAGE_RATES[msg.action]} ${msg.action} messages per second on this connection; the message was dropped.`, msg.correlationId));
      if (status !== null) {
        from.transport.send(status);
      }
      return;
    }
    try {
      this.#route(channelId, this.#stateOf(channelId), from, msg.action, msg.messagePayload, msg.recipientClientId);
    } catch (err) {
      if (err instanceof MessageError) {
        const status = statusResponse(new MessageError(err.errorType, err.message, msg.correlationId));
        if (status !== null) {
          from.transport.send(status);
        }
        return;
      }
      throw err;
    }
  }

  #route(channelId: number, state: ChannelState, from: { role: Role; clientId: string | null }, action: 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE', payload: string, recipient: string | undefined): void {
    const channel = this.#channels.byId(channelId);
    if (channel === undefined) {
      throw new MessageError('ResourceNotFoundException', 'The channel no longer exists.', undefined);
    }
    if (from.role === 'VIEWER') {
      // a viewer always speaks to the master; any recipient it names is ignored, as in KVS
      for (const i of this.#interceptors) {
        if (i.fromViewer?.(channel, from.clientId!, action, payload) === true) {
          return;
        }
      }
      this.#deliver(channel, state, MASTER, { senderClientId: from.clientId!, messageType: action, messagePayload: payload }, action === 'SDP_OFFER' ? from.clientId : null);
      return;
    }
    if (action === 'SDP_ANSWER' && recipient !== undefined) {
      const waiter = this.#answerWaiters.get(`${channelId}\n${recipient}`);
      if (waiter !== undefined) {
        waiter(payload);
        return;
      }
    }
    for (const i of this.#interceptors) {
      if (i.fromMaster?.(channel, recipient, action, payload) === true) {
        return;
      }
    }
    if (recipient === undefined) {
      throw new MessageError('InvalidArgumentException', 'A master must name the viewer in recipientClientId.', undefined);
    }
    this.#deliver(channel, state, recipient, { messageType: action, messagePayload: payload }, action === 'SDP_OFFER' || action === 'SDP_ANSWER' ? MASTER : null);
  }

  #deliver(channel: ChannelRecord, state: ChannelState, to: string, message: ServiceMessage, offerFrom: string | null): void {
    const target = state.clients.get(to);
    if (target !== undefined) {
      target.transport.send(message);
      return;
    }
    // offline: kept for the channel's TTL; a newer undelivered offer/answer between the same two replaces the older
    if (offerFrom !== null) {
      state.pending = state.pending.filter((p) => !(p.to === to && p.offerFrom === offerFrom && p.message.messageType === message.messageType));
    }
    state.pending.push({ to, message, expiresAt: Date.now() + channel.messageTtlSeconds * 1000, offerFrom });
  }

  #deliverPending(channelId: number, state: ChannelState, key: string): void {
    const now = Date.now();
    const client = state.clients.get(key);
    const keep: Pending[] = [];
    for (const p of state.pending) {
      if (p.expiresAt < now) {
        continue;
      }
      if (p.to === key && client !== undefined) {
        client.transport.send(p.message);
      } else {
        keep.push(p);
      }
    }
    state.pending = keep;
    if (state.clients.size === 0 && keep.length === 0) {
      this.#state.delete(channelId);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, state] of this.#state) {
      state.pending = state.pending.filter((p) => p.expiresAt >= now);
      for (const c of [...state.clients.values()]) {
        const refreshAfter = this.#limits.iceRefreshAfterMs;
        if (refreshAfter !== null && !c.iceRefreshed && !c.goneAway && now - c.openedAt > refreshAfter) {
          // the connection's own start stands in for its GetIceServerConfig call, made just before connecting
          c.iceRefreshed = true;
          c.transport.send({ messageType: 'RECONNECT_ICE_SERVER' });
        }
        if (now - c.lastSeen > this.#limits.idleTimeoutMs) {
          this.#log.info('signaling client idle, closing', { channelId: id, role: c.role, clientId: c.clientId });
          c.transport.close(1000, 'idle timeout');
        } else if (!c.goneAway && now - c.openedAt > this.#limits.maxConnectionMs) {
          c.goneAway = true;
          c.transport.send({ messageType: 'GO_AWAY' });
        } else if (c.goneAway && now - c.openedAt > this.#limits.maxConnectionMs + this.#limits.goAwayGraceMs) {
          c.transport.close(1000, 'maximum connection duration');
        }
      }
      if (state.clients.size === 0 && state.pending.length === 0) {
        this.#state.delete(id);
      }
    }
  }

  #closeChannel(id: number, reason: string): void {
    const state = this.#state.get(id);
    this.#state.delete(id);
    for (const c of state?.clients.values() ?? []) {
      c.transport.send({ messageType: 'GO_AWAY' });
      c.transport.close(1001, reason);
    }
  }

  #stateOf(id: number): ChannelState {
    let s = this.#state.get(id);
    if (s === undefined) {
      s = new ChannelState();
      this.#state.set(id, s);
    }
    return s;
  }

  #viewerCount(state: ChannelState): number {
    return state.clients.size - (state.clients.has(MASTER) ? 1 : 0);
  }
}
