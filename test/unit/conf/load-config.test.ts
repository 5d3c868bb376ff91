import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG } from '../../../src/conf/config.js';
import { envLayer, fileLayer, resolveConfig } from '../../../src/conf/load-config.js';

describe('resolveConfig', () => {
  it('returns the documented defaults, frozen', () => {
    const c = resolveConfig();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir).toBe('./data');
    expect(c.region).toBe('us-east-1');
    expect(c.auth).toBe('on');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.streamCapacity)).toBe(true);
  });

  it('layers file < env < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvs-conf-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9000, region: 'eu-west-1', streamCapacity: { fragmentsPerSecond: 10 } }));
    const c = resolveConfig(fileLayer(file), envLayer({ OPENKVS_PORT: '9100', OPENKVS_DATA_DIR: '/tmp/x' }), { port: '9200' });
    expect(c.port).toBe(9200);
    expect(c.region).toBe('eu-west-1');
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.streamCapacity.fragmentsPerSecond).toBe(10);
    expect(c.streamCapacity.maxFragmentBytes).toBe(DEFAULT_CONFIG.streamCapacity.maxFragmentBytes);
  });

  it.each([
    [{ port: '70000' }, /port: expected an integer from 0 to 65535/],
    [{ port: 'eighty' }, /port/],
    [{ auth: 'maybe' }, /auth: expected one of on, off/],
    [{ region: 'Mars' }, /region/],
    [{ publicUrl: 'http://x:1/' }, /publicUrl/],
    [{ accessKeyId: 'AKIDONLYKEY000000' }, /set together/],
    [{ colour: 'blue' }, /unknown setting "colour"/],
    [{ streamCapacity: { fragmentsPerSecond: 0 } }, /streamCapacity.fragmentsPerSecond/],
    [{ streamCapacity: { bogus: 1 } }, /streamCapacity: unknown setting "bogus"/],
  ])('rejects %j with a clear message', (layer, message) => {
    let err: unknown;
    try {
      resolveConfig(layer);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(message);
  });

  it('reports every problem at once', () => {
    try {
      resolveConfig({ port: -1, auth: 'x' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toHaveLength(2);
    }
  });

  it('reports an unreadable or malformed config file', () => {
    expect(() => fileLayer('/nonexistent/openkvs.json')).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), 'okvs-conf-'));
    writeFileSync(join(dir, 'bad.json'), '{nope');
    expect(() => fileLayer(join(dir, 'bad.json'))).toThrow(/bad.json/);
  });
});
