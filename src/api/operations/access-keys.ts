import { invalidArgument, notFound } from '../../errors/codes.js';
import { ACCESS_KEY_ID, MAX_POLICIES_PER_KEY, type AccessKeyRecord, type AccessKeyStore, type KeyPolicy } from '../../iam/access-keys.js';
import { parsePolicyDocument } from '../../iam/policy-document.js';
import { POLICY_TEMPLATES, instantiateTemplate, isTemplateName, type TemplateName } from '../../iam/templates.js';
import type { Input } from '../input.js';
import { epochSeconds, type OperationTable } from '../operation.js';

// openkvs extension (docs/security.md): access keys and their IAM-style policies, managed over the same signed
// JSON API as everything else. Only the root credentials, or a key whose policy allows openkvs:*AccessKey*, may
// call these. Secrets are returned once, by create and rotate; nothing lists them again.

const ID_RULE = { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID } as const;
const SCOPE_ITEM = { min: 1, max: 1024, pattern: /^(\*|[a-zA-Z0-9_.-]{1,256}|arn:[\x21-\x7e]+)$/ } as const;

export function accessKeyOperations(deps: { keys: AccessKeyStore }): OperationTable {
  const { keys } = deps;
  return {
    '/openkvs/createAccessKey': (input) => {
      const { record, secretAccessKey } = keys.create({ description: description(input), policies: policiesOf(input) });
      return { AccessKey: { ...keyInfo(record), SecretAccessKey: secretAccessKey } };
    },
    '/openkvs/listAccessKeys': () => ({ AccessKeys: keys.list().map(keyInfo) }),
    '/openkvs/describeAccessKey': (input) => {
      const id = input.str('AccessKeyId', ID_RULE);
      const record = keys.find(id);
      if (record === undefined) {
        throw notFound(`Access key ${id} does not exist.`);
      }
      return { AccessKey: keyInfo(record), Policies: record.policies.map((p) => ({ PolicyName: p.name, PolicyDocument: p.document })) };
    },
    '/openkvs/updateAccessKey': (input) => {
      const record = keys.setStatus(input.str('AccessKeyId', ID_RULE), input.enumOf('Status', ['Active', 'Inactive'] as const, { required: true }));
      return { AccessKey: keyInfo(record) };
    },
    '/openkvs/rotateAccessKey': (input) => {
      const { record, secretAccessKey, previous } = keys.rotate(input.str('AccessKeyId', ID_RULE));
      return { AccessKey: { ...keyInfo(record), SecretAccessKey: secretAccessKey }, PreviousAccessKey: keyInfo(previous) };
    },
    '/openkvs/deleteAccessKey': (input) => {
      keys.delete(input.str('AccessKeyId', ID_RULE));
      return {};
    },
    '/openkvs/putAccessKeyPolicy': (input) => {
      const policies = policiesOf(input);
      const id = input.str('AccessKeyId', ID_RULE);
      if (policies.length !== 1) {
        throw invalidArgument('Give one policy: PolicyName with PolicyDocument, or Template (with Streams / Channels).');
      }
      const [policy] = policies as [KeyPolicy];
      return { AccessKey: keyInfo(keys.putPolicy(id, policy)) };
    },
    '/openkvs/deleteAccessKeyPolicy': (input) => {
      const record = keys.deletePolicy(input.str('AccessKeyId', ID_RULE), input.str('PolicyName', { required: true, min: 1, max: 128 }));
      return { AccessKey: keyInfo(record) };
    },
    '/openkvs/listPolicyTemplates': () => ({
      Templates: Object.entries(POLICY_TEMPLATES).map(([name, t]) => ({
        Name: name,
        Description: t.description,
        // what the template grants for all streams and channels; Streams/Channels narrow it
        PolicyDocument: JSON.stringify(instantiateTemplate(name as TemplateName, { streams: ['*'], channels: ['*'] })),
      })),
    }),
  };
}

function description(input: Input): string {
  return input.str('Description', { min: 0, max: 256 }) ?? '';
}

/** A Template (instantiated for Streams / Channels, default all), explicit Policies, or PolicyName + PolicyDocument. */
function policiesOf(input: Input): KeyPolicy[] {
  const policies: KeyPolicy[] = [];
  const template = input.str('Template', { min: 1, max: 64 });
  if (template !== undefined) {
    if (!isTemplateName(template)) {
      throw invalidArgument(`Template must be one of ${Object.keys(POLICY_TEMPLATES).join(', ')}.`);
    }
    const streams = input.strList('Streams', { minItems: 0, maxItems: 100, item: SCOPE_ITEM }) ?? ['*'];
    const channels = input.strList('Channels', { minItems: 0, maxItems: 100, item: SCOPE_ITEM }) ?? ['*'];
    const doc = instantiateTemplate(template, { streams, channels }) as { Statement: unknown[] };
    if (doc.Statement.length === 0) {
      throw invalidArgument(`Template ${template} grants nothing for these Streams and Channels.`);
    }
    policies.push({ name: input.str('PolicyName', { min: 1, max: 128 }) ?? template, document: JSON.stringify(doc) });
  } else if (input.has('PolicyDocument')) {
    policies.push({ name: input.str('PolicyName', { required: true, min: 1, max: 128 }), document: documentText(input.str('PolicyDocument', { required: true, min: 1 })) });
  }
  for (const p of input.objList('Policies', { maxItems: MAX_POLICIES_PER_KEY }) ?? []) {
    policies.push({ name: p.str('PolicyName', { required: true, min: 1, max: 128 }), document: documentText(p.str('PolicyDocument', { required: true, min: 1 })) });
  }
  return policies;
}

/** Checked now so a bad document is refused at once; stored as sent (minus insignificant whitespace). */
function documentText(text: string): string {
  parsePolicyDocument(text);
  return JSON.stringify(JSON.parse(text));
}

function keyInfo(r: AccessKeyRecord): Record<string, unknown> {
  return {
    AccessKeyId: r.accessKeyId,
    Status: r.status,
    Description: r.description,
    CreateDate: epochSeconds(r.createdMs),
    LastUsedDate: r.lastUsedMs === null ? undefined : epochSeconds(r.lastUsedMs),
    PolicyNames: r.policies.map((p) => p.name),
  };
}
