// A loopback port for a test's own server, or one that is sure to refuse connections.
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now: the OS picks a free one, the probe
 * binds it and releases it. Use it for a server the test starts next (a private Redis or
 * PostgreSQL), or as an address that refuses connections (a dependency that is down).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
