import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_PORT, type Config } from './conf/config.js';
import { envLayer, fileLayer, resolveConfig, type ConfigLayer } from './conf/load-config.js';
import { CLIENT_COMMANDS, runClientCommand } from './cli/run-client-command.js';
import { startOpenKvs } from './server.js';
import { findFfmpeg } from './frames/ffmpeg-binary.js';

// Composition root for the command line: the only file that reads process.env and argv.

const USAGE = `usage: openkvs <command> [options]

  serve                         run the server (below)
  streams create|list|describe|delete|update-capacity …   manage streams
  put <stream> [file|-]         upload MKV or MP4 (a file, or stdin from ffmpeg/GStreamer)
  get <stream> [--start …] [-o out.mkv]                  GetMedia to a file or stdout
  fragments <stream> [--since T] [--until T]             ListFragments
  hooks set|clear|describe|events <stream> …             frame hooks and timeline events (docs/frames.md)
  kms create|list|describe|disable|enable|rotate|delete …   encryption-at-rest keys (docs/encryption.md)
  keys create|list|disable|enable|rotate|delete|put-policy …   access keys and their policies (docs/security.md)
  Client commands take --endpoint-url, --region, --access-key-id, --secret-access-key, --ca-bundle (or AWS_* variables).

openkvs serve [options]

  --port N            port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)      env OPENKVS_PORT
  --host ADDR         address to bind (default 127.0.0.1)                       env OPENKVS_HOST
  --data-dir DIR      where metadata and media live (default ./data)            env OPENKVS_DATA_DIR
  --region R          region in ARNs and accepted in signatures (default us-east-1)  env OPENKVS_REGION
  --config FILE       JSON config file (any setting from the README table)
  --auth on|off       SigV4 enforcement (default on; off is for throwaway local use) env OPENKVS_AUTH
  --log-level L       debug|info|warn|error|silent (default info)               env OPENKVS_LOG_LEVEL
  --log-format F      json|pretty|auto (default auto: pretty on a terminal)     env OPENKVS_LOG_FORMAT
  --tls-cert FILE     PEM certificate: serve HTTPS and WSS on the port           env OPENKVS_TLS_CERT
  --tls-key FILE      PEM private key for --tls-cert                            env OPENKVS_TLS_KEY
  --tls-self-signed   serve HTTPS and WSS with a certificate generated into DIR/tls once  env OPENKVS_TLS_SELF_SIGNED
  --http-port N       with TLS on, serve plain HTTP and WS on this port too (default: none)  env OPENKVS_HTTP_PORT
  --encryption on|off encrypt new fragments at rest (default on; docs/encryption.md)  env OPENKVS_ENCRYPTION
  --master-key-file F the master key (default DIR/master.key, made on first start)  env OPENKVS_MASTER_KEY_FILE
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  const clientCommand = CLIENT_COMMANDS[command];
  if (clientCommand !== undefined) {
    // `openkvs fragments cam1 | head`: a reader that stops early is not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') {
        process.exit(0);
      }
      throw err;
    });
    return runClientCommand(clientCommand, rest, { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
  }
  if (command !== 'serve') {
    process.stderr.write(`openkvs: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let config: Readonly<Config>;
  try {
    const { values } = parseArgs({
      args: rest,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        config: { type: 'string' },
        auth: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-self-signed': { type: 'boolean' },
        'http-port': { type: 'string' },
        encryption: { type: 'string' },
        'master-key-file': { type: 'string' },
      },
      strict: true,
    });
    const flags: ConfigLayer = {};
    const map: Record<string, string> = { port: 'port', host: 'host', 'data-dir': 'dataDir', region: 'region', auth: 'auth', 'log-level': 'logLevel', 'log-format': 'logFormat', 'tls-cert': 'tlsCert', 'tls-key': 'tlsKey', 'tls-self-signed': 'tlsSelfSigned', 'http-port': 'httpPort', encryption: 'encryption', 'master-key-file': 'masterKeyFile' };
    for (const [flag, key] of Object.entries(map)) {
      const v = values[flag as keyof typeof values];
      if (v !== undefined) {
        flags[key] = v;
      }
    }
    const file = values.config ?? process.env['OPENKVS_CONFIG'];
    config = resolveConfig(file !== undefined ? fileLayer(file) : {}, envLayer(process.env), flags);
  } catch (err) {
    process.stderr.write(`openkvs: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    return 2;
  }

  const server = await startOpenKvs(config, { ffmpeg: findFfmpeg(process.env) });
  // Handlers go in before anything announces the server, so a supervisor's early SIGTERM still shuts down cleanly.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stdout.write(`openkvs: ${signal} received, shutting down\n`);
      void server.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const c = server.credentials;
  if (server.credentialsGenerated) {
    process.stdout.write(
      [
        '',
        'openkvs generated root credentials (shown only this once; stored with mode 0600 in ' + server.credentialsPath + '):',
        `  export AWS_ACCESS_KEY_ID=${c.accessKeyId}`,
        `  export AWS_SECRET_ACCESS_KEY=${c.secretAccessKey}`,
        `  export AWS_DEFAULT_REGION=${config.region}`,
        // a self-signed certificate (the usual local case) is refused by the CLI unless it is given as the CA
        `  aws --endpoint-url ${server.url}${server.tls !== null ? ` --ca-bundle ${server.tls.certFile}` : ''} kinesisvideo list-streams`,
        'Set OPENKVS_ACCESS_KEY_ID / OPENKVS_SECRET_ACCESS_KEY to choose your own instead.',
        '',
      ].join('\n') + '\n',
    );
  } else if (server.credentialsPath !== null) {
    process.stdout.write(`openkvs: root credentials are in ${server.credentialsPath} (access key ${c.accessKeyId})\n`);
  }
  if (server.tls?.selfSigned === true) {
    const f = server.tls.certFile;
    process.stdout.write(
      [
        `openkvs: TLS with the self-signed certificate ${f} (${server.tls.generated ? 'new: clients that trusted an earlier one must trust this one' : 'the stored one'}). Clients trust it with:`,
        // export lines of their own, ready to paste into a shell, as the credentials above are
        `  export AWS_CA_BUNDLE=${f}        # the AWS CLI (or: aws --ca-bundle ${f} …)`,
        `  export NODE_EXTRA_CA_CERTS=${f}  # Node.js and the AWS SDK for JavaScript, read at process start`,
        `  # curl --cacert ${f} …; browsers and other clients: docs/tls.md`,
      ].join('\n') + '\n',
    );
  }
  process.stdout.write(`openkvs: serving ${server.url}${server.httpUrl !== null ? ` and plain HTTP on ${server.httpUrl}` : ''}\n`);

  await stopped;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`openkvs: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
