import { describe, expect, it } from 'vitest';
import { AudioMixer, MIX_CHANNELS, type MixerStats, type PcmDecoder } from '../../../src/webrtc/audio-mixer.js';

// The fake decoder turns a packet into 20 ms (960 samples) of one constant level on both channels: the level is
// the packet's int16 payload, so the mixed output says exactly which packets landed where.
const FRAME = 960;
const opus = (level: number): Uint8Array => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setInt16(0, level);
  return b;
};
const fakeDecoders = (): { decoder: () => PcmDecoder; freed: () => number; created: () => number } => {
  let freed = 0;
  let created = 0;
  return {
    decoder: () => {
      created++;
      return {
        decode: (p) => new Int16Array(FRAME * MIX_CHANNELS).fill(new DataView(p.buffer, p.byteOffset).getInt16(0)),
        free: () => void freed++,
      };
    },
    freed: () => freed,
    created: () => created,
  };
};

/** The left channel as [level, samples] runs (the right one is checked to be the same). */
function runs(pcm: Int16Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < pcm.length; i += MIX_CHANNELS) {
    const v = pcm[i]!;
    expect(pcm[i + 1]).toBe(v);
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === v) {
      last[1]++;
    } else {
      out.push([v, 1]);
    }
  }
  return out;
}

const concat = (parts: Int16Array[]): Int16Array => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const OPTIONS = { jitterMs: 100, maxLagMs: 250, resyncMs: 2000 };
const T0 = 1_000_000;
const RTP = 3_000_000_000;
const WRAP = 2 ** 32 - 960;

/** A packet: participant, RTP timestamp, arrival ms (from T0), level. */
type Step = { p: [string, number, number, number] } | { mix: number } | { leave: string };
const p = (id: string, rtp: number, atMs: number, level: number): Step => ({ p: [id, rtp, atMs, level] });
/** Packets in the order they arrive (stable for equal times). */
const byArrival = (steps: Step[]): Step[] => [...steps].sort((a, b) => ('p' in a ? a.p[2] : 0) - ('p' in b ? b.p[2] : 0));
/** The recorder's timer: a mix every 50 ms from `fromMs` to `toMs`. */
const pumps = (fromMs: number, toMs: number): Step[] => Array.from({ length: Math.floor((toMs - fromMs) / 50) + 1 }, (_, i) => ({ mix: fromMs + i * 50 }));
/** 20 ms packets of one participant from RTP `rtp0`, arriving on time from `at0`, levels in order. */
const stream = (id: string, rtp0: number, at0: number, levels: number[]): Step[] => levels.map((l, i) => p(id, (rtp0 + i * FRAME) >>> 0, at0 + i * 20, l));

type Case = { name: string; steps: Step[]; runs: [number, number][]; stats?: Partial<MixerStats> };

const cases: Case[] = [
  {
    name: 'one participant in order: its packets back to back',
    steps: [...stream('m', RTP, 0, [100, 200, 300]), ...pumps(50, 500)],
    // then silence up to 500 − 250 ms (the wall-clock lag) in whole 20 ms steps
    runs: [
      [100, FRAME],
      [200, FRAME],
      [300, FRAME],
      [0, 9 * FRAME],
    ],
  },
  {
    name: 'two participants overlapping: summed where both talk; the later one starts where it arrived',
    steps: [...stream('m', RTP, 0, [100, 100, 100, 100]), ...stream('v', 77, 40, [10, 10, 10, 10])],
    runs: [
      [100, 2 * FRAME],
      [110, 2 * FRAME],
      [10, 2 * FRAME],
    ],
  },
  {
    name: 'a viewer joining late (its own RTP clock) is placed at the session time its first packet arrived',
    steps: [...stream('m', RTP, 0, [100, 100]), { mix: 500 }, ...stream('v', 5, 500, [7, 7])],
    // 0–40 ms the master, 40–480 ms released silence (nobody sending), from 500 ms the viewer
    runs: [
      [100, 2 * FRAME],
      [0, 23 * FRAME],
      [7, 2 * FRAME],
    ],
  },
  {
    name: 'a lost packet is a gap of silence, and the stream goes on after it',
    steps: [p('m', RTP, 0, 100), p('m', RTP + 2 * FRAME, 40, 300), p('m', RTP + 3 * FRAME, 60, 400)],
    runs: [
      [100, FRAME],
      [0, FRAME],
      [300, FRAME],
      [400, FRAME],
    ],
  },
  {
    name: 'a packet arriving after its time was released is dropped (silence), not waited for',
    steps: [...stream('m', RTP, 0, [100, 100, 100, 100, 100, 100, 100, 100]), ...pumps(150, 300), p('m', RTP + 8 * FRAME, 300, 200), p('m', RTP - FRAME, 301, 999)],
    runs: [
      [100, 8 * FRAME],
      [200, FRAME],
    ],
    stats: { latePackets: 1 },
  },
  {
    name: 'reordered packets inside the jitter allowance are both placed by timestamp',
    steps: [p('m', RTP, 0, 100), p('m', RTP + 2 * FRAME, 40, 300), p('m', RTP + FRAME, 45, 200), { mix: 60 }],
    runs: [
      [100, FRAME],
      [200, FRAME],
      [300, FRAME],
    ],
  },
  {
    name: 'a duplicate packet is taken once',
    steps: [p('m', RTP, 0, 100), p('m', RTP, 5, 100), p('m', RTP + FRAME, 20, 200)],
    runs: [
      [100, FRAME],
      [200, FRAME],
    ],
    stats: { overlappingPackets: 1 },
  },
  {
    name: 'the sum clips at the int16 range instead of wrapping',
    steps: [...stream('m', RTP, 0, [30000, -30000]), ...stream('v', 9, 0, [30000, -30000])],
    runs: [
      [32767, FRAME],
      [-32768, FRAME],
    ],
    stats: { clippedSamples: 2 * FRAME * MIX_CHANNELS },
  },
  {
    name: 'the RTP timestamp wrapping at 2^32 continues the stream',
    steps: stream('m', WRAP - FRAME, 0, [100, 200, 300, 400]),
    runs: [
      [100, FRAME],
      [200, FRAME],
      [300, FRAME],
      [400, FRAME],
    ],
  },
  {
    name: 'a participant whose RTP clock jumps far ahead is anchored again where the packet arrived',
    steps: [p('m', RTP, 0, 100), p('m', RTP + 48_000 * 60, 20, 200)],
    runs: [
      [100, FRAME],
      [200, FRAME],
    ],
    stats: { resyncs: 1 },
  },
  {
    name: 'a call long after the previous one (the process was busy) releases nothing by the wall clock: the packets that queued up meanwhile still make it',
    steps: [p('m', RTP, 0, 100), ...pumps(50, 100), { mix: 700 }, ...Array.from({ length: 35 }, (_, k) => p('m', RTP + (k + 1) * FRAME, 700, 200))],
    runs: [
      [100, FRAME],
      [200, 35 * FRAME],
    ],
  },
  {
    name: 'a participant whose packets keep coming late (its path got slower) is anchored again after 5 in a row',
    // the master sets the pace; the viewer's first packet came fast, the rest 300 ms slower than it
    steps: byArrival([
      ...stream('m', RTP, 0, Array<number>(40).fill(100)),
      p('v', 5000, 0, 7),
      ...Array.from({ length: 8 }, (_, i) => p('v', 5000 + (i + 1) * FRAME, 320 + i * 20, 7)),
    ]),
    // 4 late packets are lost (20–100 ms); the 5th late one starts the viewer again where it arrived (400 ms)
    runs: [
      [107, FRAME],
      [100, 19 * FRAME],
      [107, 4 * FRAME],
      [100, 16 * FRAME],
    ],
    stats: { latePackets: 4, resyncs: 1 },
  },
  {
    name: 'a viewer who left is still heard up to its last packet',
    steps: [...stream('m', RTP, 0, [100, 100, 100]), ...stream('v', 1, 0, [5, 5]), { leave: 'v' }, { mix: 30 }],
    runs: [
      [105, 2 * FRAME],
      [100, FRAME],
    ],
  },
  {
    name: 'nobody sending: silence is released behind the wall clock',
    steps: [p('m', RTP, 0, 100), ...pumps(50, 1000)],
    // 20 ms of the packet, then silence up to 1000 − 250 ms in whole 20 ms steps
    runs: [
      [100, FRAME],
      [0, 36 * FRAME],
    ],
  },
];

describe('AudioMixer', () => {
  it.each(cases)('$name', ({ steps, runs: expected, stats }) => {
    const d = fakeDecoders();
    const mixer = new AudioMixer({ decoder: d.decoder, ...OPTIONS });
    const out: Int16Array[] = [];
    let now = T0;
    for (const s of steps) {
      if ('p' in s) {
        const [id, rtp, at, level] = s.p;
        now = T0 + at;
        mixer.packet(id, rtp, now, opus(level));
        out.push(mixer.mix(now));
      } else if ('mix' in s) {
        now = T0 + s.mix;
        out.push(mixer.mix(now));
      } else {
        mixer.leave(s.leave);
      }
    }
    out.push(mixer.flush());
    expect(runs(concat(out))).toEqual(expected);
    expect(mixer.startMs).toBe(T0);
    expect(mixer.stats).toMatchObject(stats ?? { latePackets: 0, overlappingPackets: 0, resyncs: 0, clippedSamples: 0 });
    mixer.close();
    expect(d.freed()).toBe(d.created());
  });

  it('releases up to the jitter allowance behind the newest packet, in whole 20 ms steps', () => {
    const mixer = new AudioMixer({ decoder: fakeDecoders().decoder, ...OPTIONS });
    for (let i = 0; i < 10; i++) {
      mixer.packet('m', RTP + i * FRAME, T0 + i * 20, opus(1));
    }
    // newest packet at 180 ms: 80 ms may be released (4 steps), nothing past the wall clock
    expect(mixer.mix(T0 + 180).length / MIX_CHANNELS).toBe(4 * FRAME);
    expect(mixer.releasedSamples).toBe(4 * FRAME);
    expect(mixer.mix(T0 + 185).length).toBe(0);
  });

  it('frees the decoder of a participant who left once its packets are mixed, and gives a rejoin a new one', () => {
    const d = fakeDecoders();
    const mixer = new AudioMixer({ decoder: d.decoder, ...OPTIONS });
    mixer.packet('v', 10, T0, opus(1));
    mixer.leave('v');
    expect(d.freed()).toBe(0);
    mixer.mix(T0 + 400);
    expect(d.freed()).toBe(1);
    mixer.packet('v', 999_999, T0 + 400, opus(2));
    expect(d.created()).toBe(2);
    mixer.close();
    expect(d.freed()).toBe(2);
  });

  it('records a packet the decoder cannot decode as silence', () => {
    const mixer = new AudioMixer({ decoder: () => ({ decode: () => null, free: () => undefined }), ...OPTIONS });
    mixer.packet('m', RTP, T0, opus(1));
    mixer.packet('m', RTP + FRAME, T0 + 20, opus(1));
    expect(runs(mixer.mix(T0 + 1000))).toEqual([[0, 37 * FRAME]]);
    expect(mixer.stats.undecodablePackets).toBe(2);
  });
});
