// The Opus identification header (RFC 7845 §5.1), which Matroska keeps as the CodecPrivate of A_OPUS: what a
// decoder needs to know about an Opus stream received as bare packets (WebRTC carries no such header).

/** Opus always runs at 48 kHz internally; the header's input rate is informational only. */
export const OPUS_SAMPLE_RATE = 48_000;

/**
 * An OpusHead for 1 or 2 channels (channel mapping family 0). `preSkip` is the number of 48 kHz samples to drop
 * at the start: 0 for a stream joined mid-way, whose encoder's priming samples went to someone else.
 */
export function writeOpusHead(channels: 1 | 2, preSkip = 0): Uint8Array {
  const out = new Uint8Array(19);
  out.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]); // "OpusHead"
  const view = new DataView(out.buffer);
  view.setUint8(8, 1); // version
  view.setUint8(9, channels);
  view.setUint16(10, preSkip, true);
  view.setUint32(12, OPUS_SAMPLE_RATE, true);
  view.setInt16(16, 0, true); // output gain
  view.setUint8(18, 0); // mapping family 0: mono or stereo, no mapping table
  return out;
}

/** Channels an Opus packet was coded with: the TOC byte's stereo flag (RFC 6716 §3.1). */
export const opusPacketChannels = (packet: Uint8Array): 1 | 2 => (((packet[0] ?? 0) & 0x04) !== 0 ? 2 : 1);
