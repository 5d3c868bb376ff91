// Real video through the whole RTP path: MKV samples → packetizer → RTP datagrams on the wire → parser →
// depacketizer → Annex-B, which ffmpeg must decode frame for frame.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAvcConfig } from '../../../../src/formats/codec/avc-config.js';
import { H264Depacketizer, type H264AccessUnit } from '../../../../src/formats/rtp/h264-depacketizer.js';
import { h264NalType, joinAnnexB, joinAvcc } from '../../../../src/formats/rtp/h264-nal.js';
import { H264Packetizer } from '../../../../src/formats/rtp/h264-packetizer.js';
import { MAX_RTP_PACKET_BYTES, parseRtpPacket, serializeRtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';
import { RtpSequencer } from '../../../../src/formats/rtp/rtp-sequencer.js';
import { fixtureAccessUnits } from './h264-fixture.js';
import { toHex } from './rtp-helpers.js';

const FIXTURE = 'mkv/h264-5s-1s-gop.mkv';

type Proc = { code: number | null; stdout: string; stderr: string };

function run(cmd: string, args: string[]): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`RTP round trip of ${FIXTURE}`, () => {
  const { avcC, lengthSize, accessUnits } = fixtureAccessUnits(FIXTURE);
  const config = parseAvcConfig(avcC);
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-rtp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const packetizer = new H264Packetizer({ avcC });
  const sequencer = new RtpSequencer({ ssrc: 0x0badcafe, payloadType: 102, firstSequenceNumber: 65_500 });
  const datagrams = accessUnits.flatMap((au) => sequencer.packets(packetizer.packetize(au.nals), au.timeMs).map(serializeRtpPacket));
  const depacketizer = new H264Depacketizer();
  const out: H264AccessUnit[] = [...datagrams.flatMap((d) => depacketizer.push(parseRtpPacket(d))), ...depacketizer.flush()];

  it('is the 150-frame, 1 s GOP fixture without in-band parameter sets', () => {
    expect(lengthSize).toBe(4);
    expect(accessUnits).toHaveLength(150);
    expect(accessUnits.filter((au) => au.keyframe)).toHaveLength(5);
    expect(accessUnits.flatMap((au) => au.nals).filter((n) => h264NalType(n) === 7)).toHaveLength(0);
  });

  it('sends datagrams within the MTU, fragments large frames and marks each access unit once', () => {
    expect(datagrams.every((d) => d.length <= 12 + packetizer.mtu && d.length < MAX_RTP_PACKET_BYTES)).toBe(true);
    expect(datagrams.length).toBeGreaterThan(accessUnits.length);
    expect(datagrams.filter((d) => parseRtpPacket(d).marker)).toHaveLength(150);
  });

  it('gives back every access unit with its units, the avcC SPS/PPS in front of each IDR', () => {
    const stats = depacketizer.stats;
    expect(stats).toEqual({ packets: datagrams.length, lostPackets: 0, latePackets: 0, invalidPackets: 0, droppedFragments: 0, droppedAccessUnits: 0 });
    expect(out).toHaveLength(150);
    expect(out.map((au) => au.keyframe)).toEqual(accessUnits.map((au) => au.keyframe));
    for (const [i, au] of out.entries()) {
      const src = accessUnits[i]!;
      const own = au.keyframe ? au.nalUnits.slice(2) : au.nalUnits;
      if (au.keyframe) {
        expect(au.nalUnits.slice(0, 2).map(toHex)).toEqual([toHex(config.sps[0]!), toHex(config.pps[0]!)]);
      }
      // 4-byte lengths, as in the source: the AVCC output is the stored sample byte for byte.
      expect(toHex(joinAvcc(own))).toBe(toHex(src.sample));
    }
    expect(depacketizer.parameterSets.sps.map(toHex)).toEqual(config.sps.map(toHex));
    expect(depacketizer.parameterSets.pps.map(toHex)).toEqual(config.pps.map(toHex));
  });

  it('writes Annex-B that ffmpeg decodes to exactly 150 frames without errors', async () => {
    const file = join(dir, 'roundtrip.h264');
    writeFileSync(file, joinAnnexB(out.flatMap((au) => au.nalUnits)));
    const probe = await run('ffprobe', ['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
    expect(probe.code).toBe(0);
    expect(probe.stderr).toBe('');
    const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
    expect(stream).toEqual({ codec_name: 'h264', width: 640, height: 360, nb_read_frames: '150' });
    const decode = await run('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'h264', '-i', file, '-f', 'null', '-']);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe('');
  });
});
