import { POLICY_VERSION } from './policy-document.js';

// The four ready policies of least privilege the product was specified with (admins, capacity changes,
// producers, consumers), plus full access. A template is instantiated for named streams and channels
// (or all of them): stream actions get stream ARNs, channel actions channel ARNs, and list actions — whose
// resource is "*" in IAM — are only granted when the template covers every stream or channel.

export type TemplateName = 'administrators' | 'capacity' | 'producers' | 'consumers' | 'full-access';

type Template = {
  description: string;
  streamActions: readonly string[];
  channelActions: readonly string[];
  /** Actions whose resource is "*" (lists, key management). */
  globalActions: readonly string[];
};

export const POLICY_TEMPLATES: Record<TemplateName, Template> = {
  administrators: {
    description: 'create and delete streams and channels, tag them, configure them; read their metadata and, over all of them, the metrics',
    streamActions: [
      'kinesisvideo:CreateStream',
      'kinesisvideo:DeleteStream',
      'kinesisvideo:DescribeStream',
      'kinesisvideo:TagStream',
      'kinesisvideo:UntagStream',
      'kinesisvideo:ListTagsForStream',
      'kinesisvideo:TagResource',
      'kinesisvideo:UntagResource',
      'kinesisvideo:ListTagsForResource',
      'kinesisvideo:DescribeImageGenerationConfiguration',
      'kinesisvideo:UpdateImageGenerationConfiguration',
      'kinesisvideo:DescribeNotificationConfiguration',
      'kinesisvideo:UpdateNotificationConfiguration',
      'kinesisvideo:DescribeStreamStorageConfiguration',
      'kinesisvideo:UpdateStreamStorageConfiguration',
      'kinesisvideo:DescribeMappedResourceConfiguration',
      'openkvs:UpdateFrameHooks',
      'openkvs:DescribeFrameConsumer',
    ],
    channelActions: [
      'kinesisvideo:CreateSignalingChannel',
      'kinesisvideo:DeleteSignalingChannel',
      'kinesisvideo:DescribeSignalingChannel',
      'kinesisvideo:UpdateSignalingChannel',
      'kinesisvideo:TagResource',
      'kinesisvideo:UntagResource',
      'kinesisvideo:ListTagsForResource',
      'kinesisvideo:DescribeMediaStorageConfiguration',
      'kinesisvideo:UpdateMediaStorageConfiguration',
      'openkvs:DescribeSignalingChannelRelay',
      'openkvs:UpdateSignalingChannelRelay',
    ],
    // the metrics cover every stream, so only an administrator of all of them gets them (the console's Dashboard)
    globalActions: ['kinesisvideo:ListStreams', 'kinesisvideo:ListSignalingChannels', 'openkvs:GetMetrics'],
  },
  capacity: {
    description: "change a stream's fixed capacity and retention (the resharding of Kinesis): UpdateStream, UpdateDataRetention",
    streamActions: ['kinesisvideo:DescribeStream', 'kinesisvideo:UpdateStream', 'kinesisvideo:UpdateDataRetention', 'openkvs:ChangeStreamCapacity'],
    channelActions: [],
    globalActions: ['kinesisvideo:ListStreams'],
  },
  producers: {
    description: 'upload media (PutMedia, DescribeStream, GetDataEndpoint) and be a WebRTC master that records into the stream',
    streamActions: ['kinesisvideo:PutMedia', 'kinesisvideo:DescribeStream', 'kinesisvideo:GetDataEndpoint'],
    channelActions: [
      'kinesisvideo:ConnectAsMaster',
      'kinesisvideo:DescribeSignalingChannel',
      'kinesisvideo:GetSignalingChannelEndpoint',
      'kinesisvideo:GetIceServerConfig',
      'kinesisvideo:JoinStorageSession',
    ],
    globalActions: [],
  },
  consumers: {
    description: 'read media (GetMedia, ListFragments, HLS/DASH, clips, images, frame events) and watch WebRTC as a viewer',
    streamActions: [
      'kinesisvideo:DescribeStream',
      'kinesisvideo:GetDataEndpoint',
      'kinesisvideo:GetMedia',
      'kinesisvideo:ListFragments',
      'kinesisvideo:GetMediaForFragmentList',
      'kinesisvideo:GetHLSStreamingSessionURL',
      'kinesisvideo:GetDASHStreamingSessionURL',
      'kinesisvideo:GetClip',
      'kinesisvideo:GetImages',
      'openkvs:ListFrameEvents',
      'openkvs:DescribeFrameConsumer',
    ],
    channelActions: [
      'kinesisvideo:ConnectAsViewer',
      'kinesisvideo:DescribeSignalingChannel',
      'kinesisvideo:GetSignalingChannelEndpoint',
      'kinesisvideo:GetIceServerConfig',
      'kinesisvideo:JoinStorageSessionAsViewer',
    ],
    globalActions: ['kinesisvideo:ListStreams', 'kinesisvideo:ListSignalingChannels'],
  },
  'full-access': {
    description: 'every action on every resource, including access keys and encryption keys (like the root credentials)',
    streamActions: [],
    channelActions: [],
    globalActions: ['kinesisvideo:*', 'openkvs:*'],
  },
};

export const isTemplateName = (s: string): s is TemplateName => Object.hasOwn(POLICY_TEMPLATES, s);

/** `cam1` → every ARN of stream cam1 in any region/account; an ARN (pattern) is kept; `*` → all streams. */
export function resourcePattern(kind: 'stream' | 'channel', nameOrArn: string): string {
  if (nameOrArn === '*') {
    return `arn:aws:kinesisvideo:*:*:${kind}/*`;
  }
  return nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:kinesisvideo:*:*:${kind}/${nameOrArn}/*`;
}

/** The policy document a template gives for these streams and channels (names, ARN patterns or `*`). */
export function instantiateTemplate(name: TemplateName, scope: { streams: readonly string[]; channels: readonly string[] }): object {
  const t = POLICY_TEMPLATES[name];
  const statements: object[] = [];
  if (t.streamActions.length > 0 && scope.streams.length > 0) {
    statements.push({ Sid: 'Streams', Effect: 'Allow', Action: t.streamActions, Resource: scope.streams.map((s) => resourcePattern('stream', s)) });
  }
  if (t.channelActions.length > 0 && scope.channels.length > 0) {
    statements.push({ Sid: 'Channels', Effect: 'Allow', Action: t.channelActions, Resource: scope.channels.map((c) => resourcePattern('channel', c)) });
  }
  const everything = name === 'full-access' || (scope.streams.includes('*') && (t.channelActions.length === 0 || scope.channels.includes('*')));
  if (t.globalActions.length > 0 && everything) {
    statements.push({ Sid: 'Everything', Effect: 'Allow', Action: t.globalActions, Resource: '*' });
  }
  return { Version: POLICY_VERSION, Statement: statements };
}
