import type { Frame } from './frame.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * `<prefix>/<StreamName>/<YYYY>/<MM>/<DD>/<HH>/<timestampMs>-<FragmentNumber>.<ext>` (UTC), the timestamp chosen by
 * the configuration's ImageSelectorType: the same layout for directories and buckets.
 */
export function frameObjectKey(prefix: string, frame: Frame, selector: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP'): string {
  const ms = selector === 'SERVER_TIMESTAMP' ? frame.serverTimestamp : frame.producerTimestamp;
  const d = new Date(ms);
  const parts = [
    frame.streamName,
    String(d.getUTCFullYear()),
    pad(d.getUTCMonth() + 1),
    pad(d.getUTCDate()),
    pad(d.getUTCHours()),
    `${ms}-${frame.fragmentNumber}.${frame.format === 'PNG' ? 'png' : 'jpg'}`,
  ];
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return (p === '' ? parts : [p, ...parts]).join('/');
}
