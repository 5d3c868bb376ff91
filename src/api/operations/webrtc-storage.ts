import { KvsError, invalidArgument } from '../../errors/codes.js';
import type { ChannelRecord, ChannelRegistry } from '../../signaling/channel-registry.js';
import { PATTERNS } from '../input.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE } from './stream-ref.js';

// WebRTC ingestion (kvs-api.md §5.3, client KinesisVideoWebRTCStorage, served at the WEBRTC endpoint = the base
// URL). Member names are lower-case in this API's model: channelArn, clientId.

/** What the operations need of the storage peer (src/webrtc/storage-sessions.ts provides it). */
export type StorageSessionStarter = {
  join(channel: ChannelRecord): void;
  joinAsViewer(channel: ChannelRecord, clientId: string): 'JOINED' | 'LIMIT';
};

/** The server's own peers signal under these ids; a viewer taking one would have its messages taken for theirs. */
const RESERVED_CLIENT_IDS = new Set(['openkvs-storage', 'openkvs-relay']);

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
    // 200 at once; the storage session's offer reaches the viewer through signaling afterwards (the viewer should
    // be connected with ConnectAsViewer under this clientId; if not, the offer waits in the channel's message queue
    // for MessageTtlSeconds, as any message to an offline client). A re-join with the same clientId replaces the
    // viewer's peer. The master may join before or after.
    '/joinStorageSessionAsViewer': (input) => {
      const channel = storageChannel(deps.channels, input.str('channelArn', { ...ARN_RULE, required: true }));
      const clientId = input.str('clientId', { min: 1, max: 256, pattern: PATTERNS.name, required: true });
      if (RESERVED_CLIENT_IDS.has(clientId)) {
        throw invalidArgument(`The clientId ${clientId} is reserved for openkvs's own peers.`);
      }
      if (deps.sessions.joinAsViewer(channel, clientId) === 'LIMIT') {
        // the KVS WebRTC JS sample stops retrying on this wording
        throw new KvsError('ClientLimitExceededException', `The maximum number of viewers connected to the session has been reached for channel ${channel.name}.`);
      }
      return {};
    },
  };
}
