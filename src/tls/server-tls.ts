import { readFileSync } from 'node:fs';
import type { Config } from '../conf/config.js';
import type { Logger } from '../util/logger.js';
import { ensureSelfSignedCertificate, requiredNames } from './self-signed.js';

export type ServerTls = {
  cert: Buffer;
  key: Buffer;
  /** The PEM the TLS port presents: what a client gives as its CA bundle when the certificate is self-signed. */
  certFile: string;
  selfSigned: boolean;
  /** A self-signed certificate written by this start: clients that trusted the previous one must trust this one. */
  generated: boolean;
};

/** The certificate and key the main port serves, or null when it serves plain HTTP. */
export async function serverTls(config: Readonly<Config>, log: Logger): Promise<ServerTls | null> {
  if (config.tlsCert !== null && config.tlsKey !== null) {
    return { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), certFile: config.tlsCert, selfSigned: false, generated: false };
  }
  if (!config.tlsSelfSigned) {
    return null;
  }
  const names = requiredNames(config.host, config.publicUrl);
  const c = await ensureSelfSignedCertificate(config.dataDir, names);
  const fields = { certFile: c.certFile, names: names.map((n) => n.value) };
  if (c.generated) {
    log.warn('generated a self-signed certificate: clients must trust it (docs/tls.md)', { ...fields, reason: c.reason });
  } else {
    log.info('serving the stored self-signed certificate', fields);
  }
  if ((config.host === '0.0.0.0' || config.host === '::') && config.publicUrl === null) {
    // the certificate can only name what it is told: other machines reach this server by an address not in it
    log.warn('the self-signed certificate names only localhost: clients on other machines will refuse it; set publicUrl (or host) to the name they use', fields);
  }
  return { cert: c.cert, key: c.key, certFile: c.certFile, selfSigned: true, generated: c.generated };
}
