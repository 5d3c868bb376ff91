/**
 * A URL as it may appear in a log line: webhook and notification URLs often carry a credential in their user-info or
 * query (`?token=…`), so both are masked; scheme, host and path stay, which is what an operator needs to see.
 */
export function redactUrl(uri: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return '(unparseable URL)';
  }
  if (u.username !== '' || u.password !== '') {
    u.username = 'REDACTED';
    u.password = '';
  }
  const names = [...new Set(u.searchParams.keys())];
  u.search = '';
  return names.length === 0 ? u.href : `${u.href}?${names.map((n) => `${encodeURIComponent(n)}=REDACTED`).join('&')}`;
}
