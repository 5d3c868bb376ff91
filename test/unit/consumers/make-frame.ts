import type { Frame, LumaThumbnail } from '../../../src/consumers/frame.js';

/** A small hand-made Frame for the sink and hook tests; override what a case is about. */
export function makeFrame(over: Partial<Frame> = {}): Frame {
  const luma: LumaThumbnail = { width: 4, height: 2, data: Uint8Array.from([0, 32, 64, 96, 128, 160, 192, 255]) };
  return {
    streamName: 'cam1',
    streamArn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1700000000000',
    fragmentNumber: '91343852333181432392682062607743920146264883612',
    producerTimestamp: 1_764_280_001_500,
    serverTimestamp: 1_764_280_001_620,
    format: 'JPEG',
    image: Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]),
    width: 640,
    height: 360,
    luma,
    ...over,
  };
}
