import { createConnection, createServer } from 'node:net';

/**
 * Whether a URL host names this machine, so a missing service may be started here.
 * @param hostname - `URL.hostname` (IPv6 in brackets, as URL gives it, or bare).
 */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === '' || host === 'localhost' || host === '::1' || host === '0.0.0.0' || host.startsWith('127.');
}

/** The address to bind a local service to for a URL host: an IP, since `localhost` may resolve to ::1 first. */
export function bindAddressFor(hostname: string): string {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === '' || host === 'localhost' || host === '0.0.0.0' ? '127.0.0.1' : host;
}

/**
 * What is at a TCP address: `refused` when nothing listens (ECONNREFUSED), `open` when something
 * accepted the connection, `unreachable` on timeout or any other error.
 *
 * @param timeoutMs - how long to wait for the connection. @defaultValue 1000
 */
export function probeTcp(host: string, port: number, timeoutMs = 1000): Promise<'open' | 'refused' | 'unreachable'> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: 'open' | 'refused' | 'unreachable') => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('unreachable'));
    socket.once('connect', () => done('open'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'unreachable'));
  });
}

/** A TCP port nothing listens on at `host` right now, chosen by the OS. */
export function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error(`Could not find a free port on ${host}`))));
    });
  });
}
