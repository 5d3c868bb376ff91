import { describe, expect, it } from 'vitest';
import { AckStreamError, AckStreamParser, parseAckLine, type AckEvent } from '../../../src/sdk/ack-stream.js';
import { formatAck } from '../../../src/ingest/ack.js';

const FN = '91343852333181432392682062607743920146159169392';
const BUFFERING = `{"EventType":"BUFFERING","FragmentTimecode":1700000000123,"FragmentNumber":"${FN}"}\n`;
const RECEIVED = `{"EventType":"RECEIVED","FragmentTimecode":1700000000123,"FragmentNumber":"${FN}"}\n`;
const PERSISTED = `{"EventType":"PERSISTED","FragmentTimecode":1700000000123,"FragmentNumber":"${FN}"}\n`;
const IDLE = '{"EventType":"IDLE"}\n';
const ERROR = `{"EventType":"ERROR","FragmentTimecode":1700000002123,"FragmentNumber":"${FN}","ErrorId":4004,"ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"}\n`;

const frag = (type: 'buffering' | 'received' | 'persisted', timecode = 1700000000123): AckEvent => ({ type, fragmentNumber: FN, timecode });

describe('parseAckLine', () => {
  it.each<[string, string, AckEvent | null]>([
    ['BUFFERING', BUFFERING, frag('buffering')],
    ['RECEIVED', RECEIVED, frag('received')],
    ['PERSISTED', PERSISTED, frag('persisted')],
    ['IDLE', IDLE, { type: 'idle' }],
    ['ERROR with everything', ERROR, { type: 'error', errorId: 4004, errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', fragmentNumber: FN, timecode: 1700000002123 }],
    ['ERROR without fragment (openkvs 4013 has no ErrorCode)', '{"EventType":"ERROR","ErrorId":4013}', { type: 'error', errorId: 4013 }],
    ['a CRLF line', `${IDLE.trim()}\r`, { type: 'idle' }],
    ['a blank line', '   ', null],
    ['an EventType this client does not know', '{"EventType":"SOMETHING_NEW","X":1}', null],
    ['unknown keys are ignored', `{"EventType":"PERSISTED","FragmentTimecode":5,"FragmentNumber":"7","Extra":{"a":[1]}}`, { type: 'persisted', fragmentNumber: '7', timecode: 5 }],
  ])('%s', (_, line, expected) => {
    expect(parseAckLine(line)).toEqual(expected);
  });

  it.each([
    ['not JSON', '<html>502 Bad Gateway</html>'],
    ['a JSON array', '[1,2]'],
    ['no EventType', '{"FragmentTimecode":1}'],
    ['PERSISTED without FragmentNumber', '{"EventType":"PERSISTED","FragmentTimecode":1}'],
    ['a string FragmentTimecode (Java would read 0)', `{"EventType":"RECEIVED","FragmentTimecode":"1","FragmentNumber":"${FN}"}`],
    ['ERROR without ErrorId (PIC: STATUS_MISSING_ERR_ACK_ID)', '{"EventType":"ERROR","ErrorCode":"X"}'],
    ['a string ErrorId', '{"EventType":"ERROR","ErrorId":"4000"}'],
  ])('rejects %s', (_, line) => {
    expect(() => parseAckLine(line)).toThrow(AckStreamError);
  });

  it('reads what the openkvs server writes', () => {
    expect(parseAckLine(formatAck({ type: 'ERROR', error: 'CAPACITY_EXCEEDED', timecode: 9, fragmentNumber: '42' }))).toEqual({ type: 'error', errorId: 4013, timecode: 9, fragmentNumber: '42' });
    expect(parseAckLine(formatAck({ type: 'PERSISTED', timecode: 9, fragmentNumber: '42' }))).toEqual({ type: 'persisted', timecode: 9, fragmentNumber: '42' });
  });
});

describe('AckStreamParser', () => {
  const stream = BUFFERING + RECEIVED + IDLE + PERSISTED + ERROR;
  const all = [frag('buffering'), frag('received'), { type: 'idle' }, frag('persisted'), parseAckLine(ERROR)];

  it('returns several acks from one chunk', () => {
    const p = new AckStreamParser();
    expect(p.push(stream)).toEqual(all);
    expect(p.end()).toEqual([]);
  });

  it('returns each ack once its newline arrives, wherever the chunks split (every split point)', () => {
    const bytes = new TextEncoder().encode(stream);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = new AckStreamParser();
      const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
      expect(got, `split at ${cut}`).toEqual(all);
    }
  });

  it('handles one byte at a time, with no ack before its newline', () => {
    const p = new AckStreamParser();
    const bytes = new TextEncoder().encode(BUFFERING);
    for (let i = 0; i < bytes.length - 1; i++) {
      expect(p.push(bytes.subarray(i, i + 1))).toEqual([]);
    }
    expect(p.push(bytes.subarray(bytes.length - 1))).toEqual([frag('buffering')]);
  });

  it('keeps a UTF-8 sequence split across chunks intact', () => {
    const line = `{"EventType":"ERROR","ErrorId":5000,"ErrorCode":"Überlast ✓"}\n`;
    const bytes = new TextEncoder().encode(line);
    const at = bytes.indexOf(0xe2) + 1; // inside the 3-byte ✓
    const p = new AckStreamParser();
    expect([...p.push(bytes.subarray(0, at)), ...p.push(bytes.subarray(at))]).toEqual([{ type: 'error', errorId: 5000, errorCode: 'Überlast ✓' }]);
  });

  it('takes a last ack without its newline at the end of the response', () => {
    const p = new AckStreamParser();
    expect(p.push(PERSISTED.trim())).toEqual([]);
    expect(p.end()).toEqual([frag('persisted')]);
  });

  it('skips blank lines between acks', () => {
    expect(new AckStreamParser().push(`\n\n${IDLE}\r\n${IDLE}`)).toEqual([{ type: 'idle' }, { type: 'idle' }]);
  });

  it('refuses a line that never ends', () => {
    const p = new AckStreamParser();
    expect(() => p.push('x'.repeat(70_000))).toThrow(AckStreamError);
  });
});
