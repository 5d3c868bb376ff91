// Types for sigv4.js, so the Node tests can check the browser signer against the AWS SDK's.

export type Digests = {
  kind: 'subtle' | 'js';
  sha256(data: string | Uint8Array): Promise<Uint8Array>;
  hmac(key: Uint8Array, data: string | Uint8Array): Promise<Uint8Array>;
};

export function toHex(bytes: Uint8Array): string;
export function sha256Pure(data: string | Uint8Array): Uint8Array;
export function hmacPure(key: Uint8Array, data: string | Uint8Array): Uint8Array;
export function cryptoFor(subtle?: SubtleCrypto | null): Digests;
export function signRequest(req: {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
  date?: Date;
  crypto?: Digests;
}): Promise<Record<string, string>>;
export function presignUrl(req: {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
  expiresSeconds?: number;
  date?: Date;
  crypto?: Digests;
}): Promise<string>;
