import { EXIT, UsageError, type CliIo } from './context.js';
import { fragmentsCommand } from './fragments-command.js';
import { getCommand } from './get-command.js';
import { hooksCommand } from './hooks-command.js';
import { kmsCommand } from './kms-command.js';
import { keysCommand } from './keys-command.js';
import { putCommand } from './put-command.js';
import { ServiceError } from './kvs-http.js';
import { streamsCommand } from './streams-command.js';

export type ClientCommand = (args: string[], io: CliIo) => Promise<number>;

export const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  streams: streamsCommand,
  get: getCommand,
  fragments: fragmentsCommand,
  put: putCommand,
  hooks: hooksCommand,
  kms: kmsCommand,
  keys: keysCommand,
};

/** Node's names for a certificate chain it does not trust (a self-signed or private-CA server). */
const TLS_TRUST_ERRORS = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']);

/** Run a client command, turning every failure into a message and a meaningful exit code. */
export async function runClientCommand(command: ClientCommand, args: string[], io: CliIo): Promise<number> {
  try {
    return await command(args, io);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`openkvs: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof ServiceError) {
      io.stderr.write(`openkvs: ${err.errorName}: ${err.message}\n`);
      return EXIT.SERVICE_ERROR;
    }
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
      io.stderr.write(`openkvs: cannot reach the server: ${(err as Error).message}\n`);
      return EXIT.CONNECTION;
    }
    if (code !== undefined && TLS_TRUST_ERRORS.has(code)) {
      io.stderr.write(`openkvs: the server's certificate is not trusted (${code}); pass --ca-bundle FILE (or set AWS_CA_BUNDLE) with its certificate, e.g. <dataDir>/tls/cert.pem\n`);
      return EXIT.CONNECTION;
    }
    io.stderr.write(`openkvs: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.SERVICE_ERROR;
  }
}
