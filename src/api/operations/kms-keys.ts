import type { KmsService } from '../../kms/kms-service.js';
import type { KmsKey } from '../../kms/key-ring.js';
import type { Input } from '../input.js';
import { epochSeconds, type OperationTable } from '../operation.js';

// openkvs extensions (docs/encryption.md): the KMS-like keys that protect stored fragments. Member names follow
// AWS KMS (KeyId, AliasName, KeyMetadata), signed and routed like the KVS operations.

const KEY_ID = { required: true, min: 1, max: 2048 } as const;

function keyMetadata(k: KmsKey, aliasArn: (alias: string) => string): Record<string, unknown> {
  return {
    KeyId: k.id,
    Arn: k.arn,
    ...(k.alias !== null ? { AliasName: k.alias, AliasArn: aliasArn(k.alias) } : {}),
    Description: k.description,
    KeyState: k.state,
    Enabled: k.state === 'Enabled',
    CreationDate: epochSeconds(k.createdMs),
    KeyMaterialVersion: k.currentVersion,
    ...(k.rotatedMs !== null ? { LastRotationDate: epochSeconds(k.rotatedMs) } : {}),
  };
}

export function kmsKeyOperations(deps: { kms: KmsService }): OperationTable {
  const { kms } = deps;
  const meta = (k: KmsKey): Record<string, unknown> => keyMetadata(k, (a) => kms.ring.aliasArn(a));
  const keyId = (input: Input): string => input.str('KeyId', KEY_ID);
  return {
    '/openkvs/createKey': (input) => ({
      KeyMetadata: meta(kms.create(input.str('AliasName', { min: 7, max: 256 }), input.str('Description', { max: 8192 }))),
    }),
    '/openkvs/listKeys': () => ({ Keys: kms.list().map(meta) }),
    '/openkvs/describeKey': (input) => ({ KeyMetadata: meta(kms.describe(keyId(input))) }),
    '/openkvs/disableKey': (input) => ({ KeyMetadata: meta(kms.setEnabled(keyId(input), false)) }),
    '/openkvs/enableKey': (input) => ({ KeyMetadata: meta(kms.setEnabled(keyId(input), true)) }),
    '/openkvs/rotateKey': (input) => {
      const { key, dataKeysRewrapped } = kms.rotate(keyId(input));
      return { KeyMetadata: meta(key), DataKeysRewrapped: dataKeysRewrapped };
    },
    '/openkvs/deleteKey': (input) => {
      kms.delete(keyId(input));
      return {};
    },
  };
}
