// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by .ci/run), driven
// by playwright-core (no browser download, ever), with a fresh profile per launch.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Where the browser tests save their screenshots: `artifacts/screenshots/` at the repository root
 * (git-ignored; .ci/run prints the path so CI can keep them as artifacts).
 */
export const SCREENSHOT_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'artifacts/screenshots');

/** Hosts a page may send requests to: this machine only. */
const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** URL schemes whose content never leaves the page. */
const IN_PAGE_PROTOCOLS: ReadonlySet<string> = new Set(['data:', 'blob:', 'about:']);

/** A browser context on a fresh profile, and every console message and page error it saw. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console messages of type error/warning and uncaught page errors, as text. */
  problems: string[];
  /** Every URL the page requested (blocked ones included), in order. */
  requests: string[];
  /** The requested URLs whose host is not this machine (`data:`, `blob:` and `about:` URLs stay in the page). */
  remoteRequests(): string[];
  /**
   * Saves a full-page screenshot as `artifacts/screenshots/<name>.png`.
   * @returns the file's absolute path
   */
  screenshot(name: string): Promise<string>;
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
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  return {
    context,
    page,
    problems,
    requests,
    remoteRequests: () =>
      requests.filter((url) => {
        const { protocol, hostname } = new URL(url);
        return !IN_PAGE_PROTOCOLS.has(protocol) && !LOCAL_HOSTS.has(hostname);
      }),
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
