import type { VerifiedCaller } from '../auth/sigv4-verifier.js';
import { KvsError } from '../errors/codes.js';
import type { Logger } from '../util/logger.js';
import type { AccessKeyStore } from './access-keys.js';
import type { RequestedAction, ResourceRefs } from './actions.js';
import { evaluate } from './evaluate.js';

// The one place requests are authorized. The root credentials (config or the data dir's credentials.json) may
// do everything, like an AWS account's root user; every other access key only what its policies allow.

export type AuthorizerDeps = {
  keys: AccessKeyStore;
  rootAccessKeyId: string;
  region: string;
  accountId: string;
  /** The real ARN of a stream / channel by name, when it exists (policies name real ARNs, with wildcards). */
  streamArnOf: (name: string) => string | undefined;
  channelArnOf: (name: string) => string | undefined;
  log: Logger;
};

export class Authorizer {
  readonly #deps: AuthorizerDeps;

  constructor(deps: AuthorizerDeps) {
    this.#deps = deps;
  }

  /** Throws the action's refusal (NotAuthorizedException / AccessDeniedException) unless the caller may do it. */
  authorize(caller: VerifiedCaller | null, requested: RequestedAction, refs: ResourceRefs, requestId?: string): void {
    if (caller === null || caller.accessKeyId === this.#deps.rootAccessKeyId) {
      return;
    }
    const resources = this.resourcesOf(refs);
    const decision = evaluate(this.#deps.keys.statementsOf(caller.accessKeyId), requested.action, resources);
    if (decision === 'allow') {
      return;
    }
    const resource = resources.join(', ');
    // Denials are logged for the operator; access key ids are identifiers, not secrets.
    this.#deps.log.warn('access denied', { accessKeyId: caller.accessKeyId, action: requested.action, resource, decision, ...(requestId !== undefined ? { requestId } : {}) });
    const why = decision === 'explicit-deny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${requested.action} action`;
    throw new KvsError(requested.denial.name, `User: ${caller.accessKeyId} is not authorized to perform: ${requested.action} on resource: ${resource} ${why}`, requested.denial.status);
  }

  /** The ARNs a request acts on; `*` for requests that name none (lists, key management). */
  resourcesOf(refs: ResourceRefs): string[] {
    const { region, accountId } = this.#deps;
    const out: string[] = [];
    if (refs.streamArn !== undefined) {
      out.push(refs.streamArn);
    }
    if (refs.streamName !== undefined) {
      // a stream that does not exist yet (CreateStream) is named by the pattern its ARNs will match
      out.push(this.#deps.streamArnOf(refs.streamName) ?? `arn:aws:kinesisvideo:${region}:${accountId}:stream/${refs.streamName}/*`);
    }
    if (refs.channelArn !== undefined) {
      out.push(refs.channelArn);
    }
    if (refs.channelName !== undefined) {
      out.push(this.#deps.channelArnOf(refs.channelName) ?? `arn:aws:kinesisvideo:${region}:${accountId}:channel/${refs.channelName}/*`);
    }
    if (refs.resourceArn !== undefined) {
      out.push(refs.resourceArn);
    }
    return out.length === 0 ? ['*'] : [...new Set(out)];
  }
}
