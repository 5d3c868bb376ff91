// Shared by the RTP tests: hex helpers, random NAL units and sequencing of packetizer output.

import type { RtpPayload } from '../../../../src/formats/rtp/h264-packetizer.js';
import { RtpSequencer } from '../../../../src/formats/rtp/rtp-sequencer.js';
import type { RtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The CodecPrivate of a kvssink capture (Baseline 3.0): one SPS, one PPS. */
export const AVCC_KVSSINK = hex('0142001effe1001d2742001e898b60501ed80b50601063030005dc00017705ef7c1f08846e01000428ce1f20');
export const KVSSINK_SPS = '2742001e898b60501ed80b50601063030005dc00017705ef7c1f08846e';
export const KVSSINK_PPS = '28ce1f20';

/** A NAL unit of `size` bytes (header included) with the given type, a random NRI and random body bytes. */
export function randomNal(rnd: () => number, type: number, size: number): Uint8Array {
  const nal = Uint8Array.from({ length: size }, () => Math.floor(rnd() * 256));
  nal[0] = (Math.floor(rnd() * 4) << 5) | type;
  return nal;
}

/** Packets for a run of access units, each `payloads[i]` at 30 fps, with sequence numbers from `firstSequenceNumber`. */
export function sequence(payloads: RtpPayload[][], firstSequenceNumber = 65_530): RtpPacket[] {
  const seq = new RtpSequencer({ ssrc: 0x1234, payloadType: 102, firstSequenceNumber, timestampOffset: 0xffff_0000 });
  return payloads.flatMap((p, i) => seq.packets(p, (i * 1000) / 30));
}
