import type { Clock } from '../util/clock.js';
import { TokenBucket } from '../util/token-bucket.js';
import type { Action } from './signaling-messages.js';

/** KVS's hard WebRTC quotas per WebSocket connection, messages per second. */
export const MESSAGE_RATES: Readonly<Record<Action, number>> = { ICE_CANDIDATE: 20, SDP_OFFER: 5, SDP_ANSWER: 5 };
/**
 * A burst of twice the rate: a browser gathering on several interfaces trickles a dozen candidates in the same
 * instant, which a bucket holding one second's worth would already refuse.
 */
export const MESSAGE_BURST_FACTOR = 2;

/** What one signaling connection may still send, per action. */
export class MessageRate {
  readonly #buckets: Record<Action, TokenBucket>;
  refused = 0;

  constructor(clock: Clock) {
    const bucket = (rate: number): TokenBucket => new TokenBucket(rate, rate * MESSAGE_BURST_FACTOR, clock);
    this.#buckets = { ICE_CANDIDATE: bucket(MESSAGE_RATES.ICE_CANDIDATE), SDP_OFFER: bucket(MESSAGE_RATES.SDP_OFFER), SDP_ANSWER: bucket(MESSAGE_RATES.SDP_ANSWER) };
  }

  allow(action: Action): boolean {
    if (this.#buckets[action].tryTake()) {
      return true;
    }
    this.refused++;
    return false;
  }
}
