import { describe, expect, it } from 'vitest';
import { crc32Mpeg2 } from '../../../../src/formats/ts/crc32-mpeg2.js';
import { NO_PCR_PID, StreamType, patSection, pmtSection } from '../../../../src/formats/ts/psi.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32Mpeg2', () => {
  it.each([
    // The CRC catalogue's check value for CRC-32/MPEG-2.
    ['"123456789"', ascii('123456789'), 0x0376e6e7],
    ['no bytes (the initial value)', new Uint8Array(0), 0xffffffff],
    ['one zero byte', Uint8Array.of(0), 0x4e08bfb4],
    // The PAT that ffmpeg's mpegts muxer writes (transport_stream_id 1, program 1 on PID 0x1000): CRC 2AB104B2.
    ['ffmpeg PAT', hex('00b00d0001c100000001f000'), 0x2ab104b2],
    // ffmpeg's PMT for one H.264 stream on PID 0x100, which is also the PCR PID: CRC 15BD4D56.
    ['ffmpeg PMT', hex('02b0120001c10000e100f0001be100f000'), 0x15bd4d56],
  ])('%s', (_name, bytes, crc) => {
    expect(crc32Mpeg2(bytes)).toBe(crc);
  });

  it('gives 0 over a section followed by its own CRC (how demuxers check it)', () => {
    for (const section of [patSection(0x1000), pmtSection(0x101, [{ pid: 0x101, streamType: StreamType.H264 }])]) {
      expect(crc32Mpeg2(section)).toBe(0);
    }
  });
});

describe('PSI sections', () => {
  it('writes the PAT byte for byte as ffmpeg does', () => {
    expect(Buffer.from(patSection(0x1000)).toString('hex')).toBe('00b00d0001c100000001f0002ab104b2');
  });

  it('writes the PMT byte for byte as ffmpeg does for one H.264 stream', () => {
    const pmt = pmtSection(0x100, [{ pid: 0x100, streamType: StreamType.H264 }]);
    expect(Buffer.from(pmt).toString('hex')).toBe('02b0120001c10000e100f0001be100f00015bd4d56');
  });

  it('lists every stream with its type and PID, and the PCR PID', () => {
    const pmt = pmtSection(0x101, [
      { pid: 0x101, streamType: StreamType.H265 },
      { pid: 0x102, streamType: StreamType.AAC_ADTS },
    ]);
    const sectionLength = ((pmt[1]! & 0x0f) << 8) | pmt[2]!;
    expect(sectionLength).toBe(pmt.length - 3);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(0x101);
    const entries = [...pmt.subarray(12, pmt.length - 4)];
    expect(entries).toEqual([0x24, 0xe1, 0x01, 0xf0, 0x00, 0x0f, 0xe1, 0x02, 0xf0, 0x00]);
  });

  it('accepts a program without streams or PCR', () => {
    const pmt = pmtSection(NO_PCR_PID, []);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(0x1fff);
    expect(crc32Mpeg2(pmt)).toBe(0);
  });

  it('refuses a PMT longer than a section may be', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ pid: 0x100 + i, streamType: StreamType.H264 }));
    expect(() => pmtSection(0x100, many)).toThrow(RangeError);
  });
});
