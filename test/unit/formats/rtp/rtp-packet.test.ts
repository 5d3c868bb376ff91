import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/formats/errors.js';
import { MAX_RTP_PACKET_BYTES, parseRtpPacket, serializeRtpPacket, type RtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';
import { errorOf } from '../../../helpers/parse-error.js';
import { prng } from '../../../helpers/prng.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** seq 0x0102, timestamp 0x03040506, SSRC 0x0708090a after the first two header bytes. */
const FIXED = '0102 03040506 0708090a';

type Expected = Partial<Omit<RtpPacket, 'payload' | 'extension'>> & { payload: string; extension?: { profile: number; data: string } };

const VALID: [string, string, Expected][] = [
  ['minimal, empty payload', `8060 ${FIXED}`, { marker: false, payloadType: 96, sequenceNumber: 0x0102, timestamp: 0x03040506, ssrc: 0x0708090a, csrcs: [], padding: 0, payload: '' }],
  ['payload', `8060 ${FIXED} aabbcc`, { payload: 'aabbcc' }],
  ['marker, payload type 127, all-ones fields', '80ff ffff ffffffff ffffffff 01', { marker: true, payloadType: 127, sequenceNumber: 0xffff, timestamp: 0xffffffff, ssrc: 0xffffffff, payload: '01' }],
  ['payload type 0 without marker', `8000 ${FIXED} 01`, { marker: false, payloadType: 0, payload: '01' }],
  ['two CSRCs', `8260 ${FIXED} 11111111 22222222 aa`, { csrcs: [0x11111111, 0x22222222], payload: 'aa' }],
  ['fifteen CSRCs', `8f60 ${FIXED} ${'00000001'.repeat(15)}`, { csrcs: Array<number>(15).fill(1), payload: '' }],
  ['one-byte header extension', `9060 ${FIXED} bede 0001 10ff0000 aa`, { extension: { profile: 0xbede, data: '10ff0000' }, payload: 'aa' }],
  ['empty header extension', `9060 ${FIXED} 1000 0000 aa`, { extension: { profile: 0x1000, data: '' }, payload: 'aa' }],
  ['padding', `a060 ${FIXED} aabb 000003`, { payload: 'aabb', padding: 3 }],
  ['padding of one byte (just the count)', `a060 ${FIXED} aa 01`, { payload: 'aa', padding: 1 }],
  ['padding only', `a060 ${FIXED} 00000004`, { payload: '', padding: 4 }],
  ['CSRC, extension and padding', `b1e0 ${FIXED} 33333333 bede 0002 1122334455667788 cafe 0002`, { marker: true, payloadType: 96, csrcs: [0x33333333], extension: { profile: 0xbede, data: '1122334455667788' }, payload: 'cafe', padding: 2 }],
];

const MALFORMED: [string, string, RegExp][] = [
  ['empty', '', /header is cut off: 0 of 12/],
  ['truncated header', `8060 0102 03040506 070809`, /header is cut off: 11 of 12/],
  ['version 0', `0060 ${FIXED}`, /version is 0/],
  ['version 1', `4060 ${FIXED}`, /version is 1/],
  ['version 3', `c060 ${FIXED}`, /version is 3/],
  ['CSRC past the end', `8360 ${FIXED} 11111111 22222222`, /CSRC 2 of 3/],
  ['CSRC cut in the middle', `8160 ${FIXED} 1111`, /CSRC 0 of 1/],
  ['extension header cut off', `9060 ${FIXED} bede`, /extension length/],
  ['extension length past the end', `9060 ${FIXED} bede 0002 11223344`, /expected 8 bytes of RTP header extension, only 4 left/],
  ['extension length past the end (huge)', `9060 ${FIXED} bede ffff 11223344`, /RTP header extension/],
  ['padding count 0', `a060 ${FIXED} aabb 00`, /padding of 0 bytes/],
  ['padding larger than the payload', `a060 ${FIXED} aa 05`, /padding of 5 bytes does not fit the 2 bytes/],
  ['padding reaching into the extension', `b060 ${FIXED} bede 0001 11223344 06`, /padding of 6 bytes does not fit the 1 bytes/],
  ['padding bit with nothing after the header', `a060 ${FIXED}`, /padding of \d+ bytes does not fit the 0 bytes/],
];

describe('parseRtpPacket', () => {
  it.each(VALID)('parses %s', (_name, bytes, expected) => {
    const p = parseRtpPacket(hex(bytes));
    const { payload, extension, ...fields } = expected;
    expect(p).toMatchObject(fields);
    expect(toHex(p.payload)).toBe(payload);
    if (extension === undefined) {
      expect(p.extension).toBeUndefined();
    } else {
      expect(p.extension?.profile).toBe(extension.profile);
      expect(toHex(p.extension?.data ?? new Uint8Array())).toBe(extension.data);
    }
  });

  it.each(VALID)('re-serializes %s byte for byte', (_name, bytes) => {
    expect(toHex(serializeRtpPacket(parseRtpPacket(hex(bytes))))).toBe(toHex(hex(bytes)));
  });

  it.each(MALFORMED)('rejects %s', (_name, bytes, message) => {
    const e = errorOf(() => parseRtpPacket(hex(bytes)));
    expect(e.code).toBe('INVALID');
    expect(e.message).toMatch(message);
  });

  it('rejects a packet over MAX_RTP_PACKET_BYTES as TOO_LARGE, and takes one of exactly that size', () => {
    const big = new Uint8Array(MAX_RTP_PACKET_BYTES + 1);
    big[0] = 0x80;
    expect(errorOf(() => parseRtpPacket(big)).code).toBe('TOO_LARGE');
    expect(parseRtpPacket(big.subarray(0, MAX_RTP_PACKET_BYTES)).payload.length).toBe(MAX_RTP_PACKET_BYTES - 12);
  });

  it('gives the payload as a view, not a copy', () => {
    const bytes = hex(`8060 ${FIXED} aabb`);
    const p = parseRtpPacket(bytes);
    expect(p.payload.buffer).toBe(bytes.buffer);
    expect(p.payload.byteOffset).toBe(12);
  });

  it('answers random bytes with a packet that re-serializes, or a ParseError, nothing else', () => {
    const rnd = prng(0x3550);
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256));
      if (bytes.length > 0 && rnd() < 0.7) {
        bytes[0] = 0x80 | ((bytes[0] ?? 0) & 0x3f);
      }
      let p: RtpPacket;
      try {
        p = parseRtpPacket(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        continue;
      }
      parsed++;
      // Padding contents are not kept (only their count), so compare with them zeroed.
      const expected = bytes.slice();
      expected.fill(0, bytes.length - p.padding, bytes.length - 1);
      expect(toHex(serializeRtpPacket(p))).toBe(toHex(expected));
    }
    expect(parsed).toBeGreaterThan(500);
  });
});

describe('serializeRtpPacket', () => {
  const base: RtpPacket = { marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 1, csrcs: [], payload: hex('aa'), padding: 0 };

  it('writes the fields where RFC 3550 puts them', () => {
    const p: RtpPacket = { ...base, csrcs: [5], extension: { profile: 0xbede, data: hex('12345678') }, padding: 4 };
    expect(toHex(serializeRtpPacket(p))).toBe('b1e0ffffffffffff00000001' + '00000005' + 'bede0001' + '12345678' + 'aa' + '00000004');
  });

  const BAD: [string, Partial<RtpPacket>, RegExp][] = [
    ['payload type 128', { payloadType: 128 }, /payloadType/],
    ['sequence number 65536', { sequenceNumber: 65536 }, /sequenceNumber/],
    ['negative timestamp', { timestamp: -1 }, /timestamp/],
    ['fractional SSRC', { ssrc: 1.5 }, /ssrc/],
    ['SSRC 2^32', { ssrc: 2 ** 32 }, /ssrc/],
    ['16 CSRCs', { csrcs: Array<number>(16).fill(0) }, /at most 15 CSRCs/],
    ['CSRC out of range', { csrcs: [-1] }, /csrcs\[0\]/],
    ['padding 256', { padding: 256 }, /padding/],
    ['extension data of 3 bytes', { extension: { profile: 0xbede, data: new Uint8Array(3) } }, /multiple of 4/],
    ['extension profile 0x10000', { extension: { profile: 0x10000, data: new Uint8Array(0) } }, /extension.profile/],
    ['a packet over the cap', { payload: new Uint8Array(MAX_RTP_PACKET_BYTES) }, /over 65535/],
  ];
  it.each(BAD)('throws a RangeError for %s', (_name, change, message) => {
    expect(() => serializeRtpPacket({ ...base, ...change })).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, ...change })).toThrow(message);
  });
});
