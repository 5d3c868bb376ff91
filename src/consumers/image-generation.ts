// The stored ImageGenerationConfiguration (validated by the API) as the consumer reads it.

export type ImageSelector = 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP';

export type ImageGeneration = {
  status: 'ENABLED' | 'DISABLED';
  selector: ImageSelector;
  uri: string;
  intervalMs: number;
  format: 'JPEG' | 'PNG';
  quality: number;
  width?: number;
  height?: number;
};

/** KVS's default JPEGQuality. */
const DEFAULT_QUALITY = 80;

export function imageGenerationOf(stored: unknown): ImageGeneration | null {
  if (typeof stored !== 'object' || stored === null) {
    return null;
  }
  const c = stored as {
    Status?: unknown;
    ImageSelectorType?: unknown;
    DestinationConfig?: { Uri?: unknown };
    SamplingInterval?: unknown;
    Format?: unknown;
    FormatConfig?: { JPEGQuality?: unknown };
    WidthPixels?: unknown;
    HeightPixels?: unknown;
  };
  if (typeof c.DestinationConfig?.Uri !== 'string' || typeof c.SamplingInterval !== 'number') {
    return null;
  }
  const g: ImageGeneration = {
    status: c.Status === 'ENABLED' ? 'ENABLED' : 'DISABLED',
    selector: c.ImageSelectorType === 'SERVER_TIMESTAMP' ? 'SERVER_TIMESTAMP' : 'PRODUCER_TIMESTAMP',
    uri: c.DestinationConfig.Uri,
    intervalMs: c.SamplingInterval,
    format: c.Format === 'PNG' ? 'PNG' : 'JPEG',
    quality: c.FormatConfig?.JPEGQuality !== undefined ? Number(c.FormatConfig.JPEGQuality) : DEFAULT_QUALITY,
  };
  if (typeof c.WidthPixels === 'number') {
    g.width = c.WidthPixels;
  }
  if (typeof c.HeightPixels === 'number') {
    g.height = c.HeightPixels;
  }
  return g;
}

export type Destination = { kind: 'file'; dir: string } | { kind: 'http'; uri: string } | { kind: 's3'; bucket: string; prefix: string };

/**
 * Where `DestinationConfig.Uri` sends images; null for a scheme openkvs cannot deliver to, or a path that is not plain.
 * `file://./dir` is relative to the server's working directory, `file://localhost/abs` absolute.
 */
export function destinationOf(uri: string, cwd: string): Destination | null {
  const m = /^([a-zA-Z_0-9]+):(?:\/\/)?([^/]+)\/?(.*)$/.exec(uri);
  if (m === null) {
    return null;
  }
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!;
  const rest = m[3] ?? '';
  if (scheme === 'http' || scheme === 'https') {
    return { kind: 'http', uri };
  }
  if (!isPlainPath(host) || !isPlainPath(rest)) {
    return null;
  }
  if (scheme === 's3') {
    return { kind: 's3', bucket: host, prefix: rest };
  }
  if (scheme === 'file') {
    if (host === 'localhost') {
      return { kind: 'file', dir: `/${rest}` };
    }
    if (host === '.') {
      return { kind: 'file', dir: `${cwd}/${rest}` };
    }
  }
  return null;
}

/**
 * No ".." segment (a file destination would name one directory and write to another; an S3 URL would be normalised
 * into another bucket), no backslash (a separator on some systems) and no control character (NUL ends a path in C).
 */
function isPlainPath(p: string): boolean {
  return ![...p].some((c) => c < ' ' || c === '\x7f' || c === '\\') && !p.split('/').includes('..');
}
