import { describe, expect, it } from 'vitest';
import { createLogger, prettyLine, REDACTED, runInRequestContext, type LogLevel } from '../../../src/util/logger.js';

function capture(level: LogLevel | 'silent', format?: 'json' | 'pretty' | 'auto'): { lines: string[]; objects: () => Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger(level, (l) => lines.push(l), format === undefined ? {} : { format, color: false });
  return { lines, objects: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), log };
}

describe('createLogger', () => {
  it('writes one JSON object per line: time, level name, component, msg and the fields', () => {
    const { lines, objects, log } = capture('debug');
    log.info('stream created', { stream: 'cam1', retentionHours: 24 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [o] = objects();
    expect(o).toMatchObject({ level: 'info', component: 'openkvs', msg: 'stream created', stream: 'cam1', retentionHours: 24 });
    expect(new Date(o!['time'] as string).toISOString()).toBe(o!['time']);
    expect(Object.keys(o!)).not.toContain('pid');
    expect(Object.keys(o!)).not.toContain('hostname');
  });

  it('drops lines under the level, and everything when silent', () => {
    const info = capture('info');
    info.log.debug('no');
    info.log.info('yes');
    info.log.warn('yes');
    info.log.error('yes');
    expect(info.objects().map((o) => o['level'])).toEqual(['info', 'warn', 'error']);

    const error = capture('error');
    error.log.warn('no');
    error.log.child('x').info('no');
    error.log.error('yes');
    expect(error.objects().map((o) => o['level'])).toEqual(['error']);

    const silent = capture('silent');
    silent.log.error('no');
    silent.log.child('x').error('no');
    expect(silent.lines).toEqual([]);
  });

  it('names child components by their path, once per line, at the parent level', () => {
    const { lines, objects, log } = capture('warn');
    const ingest = log.child('ingest');
    ingest.child('session').warn('dropped', { fragment: 1 });
    ingest.info('below the level');
    ingest.error('failed');
    expect(objects().map((o) => o['component'])).toEqual(['openkvs.ingest.session', 'openkvs.ingest']);
    // pino children append bindings; a second `component` key would be invalid for many log shippers
    expect(lines[0]!.match(/"component"/g)).toHaveLength(1);
  });

  it('writes bigints as exact strings and errors with their message and stack', () => {
    const { objects, log } = capture('info');
    log.info('persisted', { fragmentNumber: 91343852333181432397633587358751593216n, nested: { n: 2n ** 64n } });
    log.error('boom', { err: new Error('disk full') });
    const [a, b] = objects();
    expect(a!['fragmentNumber']).toBe('91343852333181432397633587358751593216');
    expect(a!['nested']).toEqual({ n: '18446744073709551616' });
    expect(b!['err']).toMatchObject({ type: 'Error', message: 'disk full' });
    expect((b!['err'] as { stack: string }).stack).toContain('disk full');
  });

  it('redacts credential fields at the top level and one object down, and credentials inside URLs', () => {
    const { lines, objects, log } = capture('info');
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    log.info('request', {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesisvideo/aws4_request, Signature=${'a'.repeat(64)}`,
      headers: { authorization: 'x', 'x-amz-security-token': secret, 'X-Amz-Signature': 'b'.repeat(64) },
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret },
      SecretAccessKey: secret,
      token: 'session-token-value',
      password: 'hunter2',
      secret: 'turn-shared-secret',
      url: `/hls/v1/getHLSMediaPlaylist.m3u8?SessionToken=${secret}&TrackNumber=1`,
      presigned: `wss://h/signaling/master?X-Amz-Credential=AKIDEXAMPLE%2F20260101&X-Amz-Signature=${'c'.repeat(64)}&X-Amz-Security-Token=${secret}`,
      list: [`?X-Amz-Signature=${'d'.repeat(64)}`],
    });
    const text = lines.join('\n');
    for (const s of [secret, 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'd'.repeat(64), 'session-token-value', 'hunter2', 'turn-shared-secret']) {
      expect(text).not.toContain(s);
    }
    const [o] = objects();
    expect(o).toMatchObject({
      authorization: REDACTED,
      headers: { authorization: REDACTED, 'x-amz-security-token': REDACTED, 'X-Amz-Signature': REDACTED },
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: REDACTED },
      SecretAccessKey: REDACTED,
      token: REDACTED,
      password: REDACTED,
      secret: REDACTED,
      url: `/hls/v1/getHLSMediaPlaylist.m3u8?SessionToken=${REDACTED}&TrackNumber=1`,
    });
    // what identifies the caller stays: the access key id is not a secret
    expect(o!['presigned']).toContain('X-Amz-Credential=AKIDEXAMPLE');
    expect(o!['presigned']).toContain(`X-Amz-Signature=${REDACTED}`);
  });

  it('stamps lines logged inside an open request context with its id, and stops when the request ends', async () => {
    const { objects, log } = capture('info');
    const http = log.child('http');
    const ctx = { requestId: 'req-1', open: true };
    let later: (() => void) | undefined;
    await runInRequestContext(ctx, async () => {
      http.info('sync');
      await new Promise((r) => setImmediate(r));
      log.child('ingest').info('after an await');
      later = () => log.info('a timer begun in the request, after it ended');
    });
    log.info('outside');
    ctx.open = false;
    later!();
    // explicit fields win over the context
    runInRequestContext({ requestId: 'req-2', open: true }, () => log.warn('explicit', { requestId: 'other' }));
    expect(objects().map((o) => [o['msg'], o['requestId']])).toEqual([
      ['sync', 'req-1'],
      ['after an await', 'req-1'],
      ['outside', undefined],
      ['a timer begun in the request, after it ended', undefined],
      ['explicit', 'other'],
    ]);
  });

  it('writes human-readable lines in the pretty format, JSON under auto when a sink is given', () => {
    const pretty = capture('debug', 'pretty');
    pretty.log.child('http').info('request', { method: 'POST', path: '/createStream', status: 200, note: 'two words', obj: { a: 1 } });
    pretty.log.error('unhandled error', { err: 'Error: boom\n    at f (x.ts:1:1)' });
    expect(pretty.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}openkvs\.http request method=POST path=\/createStream status=200 note="two words" obj=\{"a":1\}$/);
    expect(pretty.lines[1]!.split('\n')).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} ERROR openkvs unhandled error$/), '  err:', '    Error: boom', '        at f (x.ts:1:1)']);

    const auto = capture('info', 'auto');
    auto.log.info('x');
    expect(JSON.parse(auto.lines[0]!)).toMatchObject({ msg: 'x' });
  });

  it('colours the level and component only when asked', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-01-01T10:11:12.345Z', component: 'openkvs.x', msg: 'm' });
    expect(prettyLine(line, false)).toBe('10:11:12.345 WARN  openkvs.x m');
    expect(prettyLine(line, true)).toContain('\x1b[33mWARN ');
    expect(prettyLine('not json', true)).toBe('not json');
  });
});
