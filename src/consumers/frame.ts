// What a frame consumer hands to its destination and hooks, and what hooks may give back.

export type LumaThumbnail = { width: number; height: number; data: Uint8Array };

export type Frame = {
  streamName: string;
  streamArn: string;
  fragmentNumber: string;
  /** Epoch milliseconds. */
  producerTimestamp: number;
  serverTimestamp: number;
  format: 'JPEG' | 'PNG';
  image: Uint8Array;
  width: number;
  height: number;
  luma: LumaThumbnail;
};

export type FrameMetadata = Omit<Frame, 'image' | 'luma'>;

export type HookEvent = {
  label: string;
  confidence?: number;
  box?: { x: number; y: number; width: number; height: number };
  data?: unknown;
};

export const MAX_EVENTS_PER_FRAME = 32;
export const MAX_LABEL_CHARS = 128;
export const MAX_EVENT_DATA_BYTES = 16 * 1024;

export function frameMetadata(f: Frame): FrameMetadata {
  const { image: _image, luma: _luma, ...meta } = f;
  return meta;
}

const fraction = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/**
 * A hook's return value as events: nothing, one event or an array of them. Invalid entries are dropped and
 * counted, never stored half-checked.
 */
export function toEvents(value: unknown): { events: HookEvent[]; invalid: number } {
  if (value === undefined || value === null) {
    return { events: [], invalid: 0 };
  }
  const list = Array.isArray(value) ? value : [value];
  const events: HookEvent[] = [];
  let invalid = 0;
  for (const item of list) {
    const e = validEvent(item);
    if (e === null || events.length >= MAX_EVENTS_PER_FRAME) {
      invalid++;
    } else {
      events.push(e);
    }
  }
  return { events, invalid };
}

function validEvent(item: unknown): HookEvent | null {
  if (typeof item !== 'object' || item === null) {
    return null;
  }
  const o = item as Record<string, unknown>;
  if (typeof o['label'] !== 'string' || o['label'].length < 1 || o['label'].length > MAX_LABEL_CHARS) {
    return null;
  }
  const e: HookEvent = { label: o['label'] };
  if (o['confidence'] !== undefined) {
    if (!fraction(o['confidence'])) {
      return null;
    }
    e.confidence = o['confidence'];
  }
  if (o['box'] !== undefined) {
    const b = o['box'] as Record<string, unknown> | null;
    if (typeof b !== 'object' || b === null || !fraction(b['x']) || !fraction(b['y']) || !fraction(b['width']) || !fraction(b['height'])) {
      return null;
    }
    e.box = { x: b['x'], y: b['y'], width: b['width'], height: b['height'] };
  }
  if (o['data'] !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(o['data']);
    } catch {
      return null;
    }
    if (json === undefined || Buffer.byteLength(json) > MAX_EVENT_DATA_BYTES) {
      return null;
    }
    e.data = JSON.parse(json) as unknown;
  }
  return e;
}
