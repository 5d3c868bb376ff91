import { describe, expect, it } from 'vitest';
import { parseAudioSpecificConfig } from '../../../../src/formats/codec/aac-config.js';
import { ADTS_HEADER_BYTES, AdtsReader, MAX_ADTS_FRAME_BYTES, adtsFrame, adtsParams } from '../../../../src/formats/ts/adts.js';
import { splitNalUnits, toAnnexB, type AnnexBOptions } from '../../../../src/formats/ts/annexb.js';
import { errorOf } from '../../../helpers/parse-error.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Length-prefixed NAL units with `size`-byte lengths. */
function lengthPrefixed(size: number, ...nals: string[]): Uint8Array {
  return Buffer.concat(
    nals.map((n) => {
      const body = hex(n);
      const len = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        len[size - 1 - i] = (body.length >> (8 * i)) & 0xff;
      }
      return Buffer.concat([len, body]);
    }),
  );
}

const SC = '00000001';
const H264_PS = [hex('6742c01e'), hex('68ce3c80')];
const H265_PS = [hex('40010c01'), hex('42010101'), hex('4401c172')];

describe('toAnnexB', () => {
  const h264 = (keyframe: boolean, lengthSize = 4): AnnexBOptions => ({ codec: 'h264', lengthSize, keyframe, parameterSets: H264_PS });

  it.each([
    // [name, options, sample NAL units, expected Annex-B]
    ['an H.264 keyframe gets AUD, SPS, PPS, then its slices', h264(true), ['65888480', '06050401'], `${SC}09f0 ${SC}6742c01e ${SC}68ce3c80 ${SC}65888480 ${SC}06050401`],
    ['an H.264 non-keyframe gets the AUD only', h264(false), ['419a0203'], `${SC}09f0 ${SC}419a0203`],
    ['2-byte lengths', h264(false, 2), ['419a'], `${SC}09f0 ${SC}419a`],
    ['1-byte lengths', h264(true, 1), ['6588'], `${SC}09f0 ${SC}6742c01e ${SC}68ce3c80 ${SC}6588`],
    ['the sample’s own AUD is replaced, not repeated', h264(false), ['0910', '419a'], `${SC}09f0 ${SC}419a`],
    ['in-band parameter sets stay after the inserted ones', h264(true), ['6742c01f', '68ce', '6588'], `${SC}09f0 ${SC}6742c01e ${SC}68ce3c80 ${SC}6742c01f ${SC}68ce ${SC}6588`],
    ['zero-length units are dropped', h264(false), ['', '419a'], `${SC}09f0 ${SC}419a`],
    [
      'an HEVC keyframe gets AUD, VPS, SPS, PPS',
      { codec: 'h265', lengthSize: 4, keyframe: true, parameterSets: H265_PS },
      ['26010a', '4e0105'],
      `${SC}460150 ${SC}40010c01 ${SC}42010101 ${SC}4401c172 ${SC}26010a ${SC}4e0105`,
    ],
    [
      'an HEVC non-keyframe drops its own AUD (type 35)',
      { codec: 'h265', lengthSize: 4, keyframe: false, parameterSets: H265_PS },
      ['46010a', '02010b'],
      `${SC}460150 ${SC}02010b`,
    ],
  ] as [string, AnnexBOptions, string[], string][])('%s', (_name, opts, nals, expected) => {
    expect(toHex(toAnnexB(lengthPrefixed(opts.lengthSize, ...nals), opts))).toBe(expected.replace(/\s+/g, ''));
  });

  it.each([
    ['a NAL unit longer than the sample', hex('0000000541 9a')],
    ['a cut-off length field', hex('00000002 419a 0000')],
  ])('rejects %s with a ParseError', (_name, sample) => {
    expect(errorOf(() => toAnnexB(sample, h264(false))).code).toBe('INVALID');
  });

  it('splits without copying', () => {
    const sample = lengthPrefixed(4, '419a', '0102');
    const [a, b] = splitNalUnits(sample, 4);
    expect(a?.buffer).toBe(sample.buffer);
    expect(toHex(a!)).toBe('419a');
    expect(toHex(b!)).toBe('0102');
    expect(() => splitNalUnits(sample, 3)).toThrow(RangeError);
  });
});

describe('ADTS', () => {
  /** The fields of a 7-byte ADTS header, read back bit by bit. */
  function fields(h: Uint8Array): Record<string, number> {
    const bits = [...h.subarray(0, 7)].map((b) => b.toString(2).padStart(8, '0')).join('');
    const at = (from: number, n: number): number => parseInt(bits.slice(from, from + n), 2);
    return {
      syncword: at(0, 12),
      id: at(12, 1),
      layer: at(13, 2),
      protectionAbsent: at(15, 1),
      profile: at(16, 2),
      samplingIndex: at(18, 4),
      channelConfig: at(23, 3),
      frameLength: at(30, 13),
      fullness: at(43, 11),
      rawBlocks: at(54, 2),
    };
  }

  it.each([
    // [AudioSpecificConfig, raw size, profile, sampling index, channels]
    ['1190', 371, 1, 3, 2],
    ['1208', 0, 1, 4, 1],
    ['0a10', 100, 0, 4, 2],
    ['13a0', 5, 1, 7, 4], // 22.05 kHz, channel configuration 4 (its high bit sits in byte 2)
    ['17800fa010', 5, 1, 11, 2], // an explicit 8000 Hz is in the table too
    ['17805dc038', 9, 1, 3, 7], // an explicit 48 kHz maps back to index 3; 7.1 channels
    ['2b118800', 10, 1, 6, 2], // HE-AAC: ADTS carries the LC core at its own rate
    ['1190', MAX_ADTS_FRAME_BYTES - ADTS_HEADER_BYTES, 1, 3, 2],
  ])('config %s, %i-byte frame → profile %i, index %i, channels %i', (config, size, profile, samplingIndex, channelConfig) => {
    const params = adtsParams(parseAudioSpecificConfig(hex(config)));
    expect(params).toEqual({ profile, samplingIndex, channelConfig });
    if ('unsupported' in params) {
      return;
    }
    const raw = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
    const frame = adtsFrame(params, raw);
    expect(frame.length).toBe(ADTS_HEADER_BYTES + size);
    expect(fields(frame)).toEqual({
      syncword: 0xfff,
      id: 0,
      layer: 0,
      protectionAbsent: 1,
      profile,
      samplingIndex,
      channelConfig,
      frameLength: ADTS_HEADER_BYTES + size,
      fullness: 0x7ff,
      rawBlocks: 0,
    });
    expect(frame.subarray(ADTS_HEADER_BYTES)).toEqual(raw);
  });

  it('writes the header ffmpeg’s ADTS muxer writes for AAC-LC 48 kHz stereo', () => {
    // The first header of `ffmpeg -f lavfi -i sine=sample_rate=48000 -ac 2 -c:a aac -f adts`: a 295-byte frame.
    const params = adtsParams(parseAudioSpecificConfig(hex('1190')));
    expect('unsupported' in params).toBe(false);
    if (!('unsupported' in params)) {
      expect(toHex(adtsFrame(params, new Uint8Array(295 - ADTS_HEADER_BYTES)).subarray(0, 7))).toBe('fff14c8024fffc');
    }
  });

  it.each([
    ['an object type beyond LTP', 'f8ea20', /object type 39/], // ER AAC ELD
    ['channels from a program config element', '1180', /channel configuration 0/],
    ['a rate outside the index table', '17800f9f90', /7999 Hz/],
  ])('cannot express %s', (_name, config, message) => {
    const params = adtsParams(parseAudioSpecificConfig(hex(config)));
    expect('unsupported' in params && params.unsupported).toMatch(message);
  });

  it('refuses a frame over 8191 bytes with its header', () => {
    const params = adtsParams(parseAudioSpecificConfig(hex('1190')));
    if (!('unsupported' in params)) {
      expect(() => adtsFrame(params, new Uint8Array(MAX_ADTS_FRAME_BYTES - ADTS_HEADER_BYTES + 1))).toThrow(RangeError);
    }
  });
});

describe('AdtsReader', () => {
  const LC_48K_STEREO = { profile: 1, samplingIndex: 3, channelConfig: 2 };
  const frames = [hex('0102'), hex('030405'), new Uint8Array(300).fill(7)];
  const stream = Buffer.concat(frames.map((f) => adtsFrame(LC_48K_STEREO, f)));

  it.each([
    ['whole', [stream.length]],
    ['byte by byte', Array.from({ length: stream.length }, () => 1)],
    ['cut inside headers and payloads', [3, 8, 1, 200, 2]],
  ])('gives the raw frames of a stream pushed %s', (_name, sizes) => {
    const r = new AdtsReader();
    const out: Uint8Array[] = [];
    let at = 0;
    for (const n of sizes) {
      out.push(...r.push(stream.subarray(at, at + n)));
      at += n;
    }
    out.push(...r.push(stream.subarray(at)));
    expect(out).toEqual(frames);
    expect(r.pendingBytes).toBe(0);
  });

  it('skips the CRC of a header with protection_absent 0', () => {
    // fff0: MPEG-4, layer 0, protection_absent 0; frame_length 7 + 2 (CRC) + 2 = 11; one raw data block
    const withCrc = hex('fff0 5080 017f fc  abcd  0102');
    expect(new AdtsReader().push(withCrc)).toEqual([hex('0102')]);
  });

  it.each([
    ['no sync word', hex('00f1508001 7ffc00'), /no ADTS sync word/],
    ['a frame_length inside its header', hex('fff1508000 dffc'), /frame_length 6/],
    ['several raw data blocks', hex('fff1508001 7ffd00'), /2 raw data blocks/],
  ])('rejects %s', (_name, bytes, message) => {
    expect(errorOf(() => new AdtsReader().push(bytes)).message).toMatch(message);
  });
});
