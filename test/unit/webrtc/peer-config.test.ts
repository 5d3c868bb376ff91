import { RTCPeerConnection } from 'werift';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/conf/load-config.js';
import { peerSettingsOf, serverH264, serverPeerConfig } from '../../../src/webrtc/peer-config.js';

describe('serverPeerConfig', () => {
  it('by default asks no STUN server, gathers no IPv6 and offers H.264 before VP8, and Opus', () => {
    const c = serverPeerConfig(peerSettingsOf(resolveConfig()));
    expect(c.iceServers).toEqual([]);
    expect(c.iceUseIpv6).toBe(false);
    expect(c.iceAdditionalHostAddresses).toBeUndefined();
    expect(c.codecs?.video?.map((x) => x.mimeType)).toEqual(['video/H264', 'video/VP8']);
    expect(c.codecs?.video?.[0]?.parameters).toContain('packetization-mode=1');
    expect(c.codecs?.audio?.map((x) => x.mimeType)).toEqual(['audio/OPUS']);
    expect(c.iceFilterCandidatePair).toBeUndefined();
  });

  it('offers H.264 as `H264` in the SDP: Chromium creates no encoder for werift\'s default `h264` and never sends video', async () => {
    const pc = new RTCPeerConnection({ ...serverPeerConfig(peerSettingsOf(resolveConfig()), { video: [serverH264()] }), iceServers: [] });
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      const { sdp } = await pc.createOffer();
      expect(sdp).toMatch(/^a=rtpmap:\d+ H264\/90000\r$/m);
      expect(sdp).not.toMatch(/ h264\/90000/);
    } finally {
      await pc.close();
    }
  });

  it('reads the webrtc settings from the environment and filters to loopback when asked', () => {
    const config = resolveConfig({ webrtcHostAddresses: '127.0.0.1', webrtcLoopbackOnly: 'true', webrtcIceServers: 'stun:stun.example:3478' });
    const c = serverPeerConfig(peerSettingsOf(config));
    expect(c.iceAdditionalHostAddresses).toEqual(['127.0.0.1']);
    expect(c.iceServers).toEqual([{ urls: 'stun:stun.example:3478' }]);
    const pair = (remote: string, local: string): Parameters<NonNullable<typeof c.iceFilterCandidatePair>>[0] =>
      ({ remoteCandidate: { host: remote }, protocol: { localCandidate: { host: local } } }) as never;
    expect(c.iceFilterCandidatePair?.(pair('127.0.0.1', '127.0.0.1'))).toBe(true);
    expect(c.iceFilterCandidatePair?.(pair('192.0.2.2', '127.0.0.1'))).toBe(false);
    expect(c.iceFilterStunResponse?.({} as never, ['192.0.2.2', 5000], {} as never)).toBe(false);
    expect(c.iceFilterStunResponse?.({} as never, ['127.0.0.1', 5000], {} as never)).toBe(true);
  });

  it('signs turn: URIs with the shared secret (coturn use-auth-secret) and rejects bad settings', () => {
    const config = resolveConfig({ webrtcIceServers: ['turn:turn.example:3478?transport=udp'], turnSecret: '0123456789' });
    const [server] = serverPeerConfig(peerSettingsOf(config), undefined, 1_000_000).iceServers ?? [];
    expect(server?.username).toBe(`${1000 + 86_400}:openkvs-server`);
    expect(server?.credential).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(() => resolveConfig({ webrtcLoopbackOnly: 'yes' })).toThrow(/webrtcLoopbackOnly/);
    expect(() => resolveConfig({ webrtcHostAddresses: 'localhost' })).toThrow(/webrtcHostAddresses/);
    expect(() => resolveConfig({ webrtcIceServers: 'http://x' })).toThrow(/webrtcIceServers/);
  });
});
