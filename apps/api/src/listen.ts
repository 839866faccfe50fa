import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

/**
 * Starts the HTTP server and resolves once it listens.
 * @param options.port - TCP port; 0 picks a free one
 * @returns the server and the URL it serves (`http://127.0.0.1:<port>` when bound to all interfaces)
 */
export async function listen(app: Koa, options: { host: string; port: number }): Promise<Server & { url: string }> {
  const server = app.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return Object.assign(server, { url: `http://${host}:${port}` });
}
