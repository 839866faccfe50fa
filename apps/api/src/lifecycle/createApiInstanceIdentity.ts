import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ApiInstanceIdentity } from '@tasklane/db';

/**
 * This API process's identity as an instance, which can change: when another instance declares it
 * dead (its heartbeat stalled past `INSTANCE_DEAD_AFTER_MS`, e.g. a blocked event loop), the reaper has
 * taken its runs, so it must stop claiming under that id and register under a new one (issue #9).
 * Read `id` at the moment of use (claims, new runs' owner, logs), never copy it.
 */
export interface CurrentApiInstance extends ApiInstanceIdentity {
  /** The current id, `<hostname>:<pid>:<random>`. */
  readonly id: string;
  /** Replaces the id with a fresh one. @returns the new id */
  renew(): string;
}

/** Creates the identity of this process with a fresh id. */
export function createApiInstanceIdentity(): CurrentApiInstance {
  const host = hostname();
  const fresh = () => `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let id = fresh();
  return {
    get id() {
      return id;
    },
    hostname: host,
    pid: process.pid,
    renew() {
      id = fresh();
      return id;
    },
  };
}
