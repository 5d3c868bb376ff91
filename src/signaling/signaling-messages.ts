// The signaling WebSocket's frames (kvs-api.md §5.2): what clients send, what the service sends back.

export type Action = 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE';
export type MessageType = Action | 'GO_AWAY' | 'RECONNECT_ICE_SERVER' | 'STATUS_RESPONSE';

export type ClientMessage = {
  action: Action;
  messagePayload: string;
  /** Empty or absent when a viewer sends (always to the master). */
  recipientClientId: string | undefined;
  correlationId: string | undefined;
};

export type ServiceMessage = {
  senderClientId?: string;
  messageType: MessageType;
  messagePayload?: string;
  statusResponse?: { correlationId: string; errorType: string; statusCode: string; description: string; success: false };
};

/** Payload limit: KVS documents 10 K; Chromium offers with every codec run close to it, so openkvs allows more. */
export const MAX_PAYLOAD_CHARS = 64 * 1024;
/** Largest text frame read from a client. */
export const MAX_FRAME_BYTES = 128 * 1024;

const ACTIONS = new Set<string>(['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE']);
const BASE64 = /^[A-Za-z0-9+/=]+$/;
const CLIENT_ID = /^[a-zA-Z0-9_.-]{1,256}$/;

export class MessageError extends Error {
  constructor(
    readonly errorType: 'InvalidArgumentException' | 'ResourceNotFoundException' | 'ClientLimitExceededException',
    message: string,
    readonly correlationId: string | undefined,
  ) {
    super(message);
  }
}

/**
 * A client frame, with keys matched case-insensitively: the JS SDK sends camelCase, the C SDK PascalCase (and an
 * empty RecipientClientId from viewers).
 */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MessageError('InvalidArgumentException', 'The message is not JSON.', undefined);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MessageError('InvalidArgumentException', 'The message must be a JSON object.', undefined);
  }
  const fields = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  const str = (key: string): string | undefined => {
    const v = fields.get(key);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const correlationId = str('correlationid');
  if (correlationId !== undefined && !CLIENT_ID.test(correlationId)) {
    throw new MessageError('InvalidArgumentException', 'correlationId must be 1-256 characters of [a-zA-Z0-9_.-].', undefined);
  }
  const action = str('action');
  if (action === undefined || !ACTIONS.has(action)) {
    throw new MessageError('InvalidArgumentException', 'action must be SDP_OFFER, SDP_ANSWER or ICE_CANDIDATE.', correlationId);
  }
  const payload = str('messagepayload');
  if (payload === undefined || payload.length > MAX_PAYLOAD_CHARS || !BASE64.test(payload)) {
    throw new MessageError('InvalidArgumentException', `messagePayload must be base64, 1-${MAX_PAYLOAD_CHARS} characters.`, correlationId);
  }
  const recipient = str('recipientclientid');
  if (recipient !== undefined && !CLIENT_ID.test(recipient)) {
    throw new MessageError('InvalidArgumentException', 'recipientClientId must be 1-256 characters of [a-zA-Z0-9_.-].', correlationId);
  }
  return { action: action as Action, messagePayload: payload, recipientClientId: recipient, correlationId };
}

export function statusResponse(err: MessageError): ServiceMessage | null {
  if (err.correlationId === undefined) {
    return null;
  }
  return {
    messageType: 'STATUS_RESPONSE',
    statusResponse: { correlationId: err.correlationId, errorType: err.errorType, statusCode: err.errorType === 'ResourceNotFoundException' ? '404' : '400', description: err.message, success: false },
  };
}

export const isClientId = (v: string): boolean => CLIENT_ID.test(v);
