import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseMetrics, type Sample } from '../../src/console/assets/metrics-text.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

/** GET signed with SigV4 as a Prometheus-side proxy or the console would sign it (empty-body hash). */
export async function signedGet(url: string, creds = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }): Promise<Response> {
  const u = new URL(url);
  const signer = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'kinesisvideo', sha256: Sha256, applyChecksum: true });
  const signed = await signer.sign({ method: 'GET', protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path: u.pathname, query: {}, headers: { host: u.host } });
  return fetch(url, { headers: signed.headers as Record<string, string> });
}

/** The server's /metrics as the console's parser reads it. */
export async function scrape(baseUrl: string): Promise<Metrics> {
  const res = await signedGet(`${baseUrl}/metrics`);
  if (res.status !== 200) {
    throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
  }
  return new Metrics(parseMetrics(await res.text()));
}

export class Metrics {
  constructor(readonly samples: Sample[]) {}

  /** The value of the one series of `name` with these labels (0 when it is absent, as a counter not yet touched). */
  value(name: string, labels: Record<string, string> = {}): number {
    const hits = this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    return hits.reduce((n, s) => n + s.value, 0);
  }

  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }
}
