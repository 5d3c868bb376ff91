import { describe, expect, it } from 'vitest';
import { beginsH264KeyFrame } from '../../../../src/formats/rtp/h264-payload.js';
import { H264Packetizer } from '../../../../src/formats/rtp/h264-packetizer.js';
import { fixtureAccessUnits } from './h264-fixture.js';
import { hex } from './rtp-helpers.js';

describe('beginsH264KeyFrame', () => {
  const CASES: [string, string, boolean][] = [
    ['an SPS', '6742aa', true],
    ['an IDR slice', '65aabb', true],
    ['a PPS alone', '68aa', false],
    ['a non-IDR slice', '41aabb', false],
    ['an SEI', '06aa', false],
    ['a STAP-A of SPS and PPS', '78 0002 6742 0002 68aa', true],
    ['a STAP-A of SEI and non-IDR', '78 0002 06aa 0002 41aa', false],
    ['the first FU-A of an IDR', '7c 85 aabb', true],
    ['a middle FU-A of an IDR', '7c 05 aabb', false],
    ['the first FU-A of a non-IDR', '5c 81 aabb', false],
    ['an empty payload', '', false],
    ['a malformed STAP-A', '78 0009 67', false],
    ['an FU-B', '1d 85 0000 aa', false],
  ];
  it.each(CASES)('%s → %s', (_name, bytes, expected) => {
    expect(beginsH264KeyFrame(hex(bytes))).toBe(expected);
  });

  it('finds exactly the key frames of the 1 s-GOP fixture, at the first packet of each and in no predicted frame', () => {
    const { avcC, accessUnits } = fixtureAccessUnits('mkv/h264-5s-1s-gop.mkv');
    const pk = new H264Packetizer({ avcC });
    const firstPackets = accessUnits.map((au) => beginsH264KeyFrame(pk.packetize(au.nals)[0]!.payload));
    // the IDR slice after the parameter sets' STAP-A begins a key frame too; nothing in a predicted frame does
    const inPredicted = accessUnits.filter((au) => !au.keyframe).flatMap((au) => pk.packetize(au.nals).map((p) => beginsH264KeyFrame(p.payload)));
    expect(firstPackets).toEqual(accessUnits.map((au) => au.keyframe));
    expect(firstPackets.filter(Boolean)).toHaveLength(5);
    expect(inPredicted.length).toBeGreaterThan(0);
    expect(inPredicted.filter(Boolean)).toHaveLength(0);
  });
});
