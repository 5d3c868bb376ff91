import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, EXIT, UsageError, client, type CliIo } from './context.js';

const USAGE = `usage: openkvs kms <create|list|describe|disable|enable|rotate|delete> [KEY] [options]
  create [--alias alias/NAME] [--description TEXT]
      a new key (POST /openkvs/createKey); streams select it with CreateStream KmsKeyId (id, ARN, alias or alias ARN)
  list
      every key: id, alias, state, key-material version
  describe KEY
      one key's metadata as JSON; KEY is a key id, key ARN, alias name or alias ARN
  disable KEY | enable KEY
      a disabled key stops PutMedia (ack 4501) and reads of its streams until enabled again
  rotate KEY
      new key material; every data key under KEY is re-wrapped with it (media files are not rewritten)
  delete KEY
      remove a disabled key that no existing stream uses; the default key alias/aws/kinesisvideo stays
  docs/encryption.md explains the keys, the master key and backups.`;

const ACTIONS = ['create', 'list', 'describe', 'disable', 'enable', 'rotate', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

type KeyMetadata = { KeyId: string; AliasName?: string; KeyState: string; KeyMaterialVersion: number; Description: string };

const isAction = (a: string | undefined): a is Action => ACTIONS.includes(a as Action);

/** `openkvs kms …`: the KMS-like keys of encryption at rest (the /openkvs/*Key operations). */
export async function kmsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CLIENT_OPTIONS, alias: { type: 'string' }, description: { type: 'string' } },
  });
  const [action, key, ...extra] = positionals;
  if (!isAction(action)) {
    throw new UsageError(USAGE);
  }
  const wantsKey = action !== 'create' && action !== 'list';
  if (wantsKey && key === undefined) {
    throw new UsageError(`kms ${action}: a key (id, ARN, alias or alias ARN) is required\n${USAGE}`);
  }
  if ((!wantsKey && key !== undefined) || extra.length > 0) {
    throw new UsageError(`kms ${action}: unexpected argument "${wantsKey ? extra[0] : key}"\n${USAGE}`);
  }
  if (action !== 'create' && (values.alias !== undefined || values.description !== undefined)) {
    throw new UsageError(`kms ${action}: --alias and --description apply to "kms create"`);
  }
  const http = client(values, io.env);
  const print = (v: unknown): void => void io.stdout.write(JSON.stringify(v, null, 2) + '\n');
  switch (action) {
    case 'create':
      print(await http.call('/openkvs/createKey', { ...(values.alias !== undefined ? { AliasName: values.alias } : {}), ...(values.description !== undefined ? { Description: values.description } : {}) }));
      return EXIT.OK;
    case 'list': {
      const { Keys } = (await http.call('/openkvs/listKeys', {})) as { Keys: KeyMetadata[] };
      for (const k of Keys) {
        io.stdout.write(`${k.KeyId}\t${k.AliasName ?? '-'}\t${k.KeyState}\tv${k.KeyMaterialVersion}\t${k.Description}\n`);
      }
      return EXIT.OK;
    }
    case 'describe':
      print(await http.call('/openkvs/describeKey', { KeyId: key }));
      return EXIT.OK;
    case 'delete':
      await http.call('/openkvs/deleteKey', { KeyId: key });
      io.stdout.write(`${key}: deleted\n`);
      return EXIT.OK;
    case 'rotate': {
      const out = (await http.call('/openkvs/rotateKey', { KeyId: key })) as { KeyMetadata: KeyMetadata; DataKeysRewrapped: number };
      io.stdout.write(`${key}: key material v${out.KeyMetadata.KeyMaterialVersion}, ${out.DataKeysRewrapped} data key(s) re-wrapped\n`);
      return EXIT.OK;
    }
    default: {
      const out = (await http.call(action === 'disable' ? '/openkvs/disableKey' : '/openkvs/enableKey', { KeyId: key })) as { KeyMetadata: KeyMetadata };
      io.stdout.write(`${key}: ${out.KeyMetadata.KeyState}\n`);
      return EXIT.OK;
    }
  }
}
