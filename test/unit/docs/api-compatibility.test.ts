import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsupportedOperations } from '../../../src/api/operations/unsupported.js';
import { SIGNALING_PATHS } from '../../../src/signaling/signaling-socket.js';

// docs/api-compatibility.md against what the server serves and what the installed AWS SDK clients can call.

type Row = { operation: string; service: string; path: string; support: string; notes: string };

const doc = readFileSync('docs/api-compatibility.md', 'utf8');
const rows: Row[] = doc
  .split('\n')
  .filter((line) => /^\| \w+ \| [^|]+ \| `\//.test(line))
  .map((line) => {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    return { operation: cells[0] ?? '', service: cells[1] ?? '', path: (cells[2] ?? '').replaceAll('`', ''), support: cells[3] ?? '', notes: cells.slice(4).join('|') };
  });
const rowByPath = new Map(rows.map((r) => [r.path, r]));

/**
 * Every path an operation table answers. The tables are built in src/server.ts from factories that need a live
 * store, so their keys are read from the factories' source instead: each operation is an object key that is a
 * path literal at the start of a line.
 */
function servedPaths(): Set<string> {
  const dir = 'src/api/operations';
  const paths = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts') || file === 'unsupported.ts') {
      continue;
    }
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/^\s*'(\/[^'\s]+)':\s*(?:async\s*)?\(/gm)) {
      paths.add(m[1] ?? '');
    }
  }
  // PutMedia is a streaming route, not a table operation; the signaling WebSocket is an upgrade
  if (/streamingRoutes:\s*\{\s*'\/putMedia'/.test(readFileSync('src/server.ts', 'utf8'))) {
    paths.add('/putMedia');
  }
  for (const p of Object.values(SIGNALING_PATHS)) {
    paths.add(p);
  }
  return paths;
}

const SDK_CLIENTS: Record<string, string> = {
  'client-kinesis-video': 'kinesisvideo',
  'client-kinesis-video-media': 'kinesis-video-media',
  'client-kinesis-video-archived-media': 'kinesis-video-archived-media',
  'client-kinesis-video-signaling': 'kinesis-video-signaling',
  'client-kinesis-video-webrtc-storage': 'kinesis-video-webrtc-storage',
};

/**
 * Operation name → HTTP path, from the request serializers of an installed client: newer clients keep them in a
 * schema file (`[_h]: ["POST", "/createStream", 200]`), older ones in protocols/Aws_restJson1.js (`b.bp("/…")`).
 */
function modelledPaths(root: string): Map<string, string> {
  const schemaFile = join(root, 'dist-es/schemas/schemas_0.js');
  if (existsSync(schemaFile)) {
    const schema = readFileSync(schemaFile, 'utf8');
    return new Map([...schema.matchAll(/export var (\w+)\$ = \[9, n0, _\w+,\s*\{ \[_h\]: \["POST", "([^"]+)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  }
  const protocol = readFileSync(join(root, 'dist-es/protocols/Aws_restJson1.js'), 'utf8');
  return new Map([...protocol.matchAll(/export const se_(\w+)Command = async[^]*?b\.bp\("([^"]+)"\)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** Command name → (service, HTTP path) for every command of the installed SDK clients. */
function sdkOperations(): Map<string, { service: string; path: string }> {
  const ops = new Map<string, { service: string; path: string }>();
  for (const [pkg, service] of Object.entries(SDK_CLIENTS)) {
    const root = join('node_modules/@aws-sdk', pkg);
    const commands = readdirSync(join(root, 'dist-types/commands'))
      .filter((f) => f.endsWith('Command.d.ts'))
      .map((f) => f.slice(0, -'Command.d.ts'.length));
    const paths = modelledPaths(root);
    // a schema layout this regex no longer reads must fail here, not pass with nothing compared
    expect([...paths.keys()].sort(), `${pkg} operation schemas`).toEqual([...commands].sort());
    for (const name of commands) {
      ops.set(name, { service, path: paths.get(name) ?? '' });
    }
  }
  return ops;
}

describe('docs/api-compatibility.md', () => {
  const served = servedPaths();
  const unsupported = new Set(Object.keys(unsupportedOperations(new Set())));

  it('reads the tables it checks', () => {
    expect(rows.length).toBeGreaterThan(60);
    expect(new Set(rows.map((r) => r.path)).size, 'a path listed twice').toBe(rows.length);
    for (const p of ['/createStream', '/getMedia', '/putMedia', '/v1/get-ice-server-config', '/openkvs/createAccessKey', '/signaling/master']) {
      expect(served, p).toContain(p);
    }
  });

  it('lists every operation the server serves, as supported or partly', () => {
    for (const path of served) {
      expect(rowByPath.get(path)?.support, `${path} missing from the table`).toMatch(/^(supported|partly)$/);
    }
  });

  it('claims support only for paths the server serves', () => {
    for (const r of rows.filter((x) => x.support !== 'not')) {
      expect(served, `${r.operation} (${r.path}) is listed as ${r.support} but nothing serves it`).toContain(r.path);
    }
  });

  it('marks the modelled operations answered UnsupportedOperationException as not, and only those', () => {
    expect(unsupported.size).toBeGreaterThan(0);
    const not = rows.filter((r) => r.support === 'not').map((r) => r.path);
    expect(new Set(not)).toEqual(unsupported);
  });

  it('lists every command of the AWS SDK clients with its service and the path the SDK calls', () => {
    const sdk = sdkOperations();
    expect(sdk.size).toBeGreaterThan(40);
    for (const [name, { service, path }] of sdk) {
      const r = rows.find((x) => x.operation === name);
      expect(r, `${name} missing from the table`).toBeDefined();
      expect({ name, service: r?.service, path: r?.path }).toEqual({ name, service, path });
    }
  });

  it('uses only the three support levels, and explains every partly and not', () => {
    for (const r of rows) {
      expect(r.support, r.operation).toMatch(/^(supported|partly|not)$/);
      if (r.support !== 'supported') {
        expect(r.notes.length, `${r.operation} needs a note`).toBeGreaterThan(5);
      }
    }
  });
});
