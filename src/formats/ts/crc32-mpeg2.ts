// CRC-32/MPEG-2, the checksum closing every PSI section (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7,
// initial value 0xFFFFFFFF, bits taken most significant first, no final XOR. It is not the zlib CRC-32,
// which reflects its bits, so Node's built-in cannot be reused even where it is available.

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) {
      c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    }
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32Mpeg2(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc = ((crc << 8) ^ (TABLE[((crc >>> 24) ^ b) & 0xff] ?? 0)) >>> 0;
  }
  return crc;
}
