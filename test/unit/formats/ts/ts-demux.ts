// A minimal transport stream reader for the tests: it checks nothing itself, it only takes packets
// apart so tests can assert on every field the muxer wrote.

import { readTimestamp } from '../../../../src/formats/ts/pes.js';

export type TsPacket = {
  index: number;
  sync: number;
  pid: number;
  unitStart: boolean;
  afc: number;
  cc: number;
  adaptation?: { length: number; flags: number; randomAccess: boolean; pcr?: number; stuffing: number };
  payload: Uint8Array;
};

export function packetsOf(ts: Uint8Array): TsPacket[] {
  if (ts.length % 188 !== 0) {
    throw new Error(`${ts.length} bytes is not a whole number of packets`);
  }
  const out: TsPacket[] = [];
  for (let i = 0; i < ts.length / 188; i++) {
    const p = ts.subarray(i * 188, (i + 1) * 188);
    const b = (k: number): number => p[k] ?? 0;
    const afc = (b(3) >> 4) & 3;
    let at = 4;
    let adaptation: TsPacket['adaptation'];
    if (afc & 2) {
      const length = b(4);
      const flags = length > 0 ? b(5) : 0;
      let pcr: number | undefined;
      let fieldAt = 6;
      if (flags & 0x10) {
        pcr = b(6) * 2 ** 25 + b(7) * 2 ** 17 + b(8) * 2 ** 9 + b(9) * 2 + (b(10) >> 7);
        fieldAt += 6;
      }
      const end = 5 + length;
      const stuffing = length > 0 ? end - fieldAt : 0;
      adaptation = { length, flags, randomAccess: (flags & 0x40) !== 0, ...(pcr === undefined ? {} : { pcr }), stuffing };
      at = end;
    }
    out.push({
      index: i,
      sync: b(0),
      pid: ((b(1) & 0x1f) << 8) | b(2),
      unitStart: (b(1) & 0x40) !== 0,
      afc,
      cc: b(3) & 0x0f,
      ...(adaptation === undefined ? {} : { adaptation }),
      payload: afc & 1 ? p.subarray(at) : new Uint8Array(0),
    });
  }
  return out;
}

export type PesUnit = { pid: number; streamId: number; pts: number; dts: number; hasDts: boolean; declaredLength: number; data: Uint8Array; first: TsPacket };

/** PES packets of every PID except the PSI ones, reassembled in stream order. */
export function pesUnitsOf(ts: Uint8Array, psiPids: ReadonlySet<number> = new Set([0, 0x1000])): PesUnit[] {
  const open = new Map<number, { first: TsPacket; parts: Uint8Array[] }>();
  const done: { first: TsPacket; bytes: Uint8Array }[] = [];
  const close = (pid: number): void => {
    const u = open.get(pid);
    if (u !== undefined) {
      done.push({ first: u.first, bytes: Buffer.concat(u.parts) });
      open.delete(pid);
    }
  };
  for (const p of packetsOf(ts)) {
    if (psiPids.has(p.pid)) {
      continue;
    }
    if (p.unitStart) {
      close(p.pid);
      open.set(p.pid, { first: p, parts: [] });
    }
    open.get(p.pid)?.parts.push(p.payload);
  }
  for (const pid of [...open.keys()]) {
    close(pid);
  }
  done.sort((a, b) => a.first.index - b.first.index);
  return done.map(({ first, bytes }) => {
    const flags = bytes[7] ?? 0;
    const headerLength = 9 + (bytes[8] ?? 0);
    const pts = readTimestamp(bytes, 9);
    const hasDts = (flags & 0x40) !== 0;
    return {
      pid: first.pid,
      streamId: bytes[3] ?? 0,
      pts,
      dts: hasDts ? readTimestamp(bytes, 14) : pts,
      hasDts,
      declaredLength: ((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0),
      data: bytes.subarray(headerLength),
      first,
    };
  });
}

/** The section carried by a PSI packet (pointer field 0, as the muxer writes it). */
export function sectionOf(p: TsPacket): Uint8Array {
  const pointer = p.payload[0] ?? 0;
  const start = 1 + pointer;
  const length = (((p.payload[start + 1] ?? 0) & 0x0f) << 8) | (p.payload[start + 2] ?? 0);
  return p.payload.subarray(start, start + 3 + length);
}
