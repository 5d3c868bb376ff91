// Several participants' Opus → one PCM stream for a recording's AAC track (kvs-api.md §5.3: "combined media from
// the master and all viewer participants"). Each participant's packets are placed on the session's sample
// timeline by its own RTP clock — Opus RTP runs at 48 kHz (RFC 7587 §4.1), so one tick is one output sample —
// anchored where its first packet arrived. Output is released a jitter allowance behind the newest packet, so
// reordered packets still make it, and never further than a fixed lag behind the wall clock, so a session where
// nobody talks still records silence: a lost or late packet is silence, never a wait. Packets are decoded in
// timeline order when their time is released (the decoder keeps state between packets). Pure: times come from
// the caller and decoders from a factory.

/** The session's audio: 48 kHz interleaved stereo s16 (a mono participant is decoded to both channels). */
export const MIX_RATE = 48_000;
export const MIX_CHANNELS = 2;
/** Output is released in whole 20 ms steps (while live), so the encoder is written once per Opus frame, not per packet. */
const RELEASE_STEP = 960;
/**
 * This many late packets in a row from one participant: its path got slower for good (its first packet had come
 * unusually fast, or a queue built up), so it is anchored again where its packets now arrive, not lost until then.
 */
const LATE_RUN_RESYNC = 5;

/** Decodes one participant's packets, in order; null when a packet cannot be decoded (yet), which is silence. */
export type PcmDecoder = {
  decode(packet: Uint8Array): Int16Array | null;
  free(): void;
};

export type MixerOptions = {
  /** A new decoder for each participant (Opus decoding is stateful). */
  decoder: () => PcmDecoder;
  /** How far behind the newest packet of any participant output is released. */
  jitterMs: number;
  /** How far behind the wall clock output is released at the latest, when nobody is sending. */
  maxLagMs: number;
  /** A packet this far before released output, or ahead of the wall clock, re-anchors its participant (new clock). */
  resyncMs: number;
};

export type MixerStats = {
  packets: number;
  /** Arrived after their time was released (mixed as silence). */
  latePackets: number;
  /** Same time as one already taken from this participant (a duplicate, or overlapping after a clock jump). */
  overlappingPackets: number;
  undecodablePackets: number;
  /** A participant's RTP clock jumped (or drifted) too far and was anchored again at a packet's arrival. */
  resyncs: number;
  /** Output samples (per channel) that clipped after summing. */
  clippedSamples: number;
};

type Pending = { pos: number; payload: Uint8Array };
type Decoded = { pos: number; pcm: Int16Array };

type Source = {
  decoder: PcmDecoder;
  /** Timeline sample of the RTP timestamp `lastRtp` minus `ticks`: where this participant's first packet landed. */
  anchor: number;
  lastRtp: number;
  /** Unwrapped RTP ticks since the anchoring packet. */
  ticks: number;
  /** Not yet decoded, in timeline order. */
  pending: Pending[];
  /** Decoded and not yet fully released: at most the tail of the last packet taken. */
  decoded: Decoded[];
  /** Timeline sample after the last decoded packet: a packet starting before it is an overlap. */
  decodedEnd: number;
  /** Late packets in a row. */
  lateRun: number;
};

export class AudioMixer {
  readonly #o: MixerOptions;
  /** Wall-clock ms of timeline sample 0: the first packet of any participant. */
  #startMs: number | null = null;
  /** Timeline samples handed out so far. */
  #released = 0;
  /** Timeline sample of the newest packet of any participant. */
  #newest = 0;
  #lastMixMs: number | null = null;
  /** Arrival of the newest packet of any participant. */
  #lastPacketMs = -Infinity;
  readonly #sources = new Map<string, Source>();
  /** Participants that left; their last packets are still mixed, then their decoders freed. */
  readonly #leaving: Source[] = [];
  readonly stats: MixerStats = { packets: 0, latePackets: 0, overlappingPackets: 0, undecodablePackets: 0, resyncs: 0, clippedSamples: 0 };

  constructor(options: MixerOptions) {
    this.#o = options;
  }

  /** Wall-clock ms of the first sample, once any participant has sent a packet. */
  get startMs(): number | null {
    return this.#startMs;
  }

  /** Samples (per channel) released so far: the next output begins at this timeline sample. */
  get releasedSamples(): number {
    return this.#released;
  }

  /** One participant's Opus packet: its RTP timestamp, and when it arrived (wall-clock ms). */
  packet(id: string, rtpTimestamp: number, arrivalMs: number, payload: Uint8Array): void {
    this.stats.packets++;
    this.#startMs ??= arrivalMs;
    this.#lastPacketMs = arrivalMs;
    const wall = this.#wallSample(arrivalMs);
    const ts = rtpTimestamp >>> 0;
    let s = this.#sources.get(id);
    if (s === undefined) {
      // a participant joining is heard from where the session is when its first packet arrives
      s = { decoder: this.#o.decoder(), anchor: wall, lastRtp: ts, ticks: 0, pending: [], decoded: [], decodedEnd: -Infinity, lateRun: 0 };
      this.#sources.set(id, s);
    } else {
      // the signed 32-bit step: the RTP timestamp wraps at 2^32 (RFC 3550 §5.1)
      s.ticks += (ts - s.lastRtp) | 0;
      s.lastRtp = ts;
    }
    let pos = s.anchor + s.ticks;
    const resync = this.#samples(this.#o.resyncMs);
    const late = pos < this.#released;
    s.lateRun = late ? s.lateRun + 1 : 0;
    if (pos > wall + resync || pos < this.#released - resync || s.lateRun >= LATE_RUN_RESYNC) {
      this.stats.resyncs++;
      s.anchor = Math.max(wall, this.#released);
      s.ticks = 0;
      s.lateRun = 0;
      pos = s.anchor;
    } else if (late) {
      this.stats.latePackets++;
      return;
    }
    if (!insertInOrder(s.pending, { pos, payload })) {
      this.stats.overlappingPackets++;
      return;
    }
    this.#newest = Math.max(this.#newest, pos);
  }

  /** A participant left: what it sent is still mixed; the same id sending again starts a new participant. */
  leave(id: string): void {
    const s = this.#sources.get(id);
    if (s !== undefined) {
      this.#sources.delete(id);
      this.#leaving.push(s);
    }
  }

  /**
   * The mix from the last release up to `jitterMs` behind the newest packet, or `maxLagMs` behind the wall clock
   * when that is later (never past the wall clock): interleaved stereo, empty when nothing is due. Meant to be
   * called on a short timer (the recorder's 20 ms).
   */
  mix(nowMs: number): Int16Array {
    if (this.#startMs === null) {
      return new Int16Array(0);
    }
    const wall = this.#wallSample(nowMs);
    // The wall clock releases only while nobody has sent for a while (then it takes over from the jitter rule
    // without a jump), and not on a call long after the previous one: then the process was busy, and the packets
    // that came meanwhile are still queued behind this call (timers run before I/O), or being handed in now.
    const quietFor = this.#o.maxLagMs - this.#o.jitterMs;
    const busy = this.#lastMixMs !== null && nowMs - this.#lastMixMs > quietFor;
    this.#lastMixMs = nowMs;
    const byWall = busy || nowMs - this.#lastPacketMs < quietFor ? -Infinity : wall - this.#samples(this.#o.maxLagMs);
    const target = Math.min(wall, Math.max(this.#newest - this.#samples(this.#o.jitterMs), byWall));
    const until = this.#released + Math.floor((target - this.#released) / RELEASE_STEP) * RELEASE_STEP;
    return until > this.#released ? this.#mixUntil(until) : new Int16Array(0);
  }

  /** Everything received, mixed (the session's end): output runs to the end of the last decoded packet. */
  flush(): Int16Array {
    let end = this.#released;
    for (const s of this.#all()) {
      this.#decodeBefore(s, Infinity);
      end = Math.max(end, s.decodedEnd);
    }
    return end > this.#released ? this.#mixUntil(end) : new Int16Array(0);
  }

  /** Frees every participant's decoder. */
  close(): void {
    for (const s of this.#all()) {
      s.decoder.free();
    }
    this.#sources.clear();
    this.#leaving.length = 0;
  }

  #mixUntil(until: number): Int16Array {
    const from = this.#released;
    const acc = new Int32Array((until - from) * MIX_CHANNELS);
    for (const s of this.#all()) {
      this.#decodeBefore(s, until);
      for (const d of s.decoded) {
        addInto(acc, from, until, d);
      }
      s.decoded = s.decoded.filter((d) => d.pos + d.pcm.length / MIX_CHANNELS > until);
    }
    this.#released = until;
    for (let i = this.#leaving.length - 1; i >= 0; i--) {
      const s = this.#leaving[i]!;
      if (s.pending.length === 0 && s.decoded.length === 0) {
        s.decoder.free();
        this.#leaving.splice(i, 1);
      }
    }
    const out = new Int16Array(acc.length);
    for (let i = 0; i < acc.length; i++) {
      const v = acc[i]!;
      if (v > 32767 || v < -32768) {
        this.stats.clippedSamples++;
      }
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return out;
  }

  /** Decodes this participant's packets that start before `until`, in timeline order. */
  #decodeBefore(s: Source, until: number): void {
    while (s.pending.length > 0 && s.pending[0]!.pos < until) {
      const p = s.pending.shift()!;
      if (p.pos < s.decodedEnd) {
        this.stats.overlappingPackets++;
        continue;
      }
      const pcm = s.decoder.decode(p.payload);
      if (pcm === null || pcm.length === 0) {
        this.stats.undecodablePackets++;
        continue;
      }
      s.decoded.push({ pos: p.pos, pcm });
      s.decodedEnd = p.pos + pcm.length / MIX_CHANNELS;
    }
  }

  #all(): Source[] {
    return [...this.#sources.values(), ...this.#leaving];
  }

  #wallSample(ms: number): number {
    return this.#samples(ms - (this.#startMs ?? ms));
  }

  #samples(ms: number): number {
    return Math.round((ms * MIX_RATE) / 1000);
  }
}

/** Adds the part of `d` inside [from, until) into `acc` (which starts at timeline sample `from`). */
function addInto(acc: Int32Array, from: number, until: number, d: Decoded): void {
  const start = Math.max(from, d.pos);
  const end = Math.min(until, d.pos + d.pcm.length / MIX_CHANNELS);
  for (let t = start; t < end; t++) {
    const a = (t - from) * MIX_CHANNELS;
    const p = (t - d.pos) * MIX_CHANNELS;
    for (let c = 0; c < MIX_CHANNELS; c++) {
      acc[a + c]! += d.pcm[p + c]!;
    }
  }
}

/** Inserts by position (packets mostly arrive in order, so from the end); false for a duplicate position. */
function insertInOrder(list: Pending[], p: Pending): boolean {
  let i = list.length;
  while (i > 0 && list[i - 1]!.pos > p.pos) {
    i--;
  }
  if (i > 0 && list[i - 1]!.pos === p.pos) {
    return false;
  }
  list.splice(i, 0, p);
  return true;
}
