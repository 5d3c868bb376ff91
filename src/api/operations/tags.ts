import type { StreamRegistry } from '../../core/stream-registry.js';
import { KvsError, notFound } from '../../errors/codes.js';
import { PATTERNS, checkString, type Input } from '../input.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE, streamRef } from './stream-ref.js';

export const TAG_KEY_RULE = { min: 1, max: 128, pattern: PATTERNS.tagKey } as const;
export const TAG_VALUE_RULE = { min: 0, max: 256, pattern: PATTERNS.tagValue } as const;
export const TAG_MAP_RULE = { minItems: 1, key: TAG_KEY_RULE, value: TAG_VALUE_RULE } as const;

export type TagsDeps = {
  registry: StreamRegistry;
  /** Whether an ARN names a taggable resource (streams now; signaling channels later). */
  resourceExists: (arn: string) => boolean;
};

/** A `Tags` member in the list-of-{Key, Value} shape (TagResource, CreateSignalingChannel) as a map. */
export function tagList(input: Input, rule: { required: boolean; minItems: number } = { required: true, minItems: 1 }): Record<string, string> {
  const items = input.objList('Tags', { ...rule, maxItems: 50 }) ?? [];
  const out: Record<string, string> = {};
  for (const item of items) {
    const key = item.str('Key', { ...TAG_KEY_RULE, required: true });
    out[key] = item.str('Value', { ...TAG_VALUE_RULE, required: true });
  }
  return out;
}

export function tagOperations(deps: TagsDeps): OperationTable {
  const { registry } = deps;
  const streamArn = (input: Input): string => {
    const ref = streamRef(input);
    if (ref.arn !== undefined && !PATTERNS.arn.test(ref.arn)) {
      throw new KvsError('InvalidResourceFormatException', `The format of the StreamARN is invalid: ${ref.arn}`);
    }
    return registry.resolve(ref).arn;
  };
  const resourceArn = (input: Input): string => {
    const arn = input.str('ResourceARN', { ...ARN_RULE, required: true });
    if (!deps.resourceExists(arn)) {
      throw notFound(`The resource ${arn} was not found.`);
    }
    return arn;
  };
  const keyList = (input: Input): string[] => {
    const keys = input.strList('TagKeyList', { required: true, minItems: 1, maxItems: 50 }) ?? [];
    keys.forEach((k, i) => checkString(k, `TagKeyList[${i}]`, TAG_KEY_RULE));
    return keys;
  };

  return {
    '/tagStream': (input) => {
      const arn = streamArn(input);
      registry.addTags(arn, input.strMap('Tags', { ...TAG_MAP_RULE, required: true }) ?? {});
      return {};
    },
    '/untagStream': (input) => {
      const arn = streamArn(input);
      registry.removeTags(arn, keyList(input));
      return {};
    },
    '/listTagsForStream': (input) => {
      input.str('NextToken', { min: 0, max: 512, pattern: PATTERNS.nextToken });
      return { Tags: registry.tags(streamArn(input)) };
    },
    '/TagResource': (input) => {
      const arn = resourceArn(input);
      registry.addTags(arn, tagList(input));
      return {};
    },
    '/UntagResource': (input) => {
      const arn = resourceArn(input);
      registry.removeTags(arn, keyList(input));
      return {};
    },
    '/ListTagsForResource': (input) => {
      input.str('NextToken', { min: 0, max: 512, pattern: PATTERNS.nextToken });
      return { Tags: registry.tags(resourceArn(input)) };
    },
  };
}
