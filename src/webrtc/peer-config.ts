import { createHmac } from 'node:crypto';
import { useAudioLevelIndication, useH264, useOPUS, useVP8, type RTCIceServer, type RTCPeerConnectionConfig, type RTCRtpCodecParameters } from 'werift';

// How every server-side werift peer (the storage recorder, the relay) is configured, from the validated config.
// werift's defaults do not suit a server: it asks Google's public STUN server, gathers IPv6 and offers VP8 only
// (toolchain-notes.md Q4), so each of those is set here once.

export type PeerSettings = {
  /** stun:/turn: URIs the server peer gathers through; none by default (a server usually has a reachable address). */
  iceServers: readonly string[];
  /** Host addresses gathered besides the interfaces' own, e.g. 127.0.0.1 (werift skips loopback by default). */
  hostAddresses: readonly string[];
  /** Pair and answer only 127.0.0.1 candidates: tests and single-machine development on a host with other interfaces. */
  loopbackOnly: boolean;
  /** The TURN server's shared secret (coturn use-auth-secret): turn: URIs get time-limited credentials from it. */
  turnSecret: string | null;
};

/** Lifetime of the TURN credentials a server peer signs for itself; a session that outlives them keeps its allocation. */
const TURN_CREDENTIAL_TTL_SECONDS = 24 * 3600;
const LOOPBACK = '127.0.0.1';

/**
 * werift's useH264() with the encoding name spelled `H264`. werift writes `video/h264` as `a=rtpmap:<pt> h264/90000`;
 * Chromium answers such an offer with H.264 but creates no encoder for the lower-case name, so a browser master
 * never sends video to a server peer that offers (outbound-rtp framesEncoded stays 0; with VP8 also offered it
 * silently sends VP8 under the negotiated order). werift itself compares codec names case-insensitively.
 */
export const serverH264 = (): RTCRtpCodecParameters => useH264({ mimeType: 'video/H264' });

/** H.264 packetization-mode 1 first: a master answering an offer keeps the offer's order when choosing. */
export const serverVideoCodecs = (): RTCRtpCodecParameters[] => [serverH264(), useVP8()];
export const serverAudioCodecs = (): RTCRtpCodecParameters[] => [useOPUS()];

/**
 * A werift configuration for a server peer. `codecs` narrows the codec lists (the recorder takes H.264 only, since
 * VP8 cannot be stored in a KVS stream).
 */
export function serverPeerConfig(s: PeerSettings, codecs?: { video?: RTCRtpCodecParameters[]; audio?: RTCRtpCodecParameters[] }, nowMs = Date.now()): RTCPeerConnectionConfig {
  const config: RTCPeerConnectionConfig = {
    codecs: { video: codecs?.video ?? serverVideoCodecs(), audio: codecs?.audio ?? serverAudioCodecs() },
    iceServers: s.iceServers.map((uri) => iceServer(uri, s.turnSecret, nowMs)),
    iceUseIpv6: false,
    iceAdditionalHostAddresses: s.hostAddresses.length > 0 ? [...s.hostAddresses] : undefined,
  };
  if (s.loopbackOnly) {
    // werift has no "loopback only" gathering; instead it never pairs, nor answers checks from, anything else
    config.iceFilterCandidatePair = (pair) => pair.remoteCandidate.host === LOOPBACK && pair.protocol.localCandidate?.host === LOOPBACK;
    config.iceFilterStunResponse = (_message, addr) => addr[0] === LOOPBACK;
  }
  return config;
}

/**
 * A server peer that sends a master's media to a viewer (relay mode, storage-session viewers): H.264 only, as the
 * master's packets are forwarded, not transcoded (a viewer offering no H.264 is refused); the RFC 6464 audio level
 * tells the audio floor who is talking.
 */
export const viewerPeerConfig = (s: PeerSettings): RTCPeerConnectionConfig => ({
  ...serverPeerConfig(s, { video: [serverH264()], audio: serverAudioCodecs() }),
  headerExtensions: { audio: [useAudioLevelIndication()] },
});

function iceServer(uri: string, turnSecret: string | null, nowMs: number): RTCIceServer {
  if (!uri.startsWith('turn') || turnSecret === null) {
    return { urls: uri };
  }
  const username = `${Math.floor(nowMs / 1000) + TURN_CREDENTIAL_TTL_SECONDS}:openkvs-server`;
  return { urls: uri, username, credential: createHmac('sha1', turnSecret).update(username).digest('base64') };
}

/** The settings a server peer needs, from the config's webrtc* keys. */
export const peerSettingsOf = (c: { webrtcIceServers: readonly string[]; webrtcHostAddresses: readonly string[]; webrtcLoopbackOnly: boolean; turnSecret: string | null }): PeerSettings => ({
  iceServers: c.webrtcIceServers,
  hostAddresses: c.webrtcHostAddresses,
  loopbackOnly: c.webrtcLoopbackOnly,
  turnSecret: c.turnSecret,
});
