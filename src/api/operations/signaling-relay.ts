import type { ChannelRegistry } from '../../signaling/channel-registry.js';
import type { RelaySessionStats } from '../../webrtc/relay-session.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE } from './stream-ref.js';

// openkvs extension (docs/webrtc-relay.md): a channel's relay mode, in which the server's own WebRTC peer answers
// the viewers and receives the master once. Signed and routed like the KVS operations.

export type RelayStatus = { stats(channelId: number): RelaySessionStats | null };

export function signalingRelayOperations(deps: { channels: Pick<ChannelRegistry, 'resolve' | 'setRelay'>; relay: RelayStatus }): OperationTable {
  const { channels } = deps;
  return {
    '/openkvs/updateSignalingChannelRelay': (input) => {
      const c = channels.resolve({ arn: input.str('ChannelARN', { ...ARN_RULE, required: true }) });
      channels.setRelay(c.arn, input.enumOf('Relay', ['ENABLED', 'DISABLED'] as const, { required: true }) === 'ENABLED');
      return {};
    },
    '/openkvs/describeSignalingChannelRelay': (input) => {
      const c = channels.resolve({ arn: input.str('ChannelARN', { ...ARN_RULE, required: true }) });
      const s = deps.relay.stats(c.id);
      return {
        ChannelARN: c.arn,
        Relay: c.relay ? 'ENABLED' : 'DISABLED',
        // what is being relayed right now; absent when no viewer is
        Session:
          s === null
            ? undefined
            : { Viewers: s.viewers, ConnectedViewers: s.connectedViewers, Upstream: s.upstream, UpstreamConnections: s.upstreamConnections, KeyFrameRequests: s.keyFrameRequests, DroppedPackets: s.droppedPackets },
      };
    },
  };
}
