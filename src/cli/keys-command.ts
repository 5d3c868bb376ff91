import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, EXIT, UsageError, client, type CliIo } from './context.js';

const USAGE = `usage: openkvs keys <command> [options]   (access keys and their policies; docs/security.md)
  create [--template T [--streams a,b] [--channels c,d]] [--policy-file F --policy-name N] [--description D]
      a new access key; prints its id and secret once. T: administrators, capacity, producers, consumers,
      full-access. --streams/--channels: names, ARN patterns or * (default *). No policy = allowed nothing.
  list                          every access key (never the secrets)
  describe <id>                 one key with its policy documents, as JSON
  disable <id> | enable <id>    stop / resume accepting the key's signatures
  rotate <id>                   a new key with the same policies; the old one is disabled
  delete <id>
  put-policy <id> (--template T [--streams …] [--channels …] [--policy-name N] | --policy-file F --policy-name N)
  delete-policy <id> <policy-name>
  templates                     the ready policies and what they allow
  Only the root credentials (or a key allowed openkvs:*AccessKey*) may manage keys.`;

type AccessKey = { AccessKeyId: string; SecretAccessKey?: string; Status: string; Description: string; CreateDate: number; LastUsedDate?: number; PolicyNames: string[] };

/** `openkvs keys …`: the access-key admin API (/openkvs/*AccessKey*). */
export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      template: { type: 'string' },
      streams: { type: 'string' },
      channels: { type: 'string' },
      'policy-file': { type: 'string' },
      'policy-name': { type: 'string' },
      description: { type: 'string' },
    },
  });
  const [action, id, extra, ...rest] = positionals;
  const kvs = client(values, io.env);
  const needId = (): string => {
    if (id === undefined) {
      throw new UsageError(`keys ${action ?? ''}: an access key id is required\n${USAGE}`);
    }
    return id;
  };
  if (rest.length > 0 || (extra !== undefined && action !== 'delete-policy')) {
    throw new UsageError(`keys ${action ?? ''}: unexpected argument "${rest[0] ?? extra ?? ''}"\n${USAGE}`);
  }
  switch (action) {
    case 'create': {
      const out = await kvs.call<{ AccessKey: AccessKey }>('/openkvs/createAccessKey', { ...policyMembers(values, false), ...(values.description !== undefined ? { Description: values.description } : {}) });
      printNewKey(out.AccessKey, io);
      return EXIT.OK;
    }
    case 'list': {
      const out = await kvs.call<{ AccessKeys: AccessKey[] }>('/openkvs/listAccessKeys', {});
      io.stdout.write(`${'ACCESS KEY ID'.padEnd(22)} ${'STATUS'.padEnd(8)} ${'CREATED'.padEnd(20)} ${'LAST USED'.padEnd(20)} POLICIES  DESCRIPTION\n`);
      for (const k of out.AccessKeys) {
        io.stdout.write(`${k.AccessKeyId.padEnd(22)} ${k.Status.padEnd(8)} ${time(k.CreateDate).padEnd(20)} ${(k.LastUsedDate === undefined ? '-' : time(k.LastUsedDate)).padEnd(20)} ${k.PolicyNames.join(',') || '-'}  ${k.Description}\n`);
      }
      return EXIT.OK;
    }
    case 'describe':
      io.stdout.write(JSON.stringify(await kvs.call('/openkvs/describeAccessKey', { AccessKeyId: needId() }), null, 2) + '\n');
      return EXIT.OK;
    case 'disable':
    case 'enable': {
      const out = await kvs.call<{ AccessKey: AccessKey }>('/openkvs/updateAccessKey', { AccessKeyId: needId(), Status: action === 'enable' ? 'Active' : 'Inactive' });
      io.stdout.write(`${out.AccessKey.AccessKeyId}: ${out.AccessKey.Status}\n`);
      return EXIT.OK;
    }
    case 'rotate': {
      const out = await kvs.call<{ AccessKey: AccessKey; PreviousAccessKey: AccessKey }>('/openkvs/rotateAccessKey', { AccessKeyId: needId() });
      printNewKey(out.AccessKey, io);
      io.stdout.write(`${out.PreviousAccessKey.AccessKeyId} is now ${out.PreviousAccessKey.Status} (openkvs keys enable ${out.PreviousAccessKey.AccessKeyId} while devices switch over)\n`);
      return EXIT.OK;
    }
    case 'delete':
      await kvs.call('/openkvs/deleteAccessKey', { AccessKeyId: needId() });
      io.stdout.write(`${needId()}: deleted\n`);
      return EXIT.OK;
    case 'put-policy': {
      const out = await kvs.call<{ AccessKey: AccessKey }>('/openkvs/putAccessKeyPolicy', { AccessKeyId: needId(), ...policyMembers(values, true) });
      io.stdout.write(`${out.AccessKey.AccessKeyId}: policies ${out.AccessKey.PolicyNames.join(', ')}\n`);
      return EXIT.OK;
    }
    case 'delete-policy': {
      if (extra === undefined) {
        throw new UsageError(`keys delete-policy: a policy name is required\n${USAGE}`);
      }
      const out = await kvs.call<{ AccessKey: AccessKey }>('/openkvs/deleteAccessKeyPolicy', { AccessKeyId: needId(), PolicyName: extra });
      io.stdout.write(`${out.AccessKey.AccessKeyId}: policies ${out.AccessKey.PolicyNames.join(', ') || '(none: allowed nothing)'}\n`);
      return EXIT.OK;
    }
    case 'templates': {
      const out = await kvs.call<{ Templates: { Name: string; Description: string; PolicyDocument: string }[] }>('/openkvs/listPolicyTemplates', {});
      for (const t of out.Templates) {
        io.stdout.write(`${t.Name}: ${t.Description}\n${JSON.stringify(JSON.parse(t.PolicyDocument), null, 2)}\n\n`);
      }
      return EXIT.OK;
    }
    default:
      throw new UsageError(USAGE);
  }
}

type PolicyFlags = { template?: string | undefined; streams?: string | undefined; channels?: string | undefined; 'policy-file'?: string | undefined; 'policy-name'?: string | undefined };

function policyMembers(values: PolicyFlags, required: boolean): Record<string, unknown> {
  const list = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter((x) => x !== ''));
  if (values.template !== undefined && values['policy-file'] !== undefined) {
    throw new UsageError('give --template or --policy-file, not both');
  }
  if (values.template !== undefined) {
    return {
      Template: values.template,
      ...(values.streams !== undefined ? { Streams: list(values.streams) } : {}),
      ...(values.channels !== undefined ? { Channels: list(values.channels) } : {}),
      ...(values['policy-name'] !== undefined ? { PolicyName: values['policy-name'] } : {}),
    };
  }
  if (values.streams !== undefined || values.channels !== undefined) {
    throw new UsageError('--streams and --channels scope a --template');
  }
  if (values['policy-file'] !== undefined) {
    if (values['policy-name'] === undefined) {
      throw new UsageError('--policy-file needs --policy-name');
    }
    return { PolicyName: values['policy-name'], PolicyDocument: readFileSync(values['policy-file'], 'utf8') };
  }
  if (required) {
    throw new UsageError('give --template T or --policy-file F --policy-name N');
  }
  return {};
}

function printNewKey(k: AccessKey, io: CliIo): void {
  io.stdout.write(
    `AccessKeyId      ${k.AccessKeyId}\nSecretAccessKey  ${k.SecretAccessKey ?? ''}\nPolicies         ${k.PolicyNames.join(', ') || '(none: allowed nothing)'}\n` +
      `The secret is shown only now. Use it as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.\n`,
  );
}

const time = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
