import { KvsError } from '../../errors/codes.js';
import type { ChannelRecord, ChannelRegistry } from '../../signaling/channel-registry.js';
import { PATTERNS } from '../input.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE } from './stream-ref.js';

// SendAlexaOfferToMaster (kvs-api.md §5.1): an HTTP caller (an Alexa display device in KVS) hands the master an SDP
// offer and gets the master's answer in the response, without a signaling WebSocket of its own.

/** How long the call waits for the master's answer (KVS does not say): someone is looking at the Alexa screen. */
export const ALEXA_ANSWER_WAIT_MS = 5000;

/** What the operation needs of the signaling hub (src/signaling/signaling-hub.ts provides it). */
export type MasterOfferer = { offerToMaster(channel: ChannelRecord, senderClientId: string, payload: string, timeoutMs: number): Promise<string | null> };

export function alexaOfferOperations(deps: { channels: Pick<ChannelRegistry, 'resolve'>; hub: MasterOfferer; answerWaitMs?: number }): OperationTable {
  return {
    '/v1/send-alexa-offer-to-master': async (input) => {
      const channel = deps.channels.resolve({ arn: input.str('ChannelARN', { ...ARN_RULE, required: true }) });
      const sender = input.str('SenderClientId', { min: 1, max: 256, pattern: PATTERNS.name, required: true });
      const payload = input.str('MessagePayload', { min: 1, max: 10_000, pattern: /^[a-zA-Z0-9+/=]+$/, required: true });
      const wait = deps.answerWaitMs ?? ALEXA_ANSWER_WAIT_MS;
      const answer = await deps.hub.offerToMaster(channel, sender, payload, wait);
      if (answer === null) {
        // not a modelled error: a 503 makes the AWS SDKs retry, and each retry offers again (replacing the queued
        // offer), which is KVS's "redelivery requests are made until the message expires"
        throw new KvsError('ServiceUnavailableException', `The master of channel ${channel.name} did not answer within ${wait / 1000} s.`);
      }
      return { Answer: answer };
    },
  };
}
