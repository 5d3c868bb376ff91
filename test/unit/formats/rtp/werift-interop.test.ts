// Our packets as werift (the WebRTC stack the server peer will use) reads them: its RTP parser must see the
// same fields, and its H.264 depacketizer the same NAL units. werift has no H.264 packetizer, so only this
// direction exists for payloads; for the RTP header both directions are checked.

import { describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket as WeriftRtpPacket, dePacketizeRtpPackets } from 'werift';
import { H264Depacketizer } from '../../../../src/formats/rtp/h264-depacketizer.js';
import { splitAnnexB } from '../../../../src/formats/rtp/h264-nal.js';
import { H264Packetizer } from '../../../../src/formats/rtp/h264-packetizer.js';
import { parseRtpPacket, serializeRtpPacket, type RtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';
import { RtpSequencer } from '../../../../src/formats/rtp/rtp-sequencer.js';
import { prng } from '../../../helpers/prng.js';
import { fixtureAccessUnits } from './h264-fixture.js';
import { hex, randomNal, sequence, toHex } from './rtp-helpers.js';

/** Access units as werift's depacketizer gives them: one call per run of packets ending in a marker. */
function weriftAccessUnits(datagrams: Uint8Array[]): { keyframe: boolean; nals: string[] }[] {
  const out: { keyframe: boolean; nals: string[] }[] = [];
  let run: WeriftRtpPacket[] = [];
  for (const d of datagrams) {
    const p = WeriftRtpPacket.deSerialize(Buffer.from(d));
    run.push(p);
    if (p.header.marker) {
      const { isKeyframe, data } = dePacketizeRtpPackets('MPEG4/ISO/AVC', run);
      out.push({ keyframe: isKeyframe, nals: splitAnnexB(data).map(toHex) });
      run = [];
    }
  }
  return out;
}

describe('werift reads our H.264 packets', () => {
  it('reassembles the fixture access units as we do, SPS/PPS before each IDR included', () => {
    const { avcC, accessUnits } = fixtureAccessUnits('mkv/h264-5s-1s-gop.mkv');
    const pk = new H264Packetizer({ avcC });
    const seq = new RtpSequencer({ ssrc: 0x11223344, payloadType: 102, firstSequenceNumber: 65_000 });
    const packets = accessUnits.flatMap((au) => seq.packets(pk.packetize(au.nals), au.timeMs));
    const datagrams = packets.map(serializeRtpPacket);

    const ours = new H264Depacketizer();
    const expected = [...packets.flatMap((p) => ours.push(p)), ...ours.flush()];
    const theirs = weriftAccessUnits(datagrams);
    expect(theirs).toHaveLength(150);
    expect(theirs.map((au) => au.keyframe)).toEqual(expected.map((au) => au.keyframe));
    expect(theirs.map((au) => au.nals)).toEqual(expected.map((au) => au.nalUnits.map(toHex)));
    expect(theirs.filter((au) => au.keyframe).every((au) => au.nals.slice(0, 2).map((n) => n.slice(0, 2)).join() === '67,68')).toBe(true);
  });

  it('reassembles random access units with STAP-A and FU-A at several MTUs', () => {
    const rnd = prng(0x7765);
    for (const mtu of [40, 300, 1200]) {
      const pk = new H264Packetizer({ mtu });
      // At least 2 bytes: werift 0.24 reads a second byte of every payload and throws on a 1-byte unit
      // (end of sequence / end of stream), which is werift's limitation, not a packet error.
      const aus = Array.from({ length: 40 }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => randomNal(rnd, [1, 5, 6, 7, 8][Math.floor(rnd() * 5)]!, 2 + Math.floor(rnd() * 3 * mtu))),
      );
      const packets = sequence(aus.map((au) => pk.packetize(au)));
      // Ours as the reference: the packetizer may have put remembered SPS/PPS in front of an IDR.
      const d = new H264Depacketizer();
      const expected = [...packets.flatMap((p) => d.push(p)), ...d.flush()];
      expect(expected).toHaveLength(40);
      const theirs = weriftAccessUnits(packets.map(serializeRtpPacket));
      expect(theirs.map((au) => au.nals)).toEqual(expected.map((au) => au.nalUnits.map(toHex)));
      // werift's own isKeyframe is not compared here: it takes the low 5 bits of the second payload byte
      // for a NAL type, so it misses an IDR inside a STAP-A and calls a P slice whose second byte ends
      // in 00101 a key frame.
      expect(expected.some((au) => au.keyframe)).toBe(true);
    }
  });
});

describe('RTP headers between werift and us', () => {
  const ours: RtpPacket = {
    marker: true,
    payloadType: 102,
    sequenceNumber: 40_000,
    timestamp: 0xfedcba98,
    ssrc: 0x01020304,
    csrcs: [0xaabbccdd],
    // RFC 8285 one-byte elements: id 1 with 2 bytes, id 3 with 1 byte, then padding to a 32-bit word.
    extension: { profile: 0xbede, data: hex('11abcd 30ef 0000 00') },
    payload: hex('7c85deadbeef'),
    padding: 0,
  };

  it('werift parses what we serialize', () => {
    const p = WeriftRtpPacket.deSerialize(Buffer.from(serializeRtpPacket(ours)));
    expect(p.header).toMatchObject({ version: 2, marker: true, payloadType: 102, sequenceNumber: 40_000, timestamp: 0xfedcba98, ssrc: 0x01020304, csrc: [0xaabbccdd], extensionProfile: 0xbede });
    expect(p.header.extensions.map((e) => [e.id, toHex(e.payload)])).toEqual([
      [1, 'abcd'],
      [3, 'ef'],
    ]);
    expect(toHex(p.payload)).toBe('7c85deadbeef');
  });

  it('we parse what werift serializes, padding and extensions included', () => {
    const header = new RtpHeader({
      marker: false,
      payloadType: 96,
      sequenceNumber: 65_535,
      timestamp: 123_456,
      ssrc: 0xcafebabe,
      padding: true,
      paddingSize: 5,
      extensions: [
        { id: 2, payload: Buffer.from([1, 2, 3]) },
        { id: 9, payload: Buffer.from([4]) },
      ],
    });
    const bytes = new WeriftRtpPacket(header, Buffer.from('5c0102', 'hex')).serialize();
    const p = parseRtpPacket(bytes);
    expect(p).toMatchObject({ marker: false, payloadType: 96, sequenceNumber: 65_535, timestamp: 123_456, ssrc: 0xcafebabe, csrcs: [], padding: 5 });
    expect(p.extension?.profile).toBe(0xbede);
    expect(toHex(p.extension?.data ?? new Uint8Array())).toBe('220102039004' + '0000');
    expect(toHex(p.payload)).toBe('5c0102');
    expect(toHex(serializeRtpPacket(p))).toBe(toHex(bytes));
  });
});
