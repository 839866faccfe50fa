// Issue #9, "What must hold" 7: every request a client can send gets a JSON answer below 500, sent
// over a raw socket because no HTTP client would produce these bytes. The app listens through the
// same `listenServer` as the API process.
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itAnswersMalformedRequestsWithJson } from '../../../../test/support/malformedRequestCases.ts';
import { sendRaw } from '../../../../test/support/rawHttp.ts';
import { listen } from '../../src/listen.ts';
import { startOpsApp, type OpsApp } from './support/startOpsApp.ts';

describe('requests no HTTP client would send, on the API', () => {
  let app: OpsApp;
  beforeAll(async () => {
    app = await startOpsApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  itAnswersMalformedRequestsWithJson(() => app.baseUrl);
});

describe('a request whose body never arrives, on the API’s server', () => {
  it('answers 408 with a JSON body once the request timeout expires', async () => {
    const app = new Koa();
    app.silent = true; // the aborted body read is expected
    app.use(async (ctx) => {
      for await (const _chunk of ctx.req); // waits for a body that does not come
      ctx.body = { never: 'reached' };
    });
    const server = await listen(app, { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const { responses, raw } = await sendRaw(server.url, 'PUT /resources/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"in', { timeoutMs: 10_000 });
      expect(responses.map((r) => r.status), raw.slice(0, 300)).toEqual([408]);
      expect(JSON.parse(responses[0]!.body)).toEqual({ error: { code: 'request_timeout', message: expect.any(String) } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
