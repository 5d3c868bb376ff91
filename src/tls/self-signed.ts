import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

// A certificate for local use, kept in the data dir so that a client told to trust it once keeps trusting it
// across restarts; replaced only when it could no longer be trusted for the names clients use.

export type SubjectName = { type: 'dns' | 'ip'; value: string };

export type SelfSignedCertificate = {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** true when this start wrote a new certificate (clients that trusted the old one must be told again). */
  generated: boolean;
  /** Why it was (re)generated; null when the stored one was reused. */
  reason: string | null;
};

export const CERT_VALIDITY_DAYS = 365;
/** Replaced this long before it ends, so a server started now does not outlive its certificate. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

const DAY_MS = 86_400_000;
// ECDSA P-256: generated in milliseconds, and every TLS client in use (browsers, OpenSSL, botocore) accepts it.
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export function selfSignedPaths(dataDir: string): { dir: string; certFile: string; keyFile: string } {
  const dir = join(dataDir, 'tls');
  return { dir, certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}

/**
 * The names a client may reach this server by: loopback always, plus the bound host unless it is a wildcard
 * address (which no client connects to by that name) and publicUrl's host.
 */
export function requiredNames(host: string, publicUrl: string | null): SubjectName[] {
  const names: SubjectName[] = [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ];
  const add = (raw: string): void => {
    const name = subjectNameOf(raw);
    if (name !== null && !names.some((n) => n.type === name.type && n.value === name.value)) {
      names.push(name);
    }
  };
  add(host);
  if (publicUrl !== null) {
    add(new URL(publicUrl).hostname);
  }
  return names;
}

function subjectNameOf(raw: string): SubjectName | null {
  const h = raw.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === '' || h === '0.0.0.0' || h === '::') {
    return null;
  }
  const family = isIP(h);
  if (family === 0) {
    return { type: 'dns', value: h };
  }
  // the WHATWG URL parser writes an address in its one canonical form ('0:0::1' → '::1'), so equal addresses compare equal
  const canonical = new URL(`http://${family === 6 ? `[${h}]` : h}/`).hostname.replace(/^\[(.*)\]$/, '$1');
  return { type: 'ip', value: canonical };
}

/** Why the stored pair cannot be served as it is, or null when it can. */
export function renewalReason(certPem: string, keyPem: string, names: readonly SubjectName[], now: Date): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'the stored certificate does not parse';
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
      return 'the stored key is not the certificate’s';
    }
  } catch {
    return 'the stored key does not parse';
  }
  const validTo = new Date(cert.validTo);
  if (validTo.getTime() - now.getTime() < RENEW_BEFORE_MS) {
    return `it ends ${validTo.toISOString()}`;
  }
  if (new Date(cert.validFrom).getTime() > now.getTime()) {
    return `it is not valid before ${new Date(cert.validFrom).toISOString()}`;
  }
  for (const n of names) {
    const covered = n.type === 'ip' ? cert.checkIP(n.value) !== undefined : cert.checkHost(n.value, { subject: 'never', wildcards: false }) !== undefined;
    if (!covered) {
      return `its subjectAltName lacks ${n.value}`;
    }
  }
  return null;
}

/** The stored certificate when it still serves every name, otherwise a new one written over it. */
export async function ensureSelfSignedCertificate(dataDir: string, names: readonly SubjectName[], now = new Date()): Promise<SelfSignedCertificate> {
  const { dir, certFile, keyFile } = selfSignedPaths(dataDir);
  const stored = readPair(certFile, keyFile);
  let reason = 'none was stored yet';
  if (stored !== null) {
    const why = renewalReason(stored.cert.toString('utf8'), stored.key.toString('utf8'), names, now);
    if (why === null) {
      return { certFile, keyFile, ...stored, generated: false, reason: null };
    }
    reason = why;
  }
  const fresh = await generateSelfSigned(names, now);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // key first: a crash between the two renames leaves a pair that does not match, which the next start replaces
  writeReplacing(keyFile, fresh.key, 0o600);
  writeReplacing(certFile, fresh.cert, 0o644);
  return { certFile, keyFile, ...fresh, generated: true, reason };
}

export async function generateSelfSigned(names: readonly SubjectName[], now: Date): Promise<{ cert: Buffer; key: Buffer }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  // positive and without a leading zero byte; random so that a browser never sees two certificates with one
  // issuer and serial (Firefox refuses the second)
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: 'CN=openkvs self-signed, O=openkvs',
      // an hour of slack for clients whose clock is a little behind
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + CERT_VALIDITY_DAYS * DAY_MS),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        // its own CA, with the key usages strict verifiers (Python 3.13's VERIFY_X509_STRICT) ask of one
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.type, value: n.value }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' });
  return { cert: Buffer.from(cert.toString('pem') + '\n'), key: Buffer.from(key) };
}

function readPair(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } | null {
  try {
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return null;
    }
    throw err;
  }
}

function writeReplacing(file: string, data: Buffer, mode: number): void {
  const tmp = `${file}.tmp`;
  // a leftover temp file would keep its old mode: the mode option applies only to a file being created
  rmSync(tmp, { force: true });
  writeFileSync(tmp, data, { mode, flag: 'wx' });
  renameSync(tmp, file);
}
