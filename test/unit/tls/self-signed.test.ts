import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CERT_VALIDITY_DAYS, RENEW_BEFORE_MS, ensureSelfSignedCertificate, renewalReason, requiredNames, selfSignedPaths } from '../../../src/tls/self-signed.js';

const DAY = 86_400_000;
const LOOPBACK = ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'];

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'openkvs-selfsigned-'));
}

function sans(pem: Buffer | string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ');
}

describe('requiredNames', () => {
  it('is loopback only for a wildcard bind address and no publicUrl', () => {
    const expected = [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ];
    expect(requiredNames('0.0.0.0', null)).toEqual(expected);
    expect(requiredNames('::', null)).toEqual(expected);
    expect(requiredNames('127.0.0.1', null)).toEqual(expected);
  });

  it('adds the bound host and publicUrl’s host, as DNS or IP names', () => {
    expect(requiredNames('10.0.0.7', 'https://Cam.Example.com:8443/kvs').slice(3)).toEqual([
      { type: 'ip', value: '10.0.0.7' },
      { type: 'dns', value: 'cam.example.com' },
    ]);
    expect(requiredNames('kvs.lan', null).slice(3)).toEqual([{ type: 'dns', value: 'kvs.lan' }]);
  });

  it('writes IPv6 addresses in one form, so one spelled two ways is one name', () => {
    expect(requiredNames('0:0:0:0:0:0:0:1', 'https://[::1]:8443')).toHaveLength(3);
    expect(requiredNames('fd00:0:0::5', 'https://[FD00::5]').slice(3)).toEqual([{ type: 'ip', value: 'fd00::5' }]);
  });
});

describe('ensureSelfSignedCertificate', () => {
  it('writes a certificate for every name and its key with mode 0600, then reuses the same bytes', async () => {
    const dir = dataDir();
    const names = requiredNames('0.0.0.0', 'https://kvs.example.net');
    const first = await ensureSelfSignedCertificate(dir, names);
    expect(first.generated).toBe(true);
    expect(first.reason).toBe('none was stored yet');
    expect(first.certFile).toBe(join(dir, 'tls', 'cert.pem'));
    expect(first.keyFile).toBe(join(dir, 'tls', 'key.pem'));
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(selfSignedPaths(dir).dir).mode & 0o077).toBe(0);
    expect(readFileSync(first.certFile)).toEqual(first.cert);

    const cert = new X509Certificate(first.cert);
    expect(sans(first.cert)).toEqual([...LOOPBACK, 'DNS:kvs.example.net']);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(first.keyFile)))).toBe(true);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(CERT_VALIDITY_DAYS - 1);
    expect(days).toBeLessThanOrEqual(CERT_VALIDITY_DAYS);

    const again = await ensureSelfSignedCertificate(dir, names);
    expect(again.generated).toBe(false);
    expect(again.reason).toBeNull();
    expect(again.cert).toEqual(first.cert);
    expect(again.key).toEqual(first.key);
  });

  it('keeps a certificate whose names are a superset of the ones needed now', async () => {
    const dir = dataDir();
    const first = await ensureSelfSignedCertificate(dir, requiredNames('192.168.1.20', null));
    const later = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    expect(later.generated).toBe(false);
    expect(later.cert).toEqual(first.cert);
  });

  it('replaces one that lacks the host or publicUrl host now configured, with a new serial', async () => {
    const dir = dataDir();
    const first = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    const moved = await ensureSelfSignedCertificate(dir, requiredNames('0.0.0.0', 'https://10.1.2.3:8443'));
    expect(moved.generated).toBe(true);
    expect(moved.reason).toBe('its subjectAltName lacks 10.1.2.3');
    expect(sans(moved.cert)).toEqual([...LOOPBACK, 'IP Address:10.1.2.3']);
    expect(new X509Certificate(moved.cert).serialNumber).not.toBe(new X509Certificate(first.cert).serialNumber);
    expect(readFileSync(moved.certFile)).toEqual(moved.cert);
  });

  it('replaces one that has ended or is about to', async () => {
    const dir = dataDir();
    const now = new Date();
    await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null), now);
    const stillFine = new Date(now.getTime() + CERT_VALIDITY_DAYS * DAY - RENEW_BEFORE_MS - DAY);
    expect((await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null), stillFine)).generated).toBe(false);
    const nearEnd = new Date(now.getTime() + CERT_VALIDITY_DAYS * DAY - RENEW_BEFORE_MS + DAY);
    const renewed = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null), nearEnd);
    expect(renewed.generated).toBe(true);
    expect(renewed.reason).toMatch(/^it ends \d{4}-/);
    expect(Date.parse(new X509Certificate(renewed.cert).validTo)).toBeGreaterThan(nearEnd.getTime() + (CERT_VALIDITY_DAYS - 1) * DAY);
  });

  it('replaces one not valid yet (the clock went back since it was made)', async () => {
    const dir = dataDir();
    const made = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    const earlier = new Date(Date.now() - 2 * DAY);
    expect(renewalReason(made.cert.toString(), made.key.toString(), requiredNames('127.0.0.1', null), earlier)).toMatch(/^it is not valid before /);
  });

  it('replaces a pair whose key does not match or whose files are damaged', async () => {
    const dir = dataDir();
    const { certFile, keyFile } = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(keyFile, otherKey);
    const mismatched = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    expect(mismatched.reason).toBe('the stored key is not the certificate’s');
    expect(new X509Certificate(mismatched.cert).checkPrivateKey(createPrivateKey(mismatched.key))).toBe(true);

    writeFileSync(certFile, 'not a certificate');
    expect((await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null))).reason).toBe('the stored certificate does not parse');
    writeFileSync(keyFile, 'not a key');
    expect((await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null))).reason).toBe('the stored key does not parse');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('judges names by subjectAltName only, never by the subject CN', async () => {
    const dir = dataDir();
    const { cert, key } = await ensureSelfSignedCertificate(dir, requiredNames('127.0.0.1', null));
    expect(new X509Certificate(cert).subject).toContain('CN=openkvs self-signed');
    expect(renewalReason(cert.toString(), key.toString(), [{ type: 'dns', value: 'openkvs self-signed' }], new Date())).toBe('its subjectAltName lacks openkvs self-signed');
  });
});
