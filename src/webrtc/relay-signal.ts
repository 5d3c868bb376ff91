// The opaque signaling payloads (kvs-api.md §5.2): base64 of JSON — an RTCSessionDescription or an RTCIceCandidate —
// as the KVS WebRTC SDKs write them; and the waits and filters the relay's werift peers share.

import type { RTCPeerConnection } from 'werift';

export type SessionDescription = { type: 'offer' | 'answer'; sdp: string };
export type IceCandidateInit = { candidate: string; sdpMid?: string; sdpMLineIndex?: number };

/** werift on loopback gathers in milliseconds; a STUN/TURN server can take seconds; beyond this, send what there is. */
const GATHER_TIMEOUT_MS = 5000;
const LOOPBACK = '127.0.0.1';

export const encodeSignal = (o: unknown): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64');

function decodeJson(payload: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function decodeDescription(payload: string, type: 'offer' | 'answer'): SessionDescription | null {
  const v = decodeJson(payload);
  return v !== null && v['type'] === type && typeof v['sdp'] === 'string' ? { type, sdp: v['sdp'] } : null;
}

/** A candidate, or null for anything else (including the empty end-of-candidates marker). */
export function decodeCandidate(payload: string): IceCandidateInit | null {
  const v = decodeJson(payload);
  if (v === null || typeof v['candidate'] !== 'string' || v['candidate'] === '') {
    return null;
  }
  return {
    candidate: v['candidate'],
    ...(typeof v['sdpMid'] === 'string' ? { sdpMid: v['sdpMid'] } : {}),
    ...(typeof v['sdpMLineIndex'] === 'number' ? { sdpMLineIndex: v['sdpMLineIndex'] } : {}),
  };
}

/** The relay answers and offers without trickle: every candidate is in the SDP, so one message does. */
export async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') {
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') {
        done();
      }
    });
    function done(): void {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}

/** With loopbackOnly, the other side is told only of 127.0.0.1 candidates (toolchain-notes Q4, filter 2). */
export const localDescription = (pc: RTCPeerConnection, loopbackOnly: boolean): SessionDescription => {
  const d = pc.localDescription;
  if (d === null) {
    throw new Error('no local description');
  }
  const sdp = loopbackOnly ? d.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.includes(` ${LOOPBACK} `)).join('\r\n') : d.sdp;
  return { type: d.type as 'offer' | 'answer', sdp };
};

/** Creates and applies our offer or answer, waits for every candidate, and returns it as it is to be sent. */
export async function completeLocalDescription(pc: RTCPeerConnection, kind: 'offer' | 'answer', loopbackOnly: boolean): Promise<SessionDescription> {
  await pc.setLocalDescription(await (kind === 'offer' ? pc.createOffer() : pc.createAnswer()));
  await gathered(pc);
  return localDescription(pc, loopbackOnly);
}
