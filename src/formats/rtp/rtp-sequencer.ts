// Turns packetizer payloads into whole RTP packets for one outgoing stream: sequence numbers that count up
// by one per packet and wrap at 2^16, and a media clock (90 kHz for video) derived from the frame time.
// RFC 3550 §5.1 wants random starting values, so a receiver cannot confuse a restarted sender with the old one.

import type { RtpPacket } from './rtp-packet.js';
import type { RtpPayload } from './h264-packetizer.js';

/** RFC 6184 §5.1: H.264 always uses a 90 kHz RTP clock. */
export const H264_CLOCK_RATE = 90_000;

export type RtpSequencerOptions = {
  ssrc: number;
  payloadType: number;
  clockRate?: number;
  /** Sequence number of the first packet; random when absent. */
  firstSequenceNumber?: number;
  /** RTP timestamp of media time 0; random when absent. */
  timestampOffset?: number;
};

const randomUint = (bits: number): number => Math.floor(Math.random() * 2 ** bits);

export class RtpSequencer {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly timestampOffset: number;
  private nextSequence: number;

  constructor(opts: RtpSequencerOptions) {
    this.ssrc = opts.ssrc;
    this.payloadType = opts.payloadType;
    this.clockRate = opts.clockRate ?? H264_CLOCK_RATE;
    this.nextSequence = opts.firstSequenceNumber ?? randomUint(16);
    this.timestampOffset = opts.timestampOffset ?? randomUint(32);
  }

  get nextSequenceNumber(): number {
    return this.nextSequence;
  }

  /** The RTP timestamp of a media time in milliseconds (it wraps at 2^32, about 13 h at 90 kHz). */
  timestampOf(timeMs: number): number {
    const ticks = Math.round((timeMs * this.clockRate) / 1000);
    return (((this.timestampOffset + ticks) % 2 ** 32) + 2 ** 32) % 2 ** 32;
  }

  /** One packet per payload, all with the timestamp of `timeMs`; payloads are not copied. */
  packets(payloads: readonly RtpPayload[], timeMs: number): RtpPacket[] {
    const timestamp = this.timestampOf(timeMs);
    return payloads.map(({ payload, marker }) => {
      const sequenceNumber = this.nextSequence;
      this.nextSequence = (this.nextSequence + 1) & 0xffff;
      return { marker, payloadType: this.payloadType, sequenceNumber, timestamp, ssrc: this.ssrc, csrcs: [], payload, padding: 0 };
    });
  }
}
