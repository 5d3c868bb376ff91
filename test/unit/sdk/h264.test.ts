import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  annexBToAvcc,
  buildAvcDecoderConfig,
  nalType,
  parseSps,
  splitAccessUnit,
  splitAnnexB,
  splitAvcc,
  toLengthPrefixed,
  unescapeRbsp,
} from '../../../src/sdk/h264.js';
import { REAL_MEDIA } from '../../helpers/media.js';

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('splitAnnexB', () => {
  it.each<[string, Uint8Array, string[]]>([
    ['4-byte start codes', u8(0, 0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x68, 0xbb), ['67aa', '68bb']],
    ['3-byte start codes', u8(0, 0, 1, 0x65, 0x11, 0x22, 0, 0, 1, 0x41, 0x33), ['651122', '4133']],
    ['mixed start codes', u8(0, 0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x65, 0x88), ['0910', '6588']],
    ['leading zero bytes before the first start code', u8(0, 0, 0, 0, 0, 1, 0x65, 0x01), ['6501']],
    ['trailing_zero_8bits between NAL units', u8(0, 0, 1, 0x67, 0x01, 0, 0, 0, 0, 0, 1, 0x68, 0x02), ['6701', '6802']],
    ['trailing zeros at the end of the access unit', u8(0, 0, 1, 0x65, 0x07, 0, 0), ['6507']],
    ['emulation prevention bytes stay in the NAL unit', u8(0, 0, 1, 0x65, 0, 0, 3, 1, 0x05), ['6500000301' + '05']],
    ['an empty NAL unit between start codes is dropped', u8(0, 0, 1, 0, 0, 1, 0x41, 0x09), ['4109']],
  ])('%s', (_, au, nals) => {
    expect(splitAnnexB(au).map(toHex)).toEqual(nals);
  });

  it.each([
    ['no start code', u8(0x65, 0x01, 0x02)],
    ['data before the first start code', u8(0x12, 0, 0, 1, 0x65)],
  ])('rejects %s', (_, au) => {
    expect(() => splitAnnexB(au)).toThrow(/Annex-B/);
  });
});

describe('Annex-B → AVCC', () => {
  it.each<[string, Uint8Array, string]>([
    ['4-byte start codes', u8(0, 0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x68, 0xbb), '0000000267aa' + '0000000268bb'],
    ['3-byte start code', u8(0, 0, 1, 0x65, 0x11, 0x22), '00000003651122'],
    ['a 300-byte NAL unit', Uint8Array.from([0, 0, 1, 0x65, ...new Array<number>(299).fill(0x5a)]), '0000012c65' + '5a'.repeat(299)],
  ])('%s', (_, au, avcc) => {
    expect(toHex(annexBToAvcc(au))).toBe(avcc);
  });

  it('writes shorter length prefixes when asked, and refuses a NAL unit that does not fit', () => {
    expect(toHex(toLengthPrefixed([u8(0x65, 1), u8(0x41)], 2))).toBe('00026501' + '000141');
    expect(() => toLengthPrefixed([new Uint8Array(256).fill(0x41)], 1)).toThrow(RangeError);
  });
});

describe('splitAvcc / splitAccessUnit', () => {
  it.each<[string, Uint8Array, string[] | null]>([
    ['two NAL units', u8(0, 0, 0, 2, 0x67, 1, 0, 0, 0, 1, 0x68), ['6701', '68']],
    ['a length running past the end', u8(0, 0, 0, 9, 0x65, 1), null],
    ['bytes left over', u8(0, 0, 0, 1, 0x65, 0), null],
    ['a zero length', u8(0, 0, 0, 0, 0, 0, 0, 1, 0x65), null],
    ['a forbidden_zero_bit set', u8(0, 0, 0, 1, 0xe5), null],
  ])('%s', (_, au, nals) => {
    expect(splitAvcc(au)?.map(toHex) ?? null).toEqual(nals);
  });

  it('takes a length-prefixed unit whose length reads like a start code (256–511 bytes) as AVCC', () => {
    const nal = Uint8Array.from([0x65, ...new Array<number>(299).fill(0x5a)]);
    const avcc = toLengthPrefixed([nal]); // 00 00 01 2c …
    expect(splitAccessUnit(avcc).map((n) => n.length)).toEqual([300]);
    // Read as Annex-B it is a valid but wrong byte stream: one NAL unit whose header is the length's low byte.
    expect(splitAccessUnit(avcc, 'annexb').map((n) => n[0])).toEqual([0x2c]);
  });

  it('takes a length of 1 (00 00 00 01) as AVCC when the lengths tile the unit', () => {
    expect(splitAccessUnit(u8(0, 0, 0, 1, 0x09, 0, 0, 0, 2, 0x65, 0x88)).map(toHex)).toEqual(['09', '6588']);
  });

  it('falls back to Annex-B, and refuses Annex-B when told the input is AVCC', () => {
    const annexB = u8(0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x65, 0x88, 0x84);
    expect(splitAccessUnit(annexB).map(toHex)).toEqual(['0910', '658884']);
    expect(() => splitAccessUnit(annexB, 'avcc')).toThrow(/AVCC/);
  });

  it('splits every producer-c frame as Annex-B, and its AVCC conversion back as the same NAL units', () => {
    const media = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.h264'));
    const rows = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.frames.csv'), 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const [index, , offset, size, types] = row.split(',');
      const au = media.subarray(Number(offset), Number(offset) + Number(size));
      const nals = splitAccessUnit(au);
      expect(nals.map(nalType).join(' '), `frame ${index}`).toBe(types);
      expect(splitAccessUnit(annexBToAvcc(au)).map(toHex)).toEqual(nals.map(toHex));
    }
  });
});

describe('AVCDecoderConfigurationRecord', () => {
  it('rebuilds the KVS Java SDK sample CodecPrivate (Constrained Baseline, no extension) from its SPS and PPS', () => {
    // DemoTrackInfos.java's CPD for java-sdk_av_video_avcc.h264-avcc.
    const cpd = hex('01 42 c0 28 ff e1 00 1a 67 42 c0 28 db 02 80 f6 c0 5a 80 80 80 a0 00 00 03 00 20 00 57 e4 01 e3 06 5c 01 00 04 68 ca 8c b2');
    const sps = cpd.subarray(8, 8 + 0x1a);
    const pps = cpd.subarray(8 + 0x1a + 3, 8 + 0x1a + 3 + 4);
    expect(toHex(buildAvcDecoderConfig([sps], [pps]))).toBe(toHex(cpd));
  });

  it("matches ffmpeg's avcC for the producer-c High-profile stream (with the chroma/bit-depth extension)", () => {
    const media = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.h264'));
    const nals = splitAnnexB(media.subarray(0, 119_387));
    const sps = nals.filter((n) => nalType(n) === 7);
    const pps = nals.filter((n) => nalType(n) === 8);
    // `ffmpeg -f h264 -i producer-c_h264_frames_001-180.h264 -c copy out.mp4`, the avcC box payload.
    const ffmpeg = '0164001effe1001d6764001eacb201407b602d4180415000000300100000030328f162e48001000568ebccb22cfdf8f800';
    expect(toHex(buildAvcDecoderConfig(sps, pps))).toBe(ffmpeg);
    expect(parseSps(sps[0]!)).toEqual({ profileIdc: 100, constraintFlags: 0, levelIdc: 30, chromaFormatIdc: 1, bitDepthLumaMinus8: 0, bitDepthChromaMinus8: 0 });
  });

  it('lists several SPS/PPS in order', () => {
    const sps = hex('6742c01edb');
    const pps1 = hex('68ce3c80');
    const pps2 = hex('68ce3c81');
    expect(toHex(buildAvcDecoderConfig([sps], [pps1, pps2]))).toBe('0142c01effe1' + '0005' + '6742c01edb' + '02' + '0004' + '68ce3c80' + '0004' + '68ce3c81');
  });

  it.each([
    ['no SPS', [], [hex('68ce')]],
    ['no PPS', [hex('6742c01edb')], []],
    ['an SPS that is not one', [hex('6842c01e')], [hex('68ce')]],
  ])('refuses %s', (_, sps, pps) => {
    expect(() => buildAvcDecoderConfig(sps, pps)).toThrow();
  });

  it.each([
    ['00 00 03 01', '000001'],
    ['00 00 03 00 00 03', '00000000'],
    ['00 03 00', '000300'],
    ['12 00 00 03', '120000'],
  ])('unescapeRbsp %s → %s', (input, output) => {
    expect(toHex(unescapeRbsp(hex(input)))).toBe(output);
  });
});
