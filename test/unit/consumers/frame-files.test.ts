import { describe, expect, it } from 'vitest';
import { frameObjectKey } from '../../../src/consumers/frame-files.js';
import { makeFrame } from './make-frame.js';

const FN = '91343852333181432392682062607743920146264883612';

describe('frameObjectKey', () => {
  it.each<[string, string, Parameters<typeof makeFrame>[0], 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP', string]>([
    ['no prefix, JPEG, producer time', '', {}, 'PRODUCER_TIMESTAMP', `cam1/2025/11/27/21/1764280001500-${FN}.jpg`],
    ['server time picks the other timestamp', '', {}, 'SERVER_TIMESTAMP', `cam1/2025/11/27/21/1764280001620-${FN}.jpg`],
    ['PNG', '', { format: 'PNG' }, 'PRODUCER_TIMESTAMP', `cam1/2025/11/27/21/1764280001500-${FN}.png`],
    ['prefix', 'images', {}, 'PRODUCER_TIMESTAMP', `images/cam1/2025/11/27/21/1764280001500-${FN}.jpg`],
    ['prefix slashes trimmed', '//a/b//', {}, 'PRODUCER_TIMESTAMP', `a/b/cam1/2025/11/27/21/1764280001500-${FN}.jpg`],
    ['prefix of only slashes is none', '///', {}, 'PRODUCER_TIMESTAMP', `cam1/2025/11/27/21/1764280001500-${FN}.jpg`],
    ['zero-padded month, day and hour (UTC)', '', { producerTimestamp: Date.UTC(2024, 0, 5, 3, 0, 0, 7) }, 'PRODUCER_TIMESTAMP', `cam1/2024/01/05/03/1704423600007-${FN}.jpg`],
    ['last ms of a year', '', { producerTimestamp: Date.UTC(2023, 11, 31, 23, 59, 59, 999) }, 'PRODUCER_TIMESTAMP', `cam1/2023/12/31/23/1704067199999-${FN}.jpg`],
    ['first ms of a year', '', { producerTimestamp: Date.UTC(2024, 0, 1, 0, 0, 0, 0) }, 'PRODUCER_TIMESTAMP', `cam1/2024/01/01/00/1704067200000-${FN}.jpg`],
    [
      'producer and server times on different hours and days',
      'p',
      { producerTimestamp: Date.UTC(2025, 1, 28, 23, 59, 59, 900), serverTimestamp: Date.UTC(2025, 2, 1, 0, 0, 0, 100) },
      'SERVER_TIMESTAMP',
      `p/cam1/2025/03/01/00/1740787200100-${FN}.jpg`,
    ],
    ['stream name and fragment number as given', '', { streamName: 'my.cam-2_x', fragmentNumber: '1' }, 'PRODUCER_TIMESTAMP', 'my.cam-2_x/2025/11/27/21/1764280001500-1.jpg'],
  ])('%s', (_name, prefix, over, selector, key) => {
    expect(frameObjectKey(prefix, makeFrame(over), selector)).toBe(key);
  });

  it('does not depend on the process time zone', () => {
    const before = process.env['TZ'];
    try {
      process.env['TZ'] = 'Pacific/Kiritimati'; // UTC+14: a different calendar day than UTC for most of it
      expect(frameObjectKey('', makeFrame(), 'PRODUCER_TIMESTAMP')).toBe(`cam1/2025/11/27/21/1764280001500-${FN}.jpg`);
    } finally {
      if (before === undefined) {
        delete process.env['TZ'];
      } else {
        process.env['TZ'] = before;
      }
    }
  });
});
