// Issue #9, "What must hold" 7: every request a client can send gets a JSON answer below 500, sent
// over a raw socket because no HTTP client would produce these bytes. The app listens through the
// same `listenServer` as the API process.
import { afterAll, beforeAll, describe } from 'vitest';
import { itAnswersMalformedRequestsWithJson } from '../../../../test/support/malformedRequestCases.ts';
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
