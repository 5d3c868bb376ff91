// The MPEG-TS system clock: PTS, DTS and the PCR base count 90 kHz ticks in 33 bits and wrap around.

export const TS_CLOCK_HZ = 90_000;

/** 2^33: PTS, DTS and the PCR base are taken modulo this. */
export const TIMESTAMP_MODULUS = 2 ** 33;

/** Ticks per millisecond. */
const TICKS_PER_MS = TS_CLOCK_HZ / 1000;

/**
 * Milliseconds (epoch milliseconds of the producer clock, fractional allowed) to 33-bit 90 kHz ticks.
 * Rounding the absolute time, never a difference, keeps consecutive segments continuous: each one maps
 * the same instant to the same tick without knowing about the others.
 */
export function msToTicks(ms: number): number {
  return wrapTicks(absoluteTicks(ms));
}

/** Milliseconds to 90 kHz ticks before the wrap: for ordering and differences, which the wrap would break. */
export function absoluteTicks(ms: number): number {
  return Math.round(ms * TICKS_PER_MS);
}

/** Any integer tick count brought into 0 .. 2^33 - 1 (negative counts wrap from the top). */
export function wrapTicks(ticks: number): number {
  return ((ticks % TIMESTAMP_MODULUS) + TIMESTAMP_MODULUS) % TIMESTAMP_MODULUS;
}
