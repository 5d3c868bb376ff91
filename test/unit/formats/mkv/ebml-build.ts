// Tiny EBML builders for synthetic test streams. Deliberately independent of the production encoder, so
// the parser is not tested against the same assumptions it was written with.

export type Part = Uint8Array | number[];

export function bytes(...parts: Part[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

export function idBytes(id: number): number[] {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) {
    out.unshift(v % 256);
  }
  return out;
}

/** A size vint of exactly `length` bytes (default: shortest). */
export function sizeBytes(size: number, length?: number): number[] {
  let len = length ?? 1;
  while (length === undefined && size > 2 ** (7 * len) - 2) {
    len++;
  }
  const out = new Array<number>(len).fill(0);
  let rest = size;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  out[0] = (out[0] ?? 0) | (0x80 >> (len - 1));
  return out;
}

export const UNKNOWN8 = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
export const UNKNOWN1 = [0xff];

/** An element with a known size (optionally forced to `sizeLength` bytes). */
export function el(id: number, data: Part | Part[], sizeLength?: number): Uint8Array {
  const body = Array.isArray(data) && data.length > 0 && typeof data[0] !== 'number' ? bytes(...(data as Part[])) : bytes(data as Part);
  return bytes(idBytes(id), sizeBytes(body.length, sizeLength), body);
}

/** An element written with an unknown size. */
export function elUnknown(id: number, children: Part[], marker: number[] = UNKNOWN8): Uint8Array {
  return bytes(idBytes(id), marker, ...children);
}

export function uint(id: number, value: number, length?: number): Uint8Array {
  let len = length ?? 1;
  while (length === undefined && value >= 2 ** (8 * len)) {
    len++;
  }
  const out = new Array<number>(len).fill(0);
  let rest = value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return el(id, out);
}

export function str(id: number, value: string): Uint8Array {
  return el(id, Array.from(new TextEncoder().encode(value)));
}

export function float32(id: number, value: number): Uint8Array {
  const d = new DataView(new ArrayBuffer(4));
  d.setFloat32(0, value);
  return el(id, new Uint8Array(d.buffer));
}

/** SimpleBlock / Block data: track vint, int16 relative timecode, flags, then `rest` (lacing + frames). */
export function blockData(track: number, relTc: number, flags: number, rest: Part = [0xaa]): Uint8Array {
  const tc = relTc < 0 ? relTc + 0x10000 : relTc;
  return bytes(sizeBytes(track), [tc >> 8, tc & 0xff, flags], rest);
}

export const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  EBMLReadVersion: 0x42f7,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  BlockDuration: 0x9b,
  ReferenceBlock: 0xfb,
  Cues: 0x1c53bb6b,
  Chapters: 0x1043a770,
  Tags: 0x1254c367,
  Tag: 0x7373,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagString: 0x4487,
  TagBinary: 0x4485,
  Void: 0xec,
  CRC32: 0xbf,
} as const;

export function ebmlHeader(docType = 'matroska'): Uint8Array {
  return el(ID.EBML, [uint(0x4286, 1), uint(ID.EBMLReadVersion, 1), uint(0x42f2, 4), uint(0x42f3, 8), str(ID.DocType, docType), uint(0x4287, 4), uint(0x4285, 2)]);
}

export function info(timecodeScale = 1_000_000): Uint8Array {
  return el(ID.Info, [uint(ID.TimecodeScale, timecodeScale), str(0x4d80, 'test'), str(0x5741, 'test')]);
}

export function videoTrack(number = 1): Uint8Array {
  return el(ID.TrackEntry, [
    uint(ID.TrackNumber, number),
    uint(ID.TrackUID, number),
    uint(ID.TrackType, 1),
    str(ID.CodecID, 'V_MPEG4/ISO/AVC'),
    el(ID.CodecPrivate, [1, 0x42, 0xc0, 0x1e]),
    el(ID.Video, [uint(ID.PixelWidth, 640), uint(ID.PixelHeight, 480)]),
  ]);
}

export function audioTrack(number = 2): Uint8Array {
  return el(ID.TrackEntry, [
    uint(ID.TrackNumber, number),
    uint(ID.TrackType, 2),
    str(ID.CodecID, 'A_AAC'),
    el(ID.Audio, [float32(ID.SamplingFrequency, 48000), uint(ID.Channels, 2)]),
  ]);
}

export function tracks(...entries: Uint8Array[]): Uint8Array {
  return el(ID.Tracks, entries.length > 0 ? entries : [videoTrack()]);
}

export function simpleBlock(track: number, relTc: number, keyframe: boolean, payload: Part = [0xaa, 0xbb]): Uint8Array {
  return el(ID.SimpleBlock, blockData(track, relTc, keyframe ? 0x80 : 0, payload));
}

export function cluster(timecode: number, children: Uint8Array[], unknownSize = false): Uint8Array {
  const kids = [uint(ID.Timecode, timecode), ...children];
  return unknownSize ? elUnknown(ID.Cluster, kids) : el(ID.Cluster, kids);
}

export function tagsElement(pairs: [string, string][]): Uint8Array {
  return el(ID.Tags, [el(ID.Tag, pairs.map(([n, v]) => el(ID.SimpleTag, [str(ID.TagName, n), str(ID.TagString, v)])))]);
}

/** A complete live-style document: EBML header + unknown-size Segment + Info + Tracks + `body`. */
export function liveDocument(body: Uint8Array[], trackEntries: Uint8Array[] = [videoTrack()]): Uint8Array {
  return bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), tracks(...trackEntries), ...body]));
}
