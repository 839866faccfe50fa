// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by .ci/run), driven
// by playwright-core (no browser download, ever), with a fresh profile per launch.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** A browser context on a fresh profile, and every console message and page error it saw. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console messages of type error/warning and uncaught page errors, as text. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a new user-data-dir (removed on close). Flags: no sandbox (CI runs
 * as root), no GPU, and nothing that reaches out on its own (QUIC, background networking, component
 * updates, sync), since the machines have no network beyond the package registries.
 *
 * @param options.httpCredentials - answered to HTTP basic-auth challenges (Bull Board's login)
 * @throws Error when /usr/bin/chromium is missing (`apt-get install chromium`, as .ci/run does)
 */
export async function launchChromium(options: { httpCredentials?: { username: string; password: string } } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  const profile = mkdtempSync(join(tmpdir(), 'tasklane-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
    ...(options.httpCredentials ? { httpCredentials: options.httpCredentials } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
