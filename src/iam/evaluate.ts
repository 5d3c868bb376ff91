import type { CompiledStatement } from './policy-document.js';

// IAM's evaluation order for one identity's policies: an explicit Deny in any statement wins, otherwise any
// Allow allows, otherwise the request is denied (default deny). A request names one or more resources; each
// must be allowed on its own.

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

export function evaluate(statements: readonly CompiledStatement[], action: string, resources: readonly string[]): Decision {
  let allowedAll = resources.length > 0;
  for (const resource of resources) {
    let allowed = false;
    for (const s of statements) {
      if (!s.matchesAction(action) || !s.matchesResource(resource)) {
        continue;
      }
      if (s.effect === 'Deny') {
        return 'explicit-deny';
      }
      allowed = true;
    }
    allowedAll &&= allowed;
  }
  return allowedAll ? 'allow' : 'implicit-deny';
}
