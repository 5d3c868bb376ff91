import type { Registry } from 'prom-client';
import type { ChannelRecord, ChannelRegistry } from '../signaling/channel-registry.js';
import type { RelayService } from '../webrtc/relay-service.js';
import type { StorageSessions } from '../webrtc/storage-sessions.js';
import { scrapedGauge } from './scraped-gauge.js';

// The server's own WebRTC peers, per signaling channel, read from the relay and storage sessions at scrape time.
// A recording's bitrate is its stream's openkvs_stream_committed_bytes_total rate.

export type WebrtcGaugeDeps = { channels: ChannelRegistry; relay: RelayService; storage: StorageSessions };

const PAGE = 1000;

export function registerWebrtcGauges(r: Registry, d: WebrtcGaugeDeps): void {
  const each = (fn: (c: ChannelRecord) => void): void => {
    let after: string | undefined;
    for (;;) {
      const page = d.channels.list({ maxResults: PAGE, afterName: after });
      page.channels.forEach(fn);
      if (!page.more) {
        return;
      }
      after = page.channels.at(-1)?.name;
    }
  };
  const relay = (name: string, help: string, pick: (s: NonNullable<ReturnType<RelayService['stats']>>) => number): void =>
    scrapedGauge(r, name, help, 'channel', (set) =>
      each((c) => {
        const s = d.relay.stats(c.id);
        if (s !== null) {
          set(c.name, pick(s));
        }
      }),
    );
  relay('openkvs_webrtc_relay_viewers', 'Viewers of a relayed channel.', (s) => s.viewers);
  relay('openkvs_webrtc_relay_connected_viewers', 'Viewers of a relayed channel whose peer connection is up.', (s) => s.connectedViewers);
  relay('openkvs_webrtc_relay_upstream_connected', '1 while the relay is connected to the master.', (s) => (s.upstream === 'CONNECTED' ? 1 : 0));
  relay('openkvs_webrtc_relay_dropped_packets', 'RTP packets dropped by full per-viewer send queues (slow viewers), this session.', (s) => s.droppedPackets);
  relay('openkvs_webrtc_relay_keyframe_requests', 'Key-frame requests sent to the master, this session.', (s) => s.keyFrameRequests);
  const storage = (name: string, help: string, pick: (s: NonNullable<ReturnType<StorageSessions['current']>>['stats']) => number): void =>
    scrapedGauge(r, name, help, 'channel', (set) =>
      each((c) => {
        const s = d.storage.current(c.id);
        if (s !== undefined) {
          set(c.name, pick(s.stats));
        }
      }),
    );
  storage('openkvs_webrtc_storage_fragments', 'Fragments the storage session recorded.', (s) => s.fragments);
  storage('openkvs_webrtc_storage_refused_fragments', "Fragments refused by the stream's capacity.", (s) => s.refusedFragments);
  storage('openkvs_webrtc_storage_video_frames', 'Video frames recorded.', (s) => s.videoFrames);
  storage('openkvs_webrtc_storage_skipped_video_frames', 'Video frames skipped (lost packets until the next key frame).', (s) => s.skippedVideoFrames);
  storage('openkvs_webrtc_storage_late_audio_packets', 'Opus packets that arrived after their time was mixed (heard as silence).', (s) => s.lateAudioPackets);
  scrapedGauge(r, 'openkvs_webrtc_storage_viewers', 'Viewers joined to the storage session (JoinStorageSessionAsViewer).', 'channel', (set) =>
    each((c) => {
      const v = d.storage.viewers(c.id);
      if (v !== undefined) {
        set(c.name, v.size);
      }
    }),
  );
  scrapedGauge(r, 'openkvs_webrtc_storage_sessions', 'Storage sessions recording now (1 per channel).', 'channel', (set) =>
    each((c) => {
      if (d.storage.current(c.id) !== undefined) {
        set(c.name, 1);
      }
    }),
  );
}
