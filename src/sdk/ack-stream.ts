// The PutMedia response body: one JSON acknowledgement per line, written as the server gets to each fragment
// (kvs-api.md §3.1). Network reads split and merge lines arbitrarily, so the parser keeps the unfinished tail
// of a line (and of a UTF-8 sequence) between pushes.

export type AckEvent =
  | { type: 'buffering' | 'received' | 'persisted'; fragmentNumber: string; timecode: number }
  | { type: 'error'; errorId: number; errorCode?: string; fragmentNumber?: string; timecode?: number }
  | { type: 'idle' };

/** A line that is not an acknowledgement: the peer is not a PutMedia endpoint, or a proxy mangled the body. */
export class AckStreamError extends Error {
  override readonly name = 'AckStreamError';
}

/** Longer than any real ack line (a 128-digit fragment number included) by far; a longer line is not an ack. */
const MAX_LINE_CHARS = 64 * 1024;

export class AckStreamParser {
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  #tail = '';

  /** Feeds response bytes; returns the acks completed by them, in order. Throws AckStreamError for a bad line. */
  push(chunk: Uint8Array | string): AckEvent[] {
    const text = this.#tail + (typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }));
    const lines = text.split('\n');
    this.#tail = lines.pop() ?? '';
    if (this.#tail.length > MAX_LINE_CHARS) {
      throw new AckStreamError(`an acknowledgement line is longer than ${MAX_LINE_CHARS} characters`);
    }
    return this.#parseLines(lines);
  }

  /** End of the response: a last line without its newline still counts (the Java client requires it; PIC does not). */
  end(): AckEvent[] {
    const rest = this.#tail + this.#decoder.decode();
    this.#tail = '';
    return this.#parseLines([rest]);
  }

  #parseLines(lines: string[]): AckEvent[] {
    const out: AckEvent[] = [];
    for (const line of lines) {
      const ack = parseAckLine(line);
      if (ack !== null) {
        out.push(ack);
      }
    }
    return out;
  }
}

/** One line → an ack; null for a blank line or an EventType this client does not know (newer servers may add some). */
export function parseAckLine(line: string): AckEvent | null {
  const trimmed = line.trim();
  if (trimmed.length === 0) {
    return null;
  }
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    throw new AckStreamError(`not a JSON acknowledgement: ${trimmed.slice(0, 120)}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new AckStreamError(`not a JSON object: ${trimmed.slice(0, 120)}`);
  }
  const o = obj as Record<string, unknown>;
  const timecode = o['FragmentTimecode'];
  const fragmentNumber = o['FragmentNumber'];
  const hasTimecode = typeof timecode === 'number' && Number.isFinite(timecode);
  const hasNumber = typeof fragmentNumber === 'string' && fragmentNumber.length > 0;
  switch (o['EventType']) {
    case 'BUFFERING':
    case 'RECEIVED':
    case 'PERSISTED': {
      if (!hasTimecode || !hasNumber) {
        throw new AckStreamError(`a ${String(o['EventType'])} ack without FragmentTimecode and FragmentNumber: ${trimmed.slice(0, 120)}`);
      }
      const type = o['EventType'] === 'BUFFERING' ? 'buffering' : o['EventType'] === 'RECEIVED' ? 'received' : 'persisted';
      return { type, fragmentNumber, timecode };
    }
    case 'ERROR': {
      const errorId = o['ErrorId'];
      if (typeof errorId !== 'number' || !Number.isInteger(errorId)) {
        // PIC rejects an ERROR ack without ErrorId too (STATUS_MISSING_ERR_ACK_ID).
        throw new AckStreamError(`an ERROR ack without a numeric ErrorId: ${trimmed.slice(0, 120)}`);
      }
      const errorCode = o['ErrorCode'];
      return {
        type: 'error',
        errorId,
        ...(typeof errorCode === 'string' ? { errorCode } : {}),
        ...(hasNumber ? { fragmentNumber } : {}),
        ...(hasTimecode ? { timecode } : {}),
      };
    }
    case 'IDLE':
      return { type: 'idle' };
    default:
      if (typeof o['EventType'] !== 'string') {
        throw new AckStreamError(`an acknowledgement without EventType: ${trimmed.slice(0, 120)}`);
      }
      return null;
  }
}
