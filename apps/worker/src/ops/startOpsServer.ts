import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readiness } from '@tasklane/ops';
import { createSecretMatcher, listenServer, readAuthorization } from '@tasklane/ops';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What the worker's HTTP server answers with. */
export interface OpsServerOptions {
  host: string;
  /** TCP port; 0 picks a free one (config `WORKER_HTTP_PORT`). */
  port: number;
  /** Probes the worker's dependencies for `/readyz`. */
  checkReadiness(): Promise<Readiness>;
  registry: Registry;
  /** When set, `/metrics` needs `Authorization: Bearer <metricsToken>` (config `METRICS_TOKEN`). @defaultValue open */
  metricsToken?: string | undefined;
  logger: Logger;
}

/** A listening ops server. */
export interface OpsServer {
  /** `http://<host>:<port>`, with 127.0.0.1 for a wildcard host. */
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's small HTTP server, for orchestrators and Prometheus; the same contract as the API's:
 * - `GET /healthz` — 200 `{ "status": "ok" }` while the process answers;
 * - `GET /readyz` — 200 `{ "status": "ready", checks }` when every dependency is up, else 503 with
 *   `"not_ready"`; each check is `{ status: "up"|"down", latencyMs }`, never an error text;
 * - `GET /metrics` — Prometheus text format from `registry`, open or behind `metricsToken`.
 * Anything else is a 404, a method other than GET/HEAD a 405, both in the API's error body. Plain
 * `node:http`: three read-only routes do not warrant a framework in the worker.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const metricsTokens = createSecretMatcher(options.metricsToken ? [options.metricsToken] : []);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'method not allowed; use GET, HEAD', { Allow: 'GET, HEAD' });
    if (path === '/healthz') return send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      const readiness = await options.checkReadiness();
      return send(res, readiness.ready ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks }));
    }
    const presented = readAuthorization(req.headers.authorization);
    if (metricsTokens.size > 0 && (presented.scheme !== 'bearer' || !metricsTokens.match(presented.token))) {
      return sendError(res, 401, 'unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN>', { 'WWW-Authenticate': 'Bearer realm="tasklane-metrics"' });
    }
    return send(res, 200, options.registry.contentType, await options.registry.metrics());
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error({ err, url: req.url }, 'ops request failed');
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'internal server error');
      else res.destroy();
    });
  });
  const url = await listenServer(server, options);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: { code, message } }), headers);
}
