import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/formats/errors.js';
import { parseTagsRun } from '../../../../src/formats/mkv/mkv-stream-parser.js';
import { writeTags } from '../../../../src/formats/mkv/mkv-writer.js';

describe('parseTagsRun', () => {
  const a = writeTags([{ name: 'AWS_KINESISVIDEO_NOTIFICATION', value: 'motion' }]);
  const b = writeTags([
    { name: 'camera', value: 'front' },
    { name: 'zone', value: '3' },
  ]);

  it.each([
    ['nothing', new Uint8Array(0), []],
    ['one element', a, [{ name: 'AWS_KINESISVIDEO_NOTIFICATION', value: 'motion' }]],
    [
      'two elements back to back, in order',
      Buffer.concat([a, b]),
      [
        { name: 'AWS_KINESISVIDEO_NOTIFICATION', value: 'motion' },
        { name: 'camera', value: 'front' },
        { name: 'zone', value: '3' },
      ],
    ],
  ])('%s', (_label, bytes, tags) => {
    expect(parseTagsRun(bytes)).toEqual(tags);
  });

  it.each([
    ['a truncated second element', Buffer.concat([a, b.subarray(0, b.length - 3)])],
    ['trailing garbage', Buffer.concat([a, Buffer.from([0x1a])])],
  ])('refuses %s with a ParseError', (_label, bytes) => {
    expect(() => parseTagsRun(bytes)).toThrow(ParseError);
  });
});
