import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/formats/errors.js';
import { aacChannelCount, MAX_AAC_CONFIG_BYTES, parseAudioSpecificConfig, writeAudioSpecificConfig } from '../../../../src/formats/codec/aac-config.js';
import { MAX_AVC_CONFIG_BYTES, parseAvcConfig } from '../../../../src/formats/codec/avc-config.js';
import { aacCodecString, avcCodecString, hevcCodecString } from '../../../../src/formats/codec/codec-strings.js';
import { MAX_HEVC_CONFIG_BYTES, MAX_HEVC_CONFIG_NALUS, parseHevcConfig } from '../../../../src/formats/codec/hevc-config.js';
import { errorOf } from '../../../helpers/parse-error.js';
import { prng } from '../../../helpers/prng.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Records as real muxers wrote them (CodecPrivate of the MKV inputs the end-to-end tests use).
const AVCC_KVSSINK = hex('0142001effe1001d2742001e898b60501ed80b50601063030005dc00017705ef7c1f08846e01000428ce1f20');
/** libx264 High 4:4:4: the High-profile extension bytes follow the PPS list. */
const AVCC_HIGH444 = hex('01f4000dffe1001967f4000d919b28283f6022000003000200000300781e28532c01000668ebe3c44844fff8f800');
/** A hand-made hvcC: one VPS, one SPS, one PPS and a prefix-SEI array, 4-byte lengths. */
const HVCC = hex(
  '01' + '01' + '60000000' + '900000000000' + '5a' + 'f000' + 'fc' + 'fd' + 'f8' + 'f8' + '0000' + '0f' + '04' +
    '20' + '0001' + '0004' + '40010c01' +
    '21' + '0001' + '0005' + '4201010160' +
    '22' + '0001' + '0003' + '4401c1' +
    '27' + '0001' + '0003' + '4e0105',
);

/** Every strict prefix of a valid record must fail as INVALID, never read past the end, never pass. */
function expectEveryPrefixRejected(bytes: Uint8Array, parse: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < bytes.length; n++) {
    const e = errorOf(() => parse(bytes.subarray(0, n)));
    expect(e.code, `prefix of ${n} bytes`).toBe('INVALID');
  }
}

/** Random bytes are rejected with a ParseError and nothing else (a plain TypeError would be a bounds bug). */
function expectGarbageRejected(parse: (b: Uint8Array) => unknown, lead?: number): void {
  const rnd = prng(0x75);
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 256));
    if (lead !== undefined) {
      bytes[0] = lead;
    }
    expect(() => parse(bytes)).toThrow(ParseError);
  }
}

describe('parseAvcConfig', () => {
  it('reads the profile, level, NAL length size and the SPS and PPS of a KVS producer record', () => {
    const c = parseAvcConfig(AVCC_KVSSINK);
    expect([c.profileIndication, c.profileCompatibility, c.levelIndication]).toEqual([0x42, 0x00, 0x1e]);
    expect(avcCodecString(c)).toBe('avc1.42001E');
    expect(c.lengthSize).toBe(4);
    expect(c.sps.map(toHex)).toEqual(['2742001e898b60501ed80b50601063030005dc00017705ef7c1f08846e']);
    expect(c.pps.map(toHex)).toEqual(['28ce1f20']);
  });

  it('ignores the High-profile extension after the PPS list', () => {
    const c = parseAvcConfig(AVCC_HIGH444);
    expect(avcCodecString(c)).toBe('avc1.F4000D');
    expect(c.sps).toHaveLength(1);
    expect(c.pps.map(toHex)).toEqual(['68ebe3c44844']);
  });

  it.each([
    [0xfc, 1],
    [0xfd, 2],
    [0xff, 4],
  ])('lengthSizeMinusOne byte %i gives %i-byte lengths', (byte, size) => {
    const b = AVCC_KVSSINK.slice();
    b[4] = byte;
    expect(parseAvcConfig(b).lengthSize).toBe(size);
  });

  it.each([
    ['truncated records', (): void => expectEveryPrefixRejected(AVCC_KVSSINK, parseAvcConfig)],
    ['random bytes', (): void => expectGarbageRejected(parseAvcConfig)],
    ['random bytes after version 1', (): void => expectGarbageRejected(parseAvcConfig, 1)],
  ])('rejects %s', (_name, check) => {
    check();
  });

  it.each([
    ['version 0', (b: Uint8Array): void => void (b[0] = 0), /configurationVersion is 0/],
    ['NAL length size 3', (b: Uint8Array): void => void (b[4] = 0xfe), /length size 3/],
    ['no SPS', (b: Uint8Array): void => void (b[5] = 0xe0), /has 0 SPS/],
    ['an SPS that is a PPS', (b: Uint8Array): void => void (b[8] = 0x28), /SPS 0 is not a NAL unit of type 7/],
    ['a PPS that is an SPS', (b: Uint8Array): void => void (b[b.length - 4] = 0x27), /PPS 0 is not a NAL unit of type 8/],
    ['an empty SPS', (b: Uint8Array): void => void (b[6] = b[7] = 0), /SPS 0 is not a NAL unit of type 7/],
  ])('rejects %s', (_name, corrupt, message) => {
    const b = AVCC_KVSSINK.slice();
    corrupt(b);
    const e = errorOf(() => parseAvcConfig(b));
    expect(e.code).toBe('INVALID');
    expect(e.message).toMatch(message);
  });

  it('rejects a record without PPS', () => {
    const b = Buffer.concat([AVCC_KVSSINK.subarray(0, AVCC_KVSSINK.length - 7), Uint8Array.of(0)]);
    expect(errorOf(() => parseAvcConfig(b)).message).toMatch(/1 SPS and 0 PPS/);
  });

  it('rejects records over the size cap before reading them', () => {
    const big = new Uint8Array(MAX_AVC_CONFIG_BYTES + 1);
    big.set(AVCC_KVSSINK);
    expect(errorOf(() => parseAvcConfig(big)).code).toBe('TOO_LARGE');
  });
});

describe('parseHevcConfig', () => {
  it('reads VPS, SPS and PPS in their own lists and skips SEI arrays', () => {
    const c = parseHevcConfig(HVCC);
    expect(c.lengthSize).toBe(4);
    expect(c).toMatchObject({ profileSpace: 0, tierFlag: 0, profileIdc: 1, profileCompatibilityFlags: 0x60000000, levelIdc: 90 });
    expect(toHex(c.constraintIndicatorFlags)).toBe('900000000000');
    expect(hevcCodecString(c)).toBe('hvc1.1.6.L90.90');
    expect(c.vps.map(toHex)).toEqual(['40010c01']);
    expect(c.sps.map(toHex)).toEqual(['4201010160']);
    expect(c.pps.map(toHex)).toEqual(['4401c1']);
  });

  it('puts profile space and tier in the codec string', () => {
    const b = HVCC.slice();
    b[1] = 0x62; // profile space 1, High tier, profile_idc 2 (Main 10)
    expect(hevcCodecString(parseHevcConfig(b))).toBe('hvc1.A2.6.H90.90');
  });

  it.each([
    ['truncated records', (): void => expectEveryPrefixRejected(HVCC, parseHevcConfig)],
    ['random bytes', (): void => expectGarbageRejected(parseHevcConfig)],
    ['random bytes after version 1', (): void => expectGarbageRejected(parseHevcConfig, 1)],
  ])('rejects %s', (_name, check) => {
    check();
  });

  it.each([
    ['version 0', (b: Uint8Array): void => void (b[0] = 0), /configurationVersion is 0/],
    ['NAL length size 3', (b: Uint8Array): void => void (b[21] = 0x0e), /length size 3/],
    ['a NAL unit of another type than its array', (b: Uint8Array): void => void (b[28] = 0x42), /type 32 array/],
    ['no PPS array', (b: Uint8Array): void => void (b[22] = 2), /0 PPS/],
    ['a 1-byte NAL unit', (b: Uint8Array): void => void (b[27] = 1), /NAL unit 0 of the type 32 array/],
  ])('rejects %s', (_name, corrupt, message) => {
    const b = HVCC.slice();
    corrupt(b);
    const e = errorOf(() => parseHevcConfig(b));
    expect(e.code).toBe('INVALID');
    expect(e.message).toMatch(message);
  });

  it('caps the number of NAL units and the record size', () => {
    const b = HVCC.slice();
    b[24] = (MAX_HEVC_CONFIG_NALUS + 1) >> 8;
    b[25] = (MAX_HEVC_CONFIG_NALUS + 1) & 0xff;
    expect(errorOf(() => parseHevcConfig(b)).code).toBe('TOO_LARGE');
    expect(errorOf(() => parseHevcConfig(new Uint8Array(MAX_HEVC_CONFIG_BYTES + 1))).code).toBe('TOO_LARGE');
  });
});

describe('parseAudioSpecificConfig', () => {
  it.each([
    // [config, audioObjectType, coreObjectType, samplingIndex, sampleRate, channelConfig]
    ['1190', 2, 2, 3, 48000, 2], // AAC-LC 48 kHz stereo (HandBrake)
    ['1210', 2, 2, 4, 44100, 2],
    ['1208', 2, 2, 4, 44100, 1],
    ['120856e500', 2, 2, 4, 44100, 1], // ffmpeg's, with the backward-compatible SBR sync extension after it
    ['0a10', 1, 1, 4, 44100, 2], // AAC Main
    ['1588', 2, 2, 11, 8000, 1],
    ['2b118800', 5, 2, 6, 24000, 2], // HE-AAC explicit: type 5, core 24 kHz, extension 48 kHz, core type 2
    ['eb098800', 29, 2, 6, 24000, 1], // HE-AAC v2 explicit: type 29, core 24 kHz mono (PS), extension 48 kHz
    ['17805dc010', 2, 2, 15, 48000, 2], // explicit 24-bit rate
    ['f8ea20', 39, 39, 5, 32000, 1], // escaped object type 39 (ER AAC ELD)
  ])('%s → type %i, core type %i, index %i, %i Hz, channels %i', (config, audioObjectType, coreObjectType, samplingIndex, sampleRate, channelConfig) => {
    const c = parseAudioSpecificConfig(hex(config));
    expect(c).toEqual({ audioObjectType, coreObjectType, samplingIndex, sampleRate, channelConfig });
    // The codec string names the type as signalled, not the core under SBR/PS.
    expect(aacCodecString(c)).toBe(`mp4a.40.${audioObjectType}`);
  });

  it.each([
    ['1208', 1],
    ['1210', 2],
    ['1230', 6],
    ['1238', 8], // configuration 7 is 7.1
    ['1200', undefined], // a program config element defines the channels
  ])('%s has %s channels', (config, channels) => {
    expect(aacChannelCount(parseAudioSpecificConfig(hex(config)))).toBe(channels);
  });

  it.each([
    ['empty', ''],
    ['cut inside the channel configuration', '11'],
    ['cut inside an explicit rate', '17805d'],
    ['cut inside the HE-AAC extension', '2b11'],
  ])('rejects a config %s', (_name, config) => {
    expect(errorOf(() => parseAudioSpecificConfig(hex(config))).code).toBe('INVALID');
  });

  it.each([
    ['object type 0', '0010', /audioObjectType 0/],
    ['a reserved sampling index', '1690', /reserved sampling frequency index 13/],
    ['an explicit rate of 0', '1780000010', /sampling frequency of 0/],
    ['core object type 0 under SBR', '2b118000', /audioObjectType 0/],
  ])('rejects %s', (_name, config, message) => {
    expect(errorOf(() => parseAudioSpecificConfig(hex(config))).message).toMatch(message);
  });

  it('rejects configs over the size cap before reading them', () => {
    const big = new Uint8Array(MAX_AAC_CONFIG_BYTES + 1);
    big.set(hex('1190'));
    expect(errorOf(() => parseAudioSpecificConfig(big)).code).toBe('TOO_LARGE');
  });
});

describe('writeAudioSpecificConfig', () => {
  it.each([
    // [object type, rate, channels, config] — the same bytes parseAudioSpecificConfig reads above
    [2, 48000, 2, '1190'], // AAC-LC 48 kHz stereo: openkvs's WebRTC recordings
    [2, 44100, 1, '1208'],
    [2, 8000, 1, '1588'],
    [1, 44100, 2, '0a10'],
  ])('type %i, %i Hz, %i channels → %s', (type, rate, channels, config) => {
    const bytes = writeAudioSpecificConfig(type, rate, channels);
    expect(Buffer.from(bytes).toString('hex')).toBe(config);
    expect(parseAudioSpecificConfig(bytes)).toMatchObject({ audioObjectType: type, sampleRate: rate, channelConfig: channels });
  });

  it.each([
    ['a rate outside the index table', 2, 7999, 2],
    ['an escaped object type', 39, 48000, 2],
    ['no channels', 2, 48000, 0],
  ])('refuses %s', (_name, type, rate, channels) => {
    expect(() => writeAudioSpecificConfig(type, rate, channels)).toThrow(RangeError);
  });
});
