import type { Frame, HookEvent, LumaThumbnail } from '../frame.js';
import type { FrameSink } from '../sink.js';

/** A thumbnail pixel counts as changed when its luma moved by more than this (0–255). */
const PIXEL_DELTA = 25;
export const DEFAULT_MOTION_THRESHOLD = 0.02;

/**
 * The share of pixels that changed between two thumbnails of the same size, and the bounding box of the changed
 * ones in image fractions; null when the sizes differ (the stream's resolution changed).
 */
export function motionBetween(prev: LumaThumbnail, cur: LumaThumbnail): { share: number; box: HookEvent['box'] } | null {
  if (prev.width !== cur.width || prev.height !== cur.height || cur.data.length < cur.width * cur.height || cur.width === 0) {
    return null;
  }
  let changed = 0;
  let minX = cur.width;
  let minY = cur.height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < cur.height; y++) {
    for (let x = 0; x < cur.width; x++) {
      const i = y * cur.width + x;
      if (Math.abs(cur.data[i]! - prev.data[i]!) > PIXEL_DELTA) {
        changed++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  const share = changed / (cur.width * cur.height);
  if (changed === 0) {
    return { share, box: undefined };
  }
  return {
    share,
    box: { x: minX / cur.width, y: minY / cur.height, width: (maxX - minX + 1) / cur.width, height: (maxY - minY + 1) / cur.height },
  };
}

/** The built-in MOTION hook: a `motion` event whenever enough of the picture changed since the previous image. */
export class MotionDetector implements FrameSink {
  readonly name: string;
  readonly type = 'MOTION' as const;
  readonly #threshold: number;
  #previous: LumaThumbnail | null = null;

  constructor(name: string, threshold: number) {
    this.name = name;
    this.#threshold = threshold;
  }

  async deliver(frame: Frame): Promise<HookEvent[]> {
    const prev = this.#previous;
    this.#previous = frame.luma;
    const m = prev === null ? null : motionBetween(prev, frame.luma);
    if (m === null || m.share < this.#threshold) {
      return [];
    }
    const event: HookEvent = { label: 'motion', confidence: Math.min(1, m.share) };
    if (m.box !== undefined) {
      event.box = m.box;
    }
    return [event];
  }

  async close(): Promise<void> {}
}
