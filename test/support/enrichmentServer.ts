// A stand-in for the external enrichment service (config `ENRICHMENT_URL`), run by the test itself
// so it can fail, stall or never answer on cue. The worker POSTs
// `{ resourceId, resourceVersion, records }`; the test scripts the reply per resource id.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { transformInfo } from '@tasklane/etl';
import type { RecordEssence } from './expectedRecords.ts';

/** How the server answers one call: a status and JSON body, or never (the request hangs until close). */
export type EnrichmentReply = { status: number; body?: unknown } | 'never';

/** One call the server received. */
export interface EnrichmentCall {
  resourceId: string;
  resourceVersion: number;
  /** 1 for the first call about this resource id, 2 for the next, … */
  call: number;
}

export interface EnrichmentServer {
  /** `http://127.0.0.1:<port>/enrich` */
  url: string;
  /** Every call received so far, in arrival order. */
  calls: EnrichmentCall[];
  /** How many calls arrived about `resourceId`. */
  callsFor(resourceId: string): number;
  /**
   * Scripts the replies about `resourceId`: `reply(call)` gets the 1-based call number and may
   * return a promise (the response waits for it). Unscripted ids get {@link DEFAULT_ENRICHMENT}.
   */
  script(resourceId: string, reply: (call: number) => EnrichmentReply | Promise<EnrichmentReply>): void;
  /** Ends hanging requests and stops listening. */
  close(): Promise<void>;
}

/** The body unscripted calls get, with status 200. */
export const DEFAULT_ENRICHMENT = { Source: 'test-enricher', Score: 7, Tags: ['x'] } as const;

/** Starts the server on a free port of 127.0.0.1. */
export async function startEnrichmentServer(): Promise<EnrichmentServer> {
  const calls: EnrichmentCall[] = [];
  const scripts = new Map<string, (call: number) => EnrichmentReply | Promise<EnrichmentReply>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceId: string; resourceVersion: number };
    const call = calls.filter((c) => c.resourceId === input.resourceId).length + 1;
    calls.push({ resourceId: input.resourceId, resourceVersion: input.resourceVersion, call });
    const script = scripts.get(input.resourceId);
    const reply = script ? await script(call) : { status: 200, body: DEFAULT_ENRICHMENT };
    if (reply === 'never' || res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body ?? { error: `status ${reply.status}` }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('enrichment server has no address');

  return {
    url: `http://127.0.0.1:${address.port}/enrich`,
    calls,
    callsFor: (resourceId) => calls.filter((c) => c.resourceId === resourceId).length,
    script: (resourceId, reply) => void scripts.set(resourceId, reply),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A promise with its resolve function, to hold a reply until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The records of a run whose enrichment call answered `body`: the run's own `records` plus the
 * transform of `body` under `@enrichment`, in key order (as the worker's pipeline merges them).
 */
export function withEnrichment(records: readonly RecordEssence[], body: unknown = DEFAULT_ENRICHMENT): RecordEssence[] {
  const extra = transformInfo(JSON.parse(JSON.stringify(body))).map(({ key, value, valueType }) => ({
    key: `@enrichment${key.startsWith('[') ? '' : '.'}${key}`,
    value,
    valueType,
  }));
  return [...records, ...extra].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
