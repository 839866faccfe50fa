// Start-up rules of access control, on the real API process: with no API_TOKENS it warns loudly and
// serves; with NODE_ENV=production it refuses to start at all.
import { describe, expect, it } from 'vitest';
import { spawnApi, spawnService } from '../../../../test/support/spawnService.ts';
import { uniqueQueuePrefix } from '../../../../test/support/testQueue.ts';

describe('API start-up without API_TOKENS', () => {
  it('refuses to start when NODE_ENV=production, saying why', async () => {
    const api = spawnService({
      name: 'api',
      entry: 'apps/api/src/main.ts',
      env: { NODE_ENV: 'production', API_TOKENS: '', HOST: '127.0.0.1', PORT: '0', QUEUE_PREFIX: uniqueQueuePrefix() },
      isReady: () => false,
      readyTimeoutMs: 20_000,
    });
    await expect(api).rejects.toThrow(/exited before it was ready \(code 1/);
    await expect(api).rejects.toThrow(/refusing to start: NODE_ENV=production and no API_TOKENS configured/);
  });

  it('starts in development with a loud warning that access control is off', async () => {
    const api = await spawnApi({ NODE_ENV: 'development', API_TOKENS: '', QUEUE_PREFIX: uniqueQueuePrefix() });
    try {
      const warning = api.lines.find((line) => typeof line.msg === 'string' && line.msg.includes('ACCESS CONTROL IS OFF'));
      expect(warning).toMatchObject({ level: 40, accessControl: 'off' });
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('starts in production with API_TOKENS set, access control on', async () => {
    const api = await spawnApi({ NODE_ENV: 'production', API_TOKENS: 'prod-token-0123456789abcdef', QUEUE_PREFIX: uniqueQueuePrefix() });
    try {
      expect(api.lines.some((line) => line.msg === 'access control on: writes need a bearer token')).toBe(true);
      const refused = await fetch(`${api.url}/resources/x`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"info":{}}' });
      expect(refused.status).toBe(401);
    } finally {
      await api.stop();
    }
  });
});
