// IAM's wildcard rule for Action and Resource strings: `*` matches any run of characters (also none, also
// across `/` and `:`), `?` exactly one; everything else literally. Actions compare case-insensitively, as in IAM.

/** Compile a policy pattern once; the returned predicate is what evaluation calls per request. */
export function compileWildcard(pattern: string, caseInsensitive: boolean): (value: string) => boolean {
  if (pattern === '*') {
    return () => true;
  }
  const fold = (s: string): string => (caseInsensitive ? s.toLowerCase() : s);
  let source = '';
  for (const ch of fold(pattern)) {
    source += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 'su');
  return (value) => re.test(fold(value));
}
