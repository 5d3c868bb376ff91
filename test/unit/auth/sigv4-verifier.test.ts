import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { SigV4Verifier } from '../../../src/auth/sigv4-verifier.js';
import { KvsError } from '../../../src/errors/codes.js';

const creds = { accessKeyId: 'AKIDPRESIGN000000001', secretAccessKey: 'presign-secret-0123456789abcdef' };
const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const verifier = new SigV4Verifier((id) => (id === creds.accessKeyId ? creds : undefined), () => now);

// The KVS WebRTC SDK presigns the signaling WebSocket URL: GET, SignedHeaders=host, X-Amz-Expires=299,
// X-Amz-ChannelARN (+ X-Amz-ClientId for viewers) in the query.
async function presign(query: Record<string, string>, opts: { secret?: string; date?: number; expires?: number } = {}) {
  const signer = new SignatureV4({ credentials: { ...creds, secretAccessKey: opts.secret ?? creds.secretAccessKey }, region: 'us-west-2', service: 'kinesisvideo', sha256: Sha256 });
  const signed = await signer.presign(
    { method: 'GET', protocol: 'wss:', hostname: 'kvs.local', port: 8443, path: '/', query, headers: { host: 'kvs.local:8443' } },
    { signingDate: new Date(opts.date ?? now), expiresIn: opts.expires ?? 299 },
  );
  return { method: 'GET', path: '/', query: signed.query as Record<string, string>, headers: { host: 'kvs.local:8443' }, body: null };
}

const channel = { 'X-Amz-ChannelARN': 'arn:aws:kinesisvideo:us-west-2:000000000000:channel/ch1/1700000000000', 'X-Amz-ClientId': 'viewer-1' };

describe('SigV4Verifier.verifyPresigned', () => {
  it('accepts a URL presigned like the KVS WebRTC SDK does', async () => {
    const caller = await verifier.verifyPresigned(await presign(channel));
    expect(caller).toEqual({ accessKeyId: creds.accessKeyId, region: 'us-west-2' });
  });

  it.each([
    ['a wrong secret', async () => presign(channel, { secret: 'other-secret-0123456789abcdef' }), 'InvalidSignatureException'],
    ['a changed query parameter', async () => ({ ...(await presign(channel)), query: { ...(await presign(channel)).query, 'X-Amz-ClientId': 'viewer-2' } }), 'InvalidSignatureException'],
    ['an expired URL', async () => presign(channel, { date: now - 400_000 }), 'InvalidSignatureException'],
    ['no signature at all', async () => ({ method: 'GET', path: '/', query: channel, headers: { host: 'kvs.local:8443' }, body: null }), 'MissingAuthenticationTokenException'],
  ])('refuses %s', async (_label, make, errorName) => {
    const err = await verifier.verifyPresigned(await make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvsError);
    expect((err as KvsError).errorName).toBe(errorName);
    expect((err as KvsError).status).toBe(403);
  });

  it('accepts a URL until X-Amz-Expires has passed and refuses it from then on (no replay past expiry)', async () => {
    const url = await presign(channel, { expires: 299 });
    const at = (ms: number): SigV4Verifier => new SigV4Verifier((id) => (id === creds.accessKeyId ? creds : undefined), () => ms);
    await expect(at(now + 298_000).verifyPresigned(url)).resolves.toBeDefined();
    for (const later of [now + 300_000, now + 3_600_000]) {
      const err = (await at(later).verifyPresigned(url).catch((e: unknown) => e)) as KvsError;
      expect(err.errorName).toBe('InvalidSignatureException');
      expect(err.message).toMatch(/^Signature expired/);
    }
  });

  it.each([
    ['X-Amz-Expires extended', { 'X-Amz-Expires': '604800' }],
    ['X-Amz-Date moved forward', { 'X-Amz-Date': '20261127T120400Z' }],
  ])('refuses a URL with %s after signing: the signature covers both', async (_label, change) => {
    const url = await presign(channel, { date: now - 400_000 });
    const err = (await verifier.verifyPresigned({ ...url, query: { ...url.query, ...change } }).catch((e: unknown) => e)) as KvsError;
    expect(err.errorName).toBe('InvalidSignatureException');
  });

  it('says "Signature expired" for a stale URL (the WebRTC C SDK looks for it)', async () => {
    const err = (await verifier.verifyPresigned(await presign(channel, { date: now - 400_000 })).catch((e: unknown) => e)) as KvsError;
    expect(err.message).toMatch(/^Signature expired/);
  });
});
