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
    io.stderr.write(`openkvs: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.SERVICE_ERROR;
  }
}
