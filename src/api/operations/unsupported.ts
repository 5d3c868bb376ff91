import { KvsError } from '../../errors/codes.js';
import type { OperationTable } from '../operation.js';

// Modelled KVS operations openkvs does not serve (today only the edge agent's). They answer
// UnsupportedOperationException (HTTP 501) with a message saying so, rather than an unknown-path 404 — see
// docs/errors.md.
const UNSUPPORTED: Record<string, string> = {
  '/startEdgeConfigurationUpdate': 'Edge agent operations are not supported by openkvs.',
  '/describeEdgeConfiguration': 'Edge agent operations are not supported by openkvs.',
  '/deleteEdgeConfiguration': 'Edge agent operations are not supported by openkvs.',
  '/listEdgeAgentConfigurations': 'Edge agent operations are not supported by openkvs.',
};

/** Table entries for every unsupported path; `served` lists paths another table already handles. */
export function unsupportedOperations(served: ReadonlySet<string>): OperationTable {
  const table: OperationTable = {};
  for (const [path, message] of Object.entries(UNSUPPORTED)) {
    if (!served.has(path)) {
      table[path] = () => {
        throw new KvsError('UnsupportedOperationException', message);
      };
    }
  }
  return table;
}
