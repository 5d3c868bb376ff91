import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/util/redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['https://hooks.example.com/in?token=s3cr3t&x=1', 'https://hooks.example.com/in?token=REDACTED&x=REDACTED'],
    ['http://user:pa55@127.0.0.1:9000/n', 'http://REDACTED@127.0.0.1:9000/n'],
    ['https://example.com/plain/path', 'https://example.com/plain/path'],
    ['not a url s3cr3t', '(unparseable URL)'],
  ])('%s → %s', (uri, logged) => {
    expect(redactUrl(uri)).toBe(logged);
    expect(redactUrl(uri)).not.toMatch(/s3cr3t|pa55/);
  });
});
