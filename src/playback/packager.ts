import { KvsError, type ErrorName } from '../errors/codes.js';
import { codecString, initSegment, mediaSegment, UnsupportedCodecError } from '../packaging/fmp4.js';
import { TsSegmentError, tsSegment } from '../packaging/ts.js';
import type { Packager } from './playback-service.js';

const ERROR_OF: Record<UnsupportedCodecError['kind'] | TsSegmentError['kind'], ErrorName> = {
  unsupported: 'UnsupportedStreamMediaTypeException',
  'missing-cpd': 'MissingCodecPrivateDataException',
  'invalid-cpd': 'InvalidCodecPrivateDataException',
  'invalid-frame': 'InvalidMediaFrameException',
};

/** The fMP4 and MPEG-TS writers, with their refusals turned into the KVS errors players and SDKs expect. */
export const packager: Packager = {
  init: (tracks) => kvsErrors(() => initSegment(tracks)),
  media: (runs, sequence, emptyAtMs) => kvsErrors(() => mediaSegment(runs, sequence, emptyAtMs)),
  ts: (runs) => kvsErrors(() => tsSegment(runs)),
  codec: (track) => kvsErrors(() => codecString(track)),
};

function kvsErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UnsupportedCodecError || err instanceof TsSegmentError) {
      throw new KvsError(ERROR_OF[err.kind], err.message);
    }
    throw err;
  }
}
