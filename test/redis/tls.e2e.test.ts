// Issue #11, "TLS checked against a redis-server started with a test certificate": a Redis that
// speaks only TLS (`--port 0 --tls-port …`) with a certificate made here by openssl, and an ACL
// user (the `default` user off). The API and the worker, as separate processes, work end to end
// over `rediss://` with that user; a wrong password is a clear start-up error (worker) and a
// readiness failure (API), not a hang.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putResource, request } from '../support/apiClient.ts';
import { createE2eSuite, isErrorLine, storedRecords, waitForRun, type E2eSuite } from '../support/e2eSuite.ts';
import { freePort } from '../support/freePort.ts';
import { spawnRedisServer, type RedisServerProcess } from '../support/redisServer.ts';
import { uniqueResourceId } from '../support/testDb.ts';
import { waitFor } from '../support/waitFor.ts';

const run = promisify(execFile);
const USER = 'tasklane-app';
const PASSWORD = 'tls-acl-password-0451';

/** A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, valid one day), in `dir`. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const at = (name: string) => join(dir, name);
  await run('openssl', ['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '1', '-subj', '/CN=Tasklane test CA']);
  await run('openssl', ['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(at('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.crt'), '-days', '1', '-extfile', at('san.cnf')]);
  return { ca: at('ca.crt'), cert: at('server.crt'), key: at('server.key') };
}

describe('API and worker on a TLS-only Redis with an ACL user', () => {
  let dir: string;
  let server: RedisServerProcess | undefined;
  let suite: E2eSuite;
  let redisEnv: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tasklane-tls-'));
    const certs = await makeCertificates(dir);
    const port = await freePort();
    server = await spawnRedisServer([
      '--port', '0',
      '--tls-port', String(port),
      '--bind', '127.0.0.1',
      '--tls-cert-file', certs.cert,
      '--tls-key-file', certs.key,
      '--tls-ca-cert-file', certs.ca,
      '--tls-auth-clients', 'no',
      '--save', '',
      '--appendonly', 'no',
      '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all',
      '--user', 'default', 'off',
    ]);
    redisEnv = { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_USERNAME: USER, REDIS_PASSWORD: PASSWORD, REDIS_TLS_CA_FILE: certs.ca };
    suite = await createE2eSuite('redis_tls', { redisEnv, env: { ETL_LANE: 'queue' } });
  });
  afterAll(async () => {
    await suite?.close();
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a PUT end to end over rediss:// as the ACL user', async () => {
    const api = await suite.startApi();
    await suite.startWorker();
    const resourceId = uniqueResourceId('tls');
    const put = await putResource(api.url, resourceId, { info: { tls: { on: 'true', port: '6380' } } });
    expect(put.status, put.text).toBe(201);
    expect(put.json.run.dispatched).toBe(true);
    const finished = await waitForRun(suite.db, put.json.run.id, 'to succeed', (r) => r.status === 'succeeded', { timeoutMs: 30_000 });
    expect(finished.status).toBe('succeeded');
    expect(await storedRecords(suite.db, resourceId)).toEqual([
      { key: 'tls.on', value: true, valueType: 'boolean' },
      { key: 'tls.port', value: 6380, valueType: 'integer' },
    ]);
    const ready = await request(api.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks.redis.status).toBe('up');
  });

  it('refuses to start a worker whose password Redis rejects, saying so, instead of waiting for ever', async () => {
    const started = suite.startWorker({ REDIS_PASSWORD: 'not-the-password-1' });
    await expect(started).rejects.toThrow(/exited before it was ready/);
    await expect(started).rejects.toThrow(/refused the credentials \(check REDIS_USERNAME \/ REDIS_PASSWORD/);
  });

  it('keeps an API whose password Redis rejects not ready, with an error line naming the credentials', async () => {
    const api = await suite.startApi({ REDIS_PASSWORD: 'not-the-password-2' });
    let last: unknown;
    await waitFor(
      'the API to log the refused credentials',
      async () => (api.lines.some((line) => isErrorLine(line) && /refused the credentials/.test(line.text)) ? true : undefined),
      { timeoutMs: 15_000, describeLast: () => api.output(20) },
    );
    const ready = await request(api.url, 'GET', '/readyz');
    last = ready.json;
    expect(ready.status, JSON.stringify(last)).toBe(503);
    expect(ready.json.checks.redis.status).toBe('down');
    // The write itself is kept (PostgreSQL), its run waiting for the relay.
    const put = await putResource(api.url, uniqueResourceId('tls-wrong'), { info: { a: 1 } });
    expect(put.status).toBe(201);
    expect(put.json.run.dispatched).toBe(false);
    await api.stop(5000);
  });
});
