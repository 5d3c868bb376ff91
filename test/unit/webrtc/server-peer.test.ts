import { describe, expect, it, vi } from 'vitest';
import { ServerPeerConnection } from '../../../src/webrtc/server-peer.js';
import { loopbackPeerConfig } from '../../helpers/webrtc-peers.js';

// werift forgets the ICE transports of BUNDLEd m-lines without closing their sockets; a server creating a peer per
// viewer leaked UDP sockets per call and could not exit after SIGTERM. Counted here as the process's open udp4
// handles (nothing else in this file opens UDP sockets).
const udpSockets = (): number => (process as unknown as { _getActiveHandles(): { type?: string }[] })._getActiveHandles().filter((h) => h.type === 'udp4').length;

async function gatheredDescription(pc: ServerPeerConnection): Promise<{ type: 'offer' | 'answer'; sdp: string }> {
  if (pc.iceGatheringState !== 'complete') {
    await pc.iceGatheringStateChange.watch((s) => s === 'complete');
  }
  const d = pc.localDescription!;
  return { type: d.type as 'offer' | 'answer', sdp: d.sdp };
}

describe('ServerPeerConnection', () => {
  it('closes the sockets of the transports BUNDLE made unused, and all of its sockets on close', async () => {
    const before = udpSockets();
    const offerer = new ServerPeerConnection(loopbackPeerConfig());
    const answerer = new ServerPeerConnection(loopbackPeerConfig());
    offerer.addTransceiver('video', { direction: 'recvonly' });
    offerer.addTransceiver('audio', { direction: 'sendrecv' });
    answerer.addTransceiver('video', { direction: 'sendonly' });
    answerer.addTransceiver('audio', { direction: 'sendrecv' });
    await offerer.setLocalDescription(await offerer.createOffer());
    const offer = await gatheredDescription(offerer);
    // one transport per m-line until the answer says the other side bundles
    expect(offerer.dtlsTransports).toHaveLength(2);
    await answerer.setRemoteDescription(offer);
    await answerer.setLocalDescription(await answerer.createAnswer());
    await offerer.setRemoteDescription(await gatheredDescription(answerer));
    if (offerer.connectionState !== 'connected') {
      await offerer.connectionStateChange.watch((s) => s === 'connected');
    }
    expect(offerer.dtlsTransports).toHaveLength(1);
    expect(answerer.dtlsTransports).toHaveLength(1);
    const whileConnected = udpSockets() - before;

    await offerer.close();
    await answerer.close();

    // a dgram socket's handle goes once its close callback has run
    await vi.waitFor(() => expect(udpSockets()).toBe(before), { timeout: 5000, interval: 20 });
    // each side keeps only its bundled transport's sockets while connected: as many as the two transports in use
    // (one per gathered host address), not the four transports werift created
    expect(whileConnected % 2).toBe(0);
    expect(whileConnected).toBeGreaterThan(0);
  });
});
