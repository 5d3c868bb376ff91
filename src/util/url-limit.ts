/**
 * Longest request target (path and query) accepted on any route, HTTP or WebSocket upgrade. Every URL openkvs hands
 * out — playback URLs with their session token, presigned signaling URLs, even with an STS session token — is well
 * under 4 KiB; without this, Node's 16 KiB header limit (431) would be the only bound, and the cost of query parsing
 * and signature canonicalisation grows with it.
 */
export const MAX_URL_BYTES = 8 * 1024;

/** Node hands the request target over as latin1 characters, one per byte. */
export const isUrlTooLong = (url: string | undefined): boolean => url !== undefined && url.length > MAX_URL_BYTES;
