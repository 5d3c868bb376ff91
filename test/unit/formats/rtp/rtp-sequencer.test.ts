import { describe, expect, it } from 'vitest';
import { H264_CLOCK_RATE, RtpSequencer } from '../../../../src/formats/rtp/rtp-sequencer.js';
import { parseRtpPacket, serializeRtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';
import { hex } from './rtp-helpers.js';

describe('RtpSequencer', () => {
  const payloads = [
    { payload: hex('7c85aa'), marker: false },
    { payload: hex('7c45bb'), marker: true },
  ];

  it('numbers packets by one, wrapping at 2^16, with one 90 kHz timestamp per access unit', () => {
    const s = new RtpSequencer({ ssrc: 7, payloadType: 102, firstSequenceNumber: 65_535, timestampOffset: 1000 });
    const a = s.packets(payloads, 0);
    const b = s.packets(payloads, 1000 / 30);
    expect([...a, ...b].map((p) => p.sequenceNumber)).toEqual([65_535, 0, 1, 2]);
    expect([...a, ...b].map((p) => p.timestamp)).toEqual([1000, 1000, 4000, 4000]);
    expect([...a, ...b].map((p) => p.marker)).toEqual([false, true, false, true]);
    expect(a[0]).toMatchObject({ ssrc: 7, payloadType: 102, csrcs: [], padding: 0 });
    expect(a[0]!.payload).toBe(payloads[0]!.payload);
    expect(s.nextSequenceNumber).toBe(3);
    expect(H264_CLOCK_RATE).toBe(90_000);
  });

  it('wraps the timestamp at 2^32, and maps media times before 0 below the offset', () => {
    const s = new RtpSequencer({ ssrc: 1, payloadType: 96, timestampOffset: 0xffff_ff00 });
    expect(s.timestampOf(0)).toBe(0xffff_ff00);
    expect(s.timestampOf(1000)).toBe((0xffff_ff00 + 90_000) % 2 ** 32);
    expect(s.timestampOf(-1000)).toBe(0xffff_ff00 - 90_000);
    expect(new RtpSequencer({ ssrc: 1, payloadType: 96, timestampOffset: 0 }).timestampOf(-1)).toBe(2 ** 32 - 90);
  });

  it('starts from random values when none are given, and its packets serialize', () => {
    const starts = new Set(Array.from({ length: 20 }, () => new RtpSequencer({ ssrc: 1, payloadType: 96 }).nextSequenceNumber));
    expect(starts.size).toBeGreaterThan(1);
    const s = new RtpSequencer({ ssrc: 0xdeadbeef, payloadType: 102, clockRate: 48_000 });
    const [p] = s.packets([payloads[1]!], 20);
    expect(parseRtpPacket(serializeRtpPacket(p!))).toMatchObject({ ssrc: 0xdeadbeef, marker: true, timestamp: s.timestampOf(20) });
    expect((s.timestampOf(20) - s.timestampOf(0) + 2 ** 32) % 2 ** 32).toBe(960);
  });
});
