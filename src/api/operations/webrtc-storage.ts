import { KvsError, invalidArgument } from '../../errors/codes.js';
import type { ChannelRecord, ChannelRegistry } from '../../signaling/channel-registry.js';
import { PATTERNS } from '../input.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE } from './stream-ref.js';

// WebRTC ingestion (kvs-api.md §5.3, client KinesisVideoWebRTCStorage, served at the WEBRTC endpoint = the base
// URL). Member names are lower-case in this API's model: channelArn, clientId.

/** What the operations need of the storage peer (src/webrtc/storage-sessions.ts provides it). */
export type StorageSessionStarter = { join(channel: ChannelRecord): void };

function storageChannel(channels: ChannelRegistry, arn: string): ChannelRecord {
  const channel = channels.resolve({ arn });
  if (channel.storage.status !== 'ENABLED' || channel.storage.streamArn === null) {
    throw invalidArgument(`The signaling channel ${channel.name} has no media storage configuration ENABLED (UpdateMediaStorageConfiguration).`);
  }
  return channel;
}

export function webrtcStorageOperations(deps: { channels: ChannelRegistry; sessions: StorageSessionStarter }): OperationTable {
  return {
    // 200 at once; the offer reaches the master through signaling afterwards, as in KVS. Each call sends one
    // offer and replaces the channel's current session.
    '/joinStorageSession': (input) => {
      deps.sessions.join(storageChannel(deps.channels, input.str('channelArn', { ...ARN_RULE, required: true })));
      return {};
    },
    '/joinStorageSessionAsViewer': (input) => {
      storageChannel(deps.channels, input.str('channelArn', { ...ARN_RULE, required: true }));
      input.str('clientId', { min: 1, max: 256, pattern: PATTERNS.name, required: true });
      // viewers add their audio to the master's in KVS, which needs an audio mixer openkvs does not have
      throw new KvsError('UnsupportedOperationException', 'Viewer participants in storage sessions (JoinStorageSessionAsViewer) are not supported by openkvs yet; the master is recorded through JoinStorageSession.');
    },
  };
}
