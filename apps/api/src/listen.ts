import { listenServer } from '@tasklane/ops';
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';

/** Where and how the API's HTTP server listens. */
export interface ListenOptions {
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /**
   * Longest a client may take to send a whole request, in ms (`server.requestTimeout`); then Node
   * answers 408 and closes the connection. Time spent waiting for the response does not count.
   * @defaultValue 30000
   */
  requestTimeoutMs?: number;
  /** Longest a client may take to send the request headers, in ms (`server.headersTimeout`). @defaultValue 10000 */
  headersTimeoutMs?: number;
}

/**
 * Starts the HTTP server and resolves once it listens. The request and header timeouts bound how
 * long a slow (or slowloris) client can hold a connection; Node checks them every
 * `connectionsCheckingInterval`, set here to at most 1 s (Node's default is 30 s, too coarse for a
 * 10 s header timeout).
 *
 * @returns the server and the URL it serves (`http://127.0.0.1:<port>` when bound to all interfaces)
 */
export async function listen(app: Koa, options: ListenOptions): Promise<Server & { url: string }> {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer(
    { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))) },
    app.callback(),
  );
  return Object.assign(server, { url: await listenServer(server, options) });
}
