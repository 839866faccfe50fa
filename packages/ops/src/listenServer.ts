import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerMalformedRequests } from './answerMalformedRequests.ts';

/**
 * Starts an HTTP server listening and resolves with the URL it serves once it does. Every server
 * listens through here, so every one answers malformed requests (a target no URL parser reads,
 * oversize headers, bytes that are not HTTP) with a JSON 4xx: see {@link answerMalformedRequests}.
 *
 * @param options.host - interface to bind; `0.0.0.0`/`::` are reported as `127.0.0.1` in the URL
 * @param options.port - TCP port; 0 picks a free one
 * @throws the server's `error` (e.g. EADDRINUSE) when it cannot listen
 */
export async function listenServer(server: Server, options: { host: string; port: number }): Promise<string> {
  answerMalformedRequests(server);
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return `http://${host}:${port}`;
}
