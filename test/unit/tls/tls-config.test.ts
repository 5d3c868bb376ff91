import { describe, expect, it } from 'vitest';
import { envLayer, resolveConfig } from '../../../src/conf/load-config.js';

describe('TLS settings', () => {
  it('default to no generated certificate and no plain-HTTP port', () => {
    const c = resolveConfig();
    expect(c.tlsSelfSigned).toBe(false);
    expect(c.httpPort).toBeNull();
  });

  it('come from the environment and flags', () => {
    const c = resolveConfig(envLayer({ OPENKVS_TLS_SELF_SIGNED: 'true', OPENKVS_HTTP_PORT: '8081' }));
    expect(c.tlsSelfSigned).toBe(true);
    expect(c.httpPort).toBe(8081);
    // what parseArgs gives for --tls-self-signed / --http-port
    const f = resolveConfig({ tlsSelfSigned: true, httpPort: '0' });
    expect(f.tlsSelfSigned).toBe(true);
    expect(f.httpPort).toBe(0);
    expect(resolveConfig({ tlsCert: 'c.pem', tlsKey: 'k.pem', httpPort: 9000 }).httpPort).toBe(9000);
  });

  it.each([
    [{ httpPort: 8081 }, /httpPort needs TLS on the main port/],
    [{ tlsSelfSigned: true, port: 8443, httpPort: 8443 }, /httpPort and port must differ \(both 8443\)/],
    [{ tlsSelfSigned: true, tlsCert: 'c.pem', tlsKey: 'k.pem' }, /tlsSelfSigned and tlsCert\/tlsKey are exclusive/],
    [{ tlsSelfSigned: 'yes' }, /tlsSelfSigned: expected true or false/],
    [{ tlsSelfSigned: true, httpPort: 70000 }, /httpPort: expected an integer from 0 to 65535/],
  ])('rejects %j', (layer, message) => {
    expect(() => resolveConfig(layer)).toThrow(message);
  });

  it('lets both ports be 0: each gets its own free port', () => {
    expect(resolveConfig({ tlsSelfSigned: true, port: 0, httpPort: 0 }).httpPort).toBe(0);
  });
});
