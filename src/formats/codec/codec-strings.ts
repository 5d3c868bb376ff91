// RFC 6381 codec strings (HLS CODECS, DASH @codecs) from the parsed decoder configuration records.

import type { AacConfig } from './aac-config.js';
import type { AvcConfig } from './avc-config.js';
import type { HevcConfig } from './hevc-config.js';

/** RFC 6381 / ISO/IEC 14496-15 Annex E: avc1.PPCCLL. */
export function avcCodecString(c: AvcConfig): string {
  return `avc1.${hex2(c.profileIndication)}${hex2(c.profileCompatibility)}${hex2(c.levelIndication)}`;
}

/**
 * ISO/IEC 14496-15 Annex E.3: hvc1.[A-C]<profile>.<compatibility flags, bit-reversed, hex>.<L|H><level>
 * then the constraint bytes in hex, trailing zero bytes left out. Main 4.1 is hvc1.1.6.L123.B0.
 */
export function hevcCodecString(c: HevcConfig): string {
  const space = ['', 'A', 'B', 'C'][c.profileSpace] ?? '';
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    if ((c.profileCompatibilityFlags >>> i) & 1) {
      reversed |= 1 << (31 - i);
    }
  }
  const constraints = [...c.constraintIndicatorFlags];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) {
    constraints.pop();
  }
  const parts = [
    'hvc1',
    `${space}${c.profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${c.tierFlag ? 'H' : 'L'}${c.levelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ];
  return parts.join('.');
}

/** RFC 6381 for MPEG-4 audio: mp4a.40.<audioObjectType>, the type as signalled (5 or 29 for explicit HE-AAC). */
export function aacCodecString(c: AacConfig): string {
  return `mp4a.40.${c.audioObjectType}`;
}

function hex2(v: number): string {
  return v.toString(16).toUpperCase().padStart(2, '0');
}
