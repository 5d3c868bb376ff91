import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

export type SignOptions = { applyChecksum?: boolean; secret?: string; accessKeyId?: string; signingDate?: Date; region?: string; service?: string; headers?: Record<string, string> };

/** Sign a POST the way the JS SDK does (x-amz-content-sha256 included) or, with applyChecksum false, the CLI does. */
export async function signRequest(url: string, body: string, opts: SignOptions = {}): Promise<{ headers: Record<string, string>; body: string }> {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? TEST_ACCESS_KEY, secretAccessKey: opts.secret ?? TEST_SECRET },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'kinesisvideo',
    sha256: Sha256,
    applyChecksum: opts.applyChecksum ?? true,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: {},
      headers: { host: u.host, 'content-type': 'application/json', ...opts.headers },
      body,
    },
    { signingDate: opts.signingDate ?? new Date() },
  );
  return { headers: signed.headers as Record<string, string>, body };
}

export async function signedPost(url: string, body: string, opts: SignOptions = {}): Promise<Response> {
  const s = await signRequest(url, body, opts);
  return fetch(url, { method: 'POST', headers: s.headers, body: s.body });
}
