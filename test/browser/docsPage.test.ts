// The docs page in a real browser: Swagger UI, served from the API process itself (no CDN), renders
// the OpenAPI document under the API's security headers. Saved as artifacts/screenshots/api-docs.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApi, type SpawnedService } from '../support/spawnService.ts';
import { uniqueQueuePrefix } from '../support/testQueue.ts';
import { launchChromium, type Browser } from './launchChromium.ts';

describe('the API docs page in headless Chromium', () => {
  let api: SpawnedService & { url: string };
  let browser: Browser | undefined;

  beforeAll(async () => {
    api = await spawnApi({ QUEUE_PREFIX: uniqueQueuePrefix(), API_TOKENS: 'docs-test-token-0123456789' });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('renders every operation of the document with no script or CSP error', { timeout: 90_000 }, async () => {
    browser = await launchChromium();
    const { page } = browser;
    const response = await page.goto(`${api.url}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.swagger-ui .info .title').getByText('Tasklane API').waitFor();
    for (const [method, path] of [
      ['PUT', '/resources/{id}'],
      ['GET', '/etl-runs/stats'],
      ['POST', '/etl-runs/{id}/retry'],
      ['GET', '/readyz'],
    ]) {
      await page.locator(`.opblock-${method!.toLowerCase()}`).filter({ hasText: path! }).first().waitFor();
    }
    // The write shows its lock (bearer auth), and its example body is there to try.
    await page.locator('.opblock-put').filter({ hasText: '/resources/{id}' }).first().click();
    await page.getByText('"uptimeSeconds": 86400').first().waitFor();
    await browser.screenshot('api-docs');
    expect(browser.problems).toEqual([]);
  });
});
