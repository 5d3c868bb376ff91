import { describe, expect, it } from 'vitest';
import { h264NalType, isVclNal, joinAnnexB, joinAvcc, splitAnnexB } from '../../../../src/formats/rtp/h264-nal.js';
import { errorOf } from '../../../helpers/parse-error.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('splitAnnexB', () => {
  const CASES: [string, string, string[]][] = [
    ['4-byte start codes', '00000001 6742 00000001 68ce', ['6742', '68ce']],
    ['3-byte start codes', '000001 6742 000001 68ce', ['6742', '68ce']],
    ['mixed, with leading zeros and trailing_zero_8bits', '0000 00000001 6742 0000 000001 65aabb 00', ['6742', '65aabb']],
    ['empty units are dropped', '00000001 00000001 09f0', ['09f0']],
    ['a 00 00 02 inside a unit is data', '00000001 41000002ff', ['41000002ff']],
    ['nothing at all', '', []],
    ['only zeros', '000000', []],
  ];
  it.each(CASES)('%s', (_name, bytes, nals) => {
    expect(splitAnnexB(hex(bytes)).map(toHex)).toEqual(nals);
  });

  it('throws a ParseError for data before the first start code', () => {
    expect(errorOf(() => splitAnnexB(hex('6742 00000001 68ce'))).message).toMatch(/does not begin with a start code/);
    expect(errorOf(() => splitAnnexB(hex('6742'))).code).toBe('INVALID');
  });
});

describe('joinAnnexB / joinAvcc', () => {
  const nals = [hex('6742001f'), hex('68ce'), hex('65' + 'ab'.repeat(300))];

  it('Annex-B puts a 4-byte start code before each unit, and splits back', () => {
    const out = joinAnnexB(nals);
    expect(toHex(out.subarray(0, 14))).toBe('000000016742001f0000000168ce');
    expect(splitAnnexB(out).map(toHex)).toEqual(nals.map(toHex));
  });

  it('AVCC puts a 4-byte big-endian length before each unit', () => {
    const out = joinAvcc(nals);
    expect(toHex(out.subarray(0, 18))).toBe('000000046742001f0000000268ce0000012d');
    expect(out.length).toBe(nals.reduce((n, u) => n + 4 + u.length, 0));
  });
});

it('h264NalType and isVclNal read the header byte', () => {
  expect([hex('67'), hex('68'), hex('65'), hex('41'), hex('06'), new Uint8Array(0)].map(h264NalType)).toEqual([7, 8, 5, 1, 6, 0]);
  expect([hex('65'), hex('41'), hex('67'), hex('09')].map(isVclNal)).toEqual([true, true, false, false]);
});
