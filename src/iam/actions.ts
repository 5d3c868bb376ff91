import type { ErrorName } from '../errors/codes.js';

// What a request asks for, in IAM's terms: the action names AWS uses for KVS (`kinesisvideo:GetMedia`), with
// openkvs' own operations under `openkvs:`, and the resources the request names. Also which refusal each
// action's clients expect: the KVS models give some operations NotAuthorizedException (401) and others
// AccessDeniedException (401 in the control plane, 403 in webrtc-storage and on the signaling WebSocket).

export type RequestedAction = { action: string; denial: { name: ErrorName; status: number } };

/** The request members that name a resource, as sent (validated by the operation afterwards). */
export type ResourceRefs = { streamArn?: string; streamName?: string; channelArn?: string; channelName?: string; resourceArn?: string };

const SPECIAL_PATHS: Record<string, string> = {
  '/putMedia': 'kinesisvideo:PutMedia',
  '/v1/get-ice-server-config': 'kinesisvideo:GetIceServerConfig',
  '/v1/send-alexa-offer-to-master': 'kinesisvideo:SendAlexaOfferToMaster',
};

/** Actions whose models refuse with AccessDeniedException (the rest: NotAuthorizedException). */
const ACCESS_DENIED_ACTIONS = new Set([
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
  'DescribeImageGenerationConfiguration',
  'UpdateImageGenerationConfiguration',
  'DescribeNotificationConfiguration',
  'UpdateNotificationConfiguration',
  'DescribeMediaStorageConfiguration',
  'UpdateMediaStorageConfiguration',
  'DescribeMappedResourceConfiguration',
  'DescribeStreamStorageConfiguration',
  'UpdateStreamStorageConfiguration',
  'CreateSignalingChannel',
  'DescribeSignalingChannel',
  'ListSignalingChannels',
  'DeleteSignalingChannel',
  'UpdateSignalingChannel',
  'GetSignalingChannelEndpoint',
  'StartEdgeConfigurationUpdate',
  'DescribeEdgeConfiguration',
  'DeleteEdgeConfiguration',
]);
/** webrtc-storage and the signaling WebSocket model AccessDeniedException as 403. */
const ACCESS_DENIED_403 = new Set(['JoinStorageSession', 'JoinStorageSessionAsViewer', 'ConnectAsMaster', 'ConnectAsViewer']);

/** The action a POST path performs, or null for a path no operation serves. */
export function actionOfPath(path: string): RequestedAction | null {
  const special = SPECIAL_PATHS[path];
  if (special !== undefined) {
    return withDenial(special);
  }
  const own = /^\/openkvs\/([a-z][a-zA-Z]*)$/.exec(path);
  if (own?.[1] !== undefined) {
    return withDenial(`openkvs:${capitalize(own[1])}`);
  }
  const kvs = /^\/([a-zA-Z]+)$/.exec(path);
  return kvs?.[1] !== undefined ? withDenial(`kinesisvideo:${capitalize(kvs[1])}`) : null;
}

export function signalingAction(role: 'MASTER' | 'VIEWER'): RequestedAction {
  return withDenial(role === 'MASTER' ? 'kinesisvideo:ConnectAsMaster' : 'kinesisvideo:ConnectAsViewer');
}

/**
 * Actions a request needs besides its own: setting a stream's fixed capacity (the openkvs `Capacity` member of
 * CreateStream/UpdateStream) is the capacity role's business, not every administrator's.
 */
export function extraActions(action: string, body: Record<string, unknown>): RequestedAction[] {
  if ((action === 'kinesisvideo:CreateStream' || action === 'kinesisvideo:UpdateStream') && body['Capacity'] !== undefined && body['Capacity'] !== null) {
    return [{ action: 'openkvs:ChangeStreamCapacity', denial: { name: 'NotAuthorizedException', status: 401 } }];
  }
  return [];
}

/** The resource members of a JSON request body (webrtc-storage spells the channel `channelArn`). */
export function refsOfBody(body: Record<string, unknown>): ResourceRefs {
  const str = (k: string): string | undefined => (typeof body[k] === 'string' ? body[k] : undefined);
  const refs: ResourceRefs = {};
  assign(refs, 'streamArn', str('StreamARN'));
  assign(refs, 'streamName', str('StreamName'));
  assign(refs, 'channelArn', str('ChannelARN') ?? str('channelArn'));
  assign(refs, 'channelName', str('ChannelName'));
  assign(refs, 'resourceArn', str('ResourceARN'));
  return refs;
}

function assign<K extends keyof ResourceRefs>(refs: ResourceRefs, key: K, value: string | undefined): void {
  if (value !== undefined) {
    refs[key] = value;
  }
}

function withDenial(action: string): RequestedAction {
  const bare = action.slice(action.indexOf(':') + 1);
  if (ACCESS_DENIED_403.has(bare)) {
    return { action, denial: { name: 'AccessDeniedException', status: 403 } };
  }
  if (ACCESS_DENIED_ACTIONS.has(bare) || action.startsWith('openkvs:')) {
    return { action, denial: { name: 'AccessDeniedException', status: 401 } };
  }
  return { action, denial: { name: 'NotAuthorizedException', status: 401 } };
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
