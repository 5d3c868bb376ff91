import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { StreamCounter, StreamHistogram } from './stream-families.js';

// Every metric openkvs exports, on a registry of its own (several servers in one process — the tests — must not
// share prom-client's global one). Names follow the KVS CloudWatch metrics where one exists (docs/metrics.md):
// PutMedia.IncomingBytes → openkvs_putmedia_incoming_bytes_total. Latencies are histograms in seconds.

/** From a LAN fsync (~1 ms) to a disk in trouble (10 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A fragment's first to last byte spans its duration when produced live (1–10 s GOPs). */
const INGESTION_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20];
/** GetImages decodes with ffmpeg: tens of ms to many seconds for a page of 25. */
const IMAGES_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly incomingBytes: StreamCounter;
  readonly incomingFragments: StreamCounter;
  readonly incomingFrames: StreamCounter;
  readonly putMediaRequests: StreamCounter;
  readonly activeConnections: Gauge;
  readonly ingestionLatency: StreamHistogram;
  readonly persistLatency: StreamHistogram;
  readonly errorAcks: StreamCounter;
  readonly throttles: StreamCounter;
  readonly clientThrottles: Counter;
  readonly outgoingBytes: StreamCounter;
  readonly outgoingFragments: StreamCounter;
  readonly millisBehindNow: Gauge;
  readonly committedFragments: StreamCounter;
  readonly committedBytes: StreamCounter;
  readonly retentionDeleted: StreamCounter;
  readonly hlsSessions: StreamCounter;
  readonly dashSessions: StreamCounter;
  readonly clips: StreamCounter;
  readonly playbackRequests: Counter;
  readonly imagesRequests: StreamCounter;
  readonly images: StreamCounter;
  readonly imagesLatency: StreamHistogram;

  constructor() {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'openkvs_' });
    this.incomingBytes = new StreamCounter(r, { name: 'putmedia_incoming_bytes', help: 'PutMedia.IncomingBytes: request body bytes received.' });
    this.incomingFragments = new StreamCounter(r, { name: 'putmedia_incoming_fragments', help: 'PutMedia.IncomingFragments: fragments that passed every check (RECEIVED).' });
    this.incomingFrames = new StreamCounter(r, { name: 'putmedia_incoming_frames', help: 'PutMedia.IncomingFrames: frames (blocks of every track) in those fragments.' });
    this.putMediaRequests = new StreamCounter(r, { name: 'putmedia_requests', help: 'PutMedia.Requests: uploads accepted (200 sent).' });
    this.activeConnections = new Gauge({ name: 'openkvs_putmedia_active_connections', help: 'PutMedia.ActiveConnections: uploads in progress.', labelNames: ['stream'], registers: [r] });
    this.ingestionLatency = new StreamHistogram(r, {
      name: 'putmedia_fragment_ingestion_latency',
      help: 'PutMedia.FragmentIngestionLatency: from the first to the last byte of a fragment.',
      buckets: INGESTION_BUCKETS,
    });
    this.persistLatency = new StreamHistogram(r, {
      name: 'putmedia_fragment_persist_latency',
      help: 'PutMedia.FragmentPersistLatency: from RECEIVED to PERSISTED (fsync and index commit).',
      buckets: LATENCY_BUCKETS,
    });
    this.errorAcks = new StreamCounter(r, { name: 'putmedia_error_acks', help: 'PutMedia.ErrorAckCount: ERROR acks, by ErrorId.', labels: ['error_id', 'error'] });
    this.throttles = new StreamCounter(r, { name: 'throttles', help: 'Calls or fragments refused by a fixed per-stream limit, by limit.', labels: ['limit'] });
    this.clientThrottles = new Counter({
      name: 'openkvs_client_throttles_total',
      help: 'Requests and signaling messages refused by a per-client limit (not a per-stream one), by limit.',
      labelNames: ['limit'],
      registers: [r],
    });
    this.outgoingBytes = new StreamCounter(r, { name: 'getmedia_outgoing_bytes', help: 'GetMedia.OutgoingBytes: chunk bytes sent.' });
    this.outgoingFragments = new StreamCounter(r, { name: 'getmedia_outgoing_fragments', help: 'GetMedia.OutgoingFragments: chunks sent.' });
    this.millisBehindNow = new Gauge({
      name: 'openkvs_getmedia_millis_behind_now',
      help: 'GetMedia.MillisBehindNow: server time minus the server timestamp of the last fragment sent (the last reader to send one).',
      labelNames: ['stream'],
      registers: [r],
    });
    this.committedFragments = new StreamCounter(r, { name: 'stream_committed_fragments', help: 'Fragments that became readable: PutMedia and WebRTC recordings (PERSISTED, or RECEIVED without retention).' });
    this.committedBytes = new StreamCounter(r, { name: 'stream_committed_bytes', help: 'Bytes of those fragments (WebRTC recording bitrate: its rate).' });
    this.retentionDeleted = new StreamCounter(r, { name: 'retention_deleted_fragments', help: 'Fragments deleted because they passed the retention period.' });
    this.hlsSessions = new StreamCounter(r, { name: 'hls_sessions', help: 'GetHLSStreamingSessionURL.Requests that returned a session.' });
    this.dashSessions = new StreamCounter(r, { name: 'dash_sessions', help: 'GetDASHStreamingSessionURL.Requests that returned a session.' });
    this.clips = new StreamCounter(r, { name: 'getclip_requests', help: 'GetClip.Requests that returned a clip.' });
    this.playbackRequests = new Counter({
      name: 'openkvs_playback_requests_total',
      help: 'Requests on streaming-session URLs (GetHLSMasterPlaylist.Requests, GetMP4MediaFragment.Requests…), by protocol, kind and status.',
      labelNames: ['protocol', 'kind', 'status'],
      registers: [r],
    });
    this.imagesRequests = new StreamCounter(r, { name: 'getimages_requests', help: 'GetImages.Requests, by outcome (ok or the error name).', labels: ['outcome'] });
    this.images = new StreamCounter(r, { name: 'getimages_images', help: 'GetImages entries returned, by result (image, NO_MEDIA, MEDIA_ERROR).', labels: ['result'] });
    this.imagesLatency = new StreamHistogram(r, { name: 'getimages_latency', help: 'GetImages.Latency: the whole call.', buckets: IMAGES_BUCKETS });
  }

  /** A deleted stream's series go with it (the server-wide twins keep their counts). */
  removeStream(stream: string): void {
    for (const f of [
      this.incomingBytes,
      this.incomingFragments,
      this.incomingFrames,
      this.putMediaRequests,
      this.ingestionLatency,
      this.persistLatency,
      this.errorAcks,
      this.throttles,
      this.outgoingBytes,
      this.outgoingFragments,
      this.committedFragments,
      this.committedBytes,
      this.retentionDeleted,
      this.hlsSessions,
      this.dashSessions,
      this.clips,
      this.imagesRequests,
      this.images,
      this.imagesLatency,
    ]) {
      f.remove(stream);
    }
    this.activeConnections.remove({ stream });
    this.millisBehindNow.remove({ stream });
  }
}
