import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

/**
 * Flags from the toolchain notes (§Q4/§Q5): headless without GPU or sandbox (root in CI), no background traffic,
 * autoplay without a gesture so a muted <video> starts by itself, and no proxy so everything stays on 127.0.0.1.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-proxy-server',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
];

const ciIsSet = (): boolean => (process.env['CI'] ?? '') !== '';

/**
 * True when browser tests should be skipped: Chromium is absent and CI is unset. Under CI the tests run anyway and
 * launchChromium fails them, because a CI machine without the browser is a broken machine, not a reason to pass.
 */
export function skipWithoutChromium(what: string): boolean {
  if (existsSync(CHROMIUM_PATH) || ciIsSet()) {
    return false;
  }
  const line = '#'.repeat(100);
  process.stderr.write(
    `\n${line}\n#  SKIPPING ${what}: no Chromium at ${CHROMIUM_PATH}.\n` +
      `#  Install it (apt-get install -y chromium) or set CHROMIUM_PATH. With CI set, this is a failure instead.\n${line}\n\n`,
  );
  return true;
}

export async function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is required for browser tests but ${CHROMIUM_PATH} does not exist (CI=${process.env['CI'] ?? ''}). Install it with apt-get install -y chromium.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS, ...extraFlags] });
}

/** Collect the page's console errors and uncaught exceptions, for assertions and for failure messages. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') {
      errors.push(`console.error: ${m.text()}`);
    }
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/**
 * Polls a page expression until it is truthy. page.waitForFunction polls string predicates with eval, which the
 * console's Content-Security-Policy (script-src 'self') forbids; page.evaluate goes through the debugger and is not
 * subject to it.
 */
export async function waitForExpression(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate<unknown>(expression)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${expression}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
