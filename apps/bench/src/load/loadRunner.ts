// The load generator process. runLoad.ts forks it once per bench (`node --import tsx loadRunner.ts`)
// and sends it one LoadSpec at a time over IPC; it runs autocannon (PUT load) or a paced GET probe
// with the spec and answers with a LoadResult. It is its own OS process so the load generator's CPU
// is not the bench's, and the bench process stays idle while it measures.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import autocannon from 'autocannon';
import { createLatencyHistogram, encodeHistogram, percentilesOf, recordMs } from '../measure/histogram.ts';
import type { LoadResult, LoadSpec, RunnerReply, RunnerRequest } from './loadSpec.ts';
import { createRequestPicker } from './requestMix.ts';

const bodyFiles = new Map<string, string[]>();
const running = new Map<number, { stop(): void }>();

process.on('message', (message: RunnerRequest) => {
  if (message.type === 'stop') {
    running.get(message.id)?.stop();
    return;
  }
  runSpec(message.id, message.spec).then(
    (result) => send({ type: 'result', id: message.id, result }),
    (error: unknown) => send({ type: 'error', id: message.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
// The bench went away: so does its load generator.
process.on('disconnect', () => process.exit(0));

function send(reply: RunnerReply): void {
  process.send?.(reply);
}

async function runSpec(id: number, spec: LoadSpec): Promise<LoadResult> {
  if (spec.kind === 'paced-put') return runPacedPuts(id, spec);
  return spec.kind === 'get' ? runPacedGets(id, spec) : runAutocannon(id, spec);
}

/** Epoch milliseconds with sub-millisecond precision. */
const now = () => performance.timeOrigin + performance.now();

/**
 * The cheap-GET probe: one keep-alive connection sending a GET every 1000/overallRate ms. Latency is
 * taken from the moment the request was due, not when it could be sent, so a stalled server shows up
 * in full (no coordinated omission; the wrk2 way). autocannon's rate limit sends each second's
 * requests in one burst, which would leave most of a second unobserved.
 */
async function runPacedGets(id: number, spec: LoadSpec): Promise<LoadResult> {
  const rate = spec.overallRate ?? 100;
  const interval = 1000 / rate;
  const url = new URL(spec.get!.path, spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const histogram = createLatencyHistogram();
  const samples: [number, number][] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let stopped = false;
  running.set(id, { stop: () => (stopped = true) });
  const startedAt = now();
  const endAt = startedAt + spec.durationSec * 1000;
  send({ type: 'started', id, at: Math.round(startedAt) });
  try {
    for (let i = 0; !stopped; i++) {
      const due = startedAt + i * interval;
      if (due >= endAt) break;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const status = await getOnce(url, spec.headers, agent, spec.timeoutSec * 1000).catch(() => 0);
      const latency = now() - due;
      if (status >= 200 && status < 300) {
        ok += 1;
        recordMs(histogram, latency);
        samples.push([due, latency]);
      } else if (status === 0) errors += 1;
      else statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    }
    const elapsedMs = now() - startedAt;
    return {
      ok,
      statusCounts,
      errors,
      timeouts: 0,
      elapsedMs,
      throughput: ok / (elapsedMs / 1000),
      latencyMs: percentilesOf(histogram),
      histogram: encodeHistogram(histogram),
      samples,
    };
  } finally {
    running.delete(id);
    histogram.destroy();
    agent.destroy();
  }
}

/**
 * The open loop of the sustained-capacity round: PUTs of the seeded stream, one due every
 * 1000/overallRate ms, each sent at its due time without waiting for earlier answers (a fixed
 * offered rate, as webhooks arrive), latency from the due time. At most `connections` requests are
 * in flight on keep-alive sockets; later ones queue in the agent, and their wait counts.
 */
async function runPacedPuts(id: number, spec: LoadSpec): Promise<LoadResult> {
  const rate = spec.overallRate ?? 100;
  const interval = 1000 / rate;
  const put = spec.put!;
  const bodies = await readBodies(put.bodiesFile);
  const pick = createRequestPicker(put.mix, put.seed, bodies.length);
  const base = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const histogram = createLatencyHistogram();
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let stopped = false;
  running.set(id, { stop: () => (stopped = true) });
  const inFlight = new Set<Promise<void>>();
  const startedAt = now();
  const endAt = startedAt + spec.durationSec * 1000;
  send({ type: 'started', id, at: Math.round(startedAt) });
  try {
    for (let i = 0; !stopped; i++) {
      const due = startedAt + i * interval;
      if (due >= endAt) break;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const next = pick();
      const path = `/resources/${put.idPrefix}${next.id}?lane=${encodeURIComponent(put.lane)}`;
      const sent = putOnce(base, path, bodies[next.body]!, spec.headers, agent, spec.timeoutSec * 1000)
        .catch(() => 0)
        .then((status) => {
          if (status >= 200 && status < 300) {
            ok += 1;
            recordMs(histogram, now() - due);
          } else if (status === 0) errors += 1;
          else statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        });
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    }
    await Promise.all(inFlight);
    const elapsedMs = now() - startedAt;
    return {
      ok,
      statusCounts,
      errors,
      timeouts: 0,
      elapsedMs,
      throughput: ok / (elapsedMs / 1000),
      latencyMs: percentilesOf(histogram),
      histogram: encodeHistogram(histogram),
    };
  } finally {
    running.delete(id);
    histogram.destroy();
    agent.destroy();
  }
}

function putOnce(base: URL, path: string, body: string, headers: Record<string, string>, agent: http.Agent, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, base), { method: 'PUT', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', reject);
    request.end(body);
  });
}

async function readBodies(file: string): Promise<string[]> {
  let bodies = bodyFiles.get(file);
  if (!bodies) {
    bodies = JSON.parse(await readFile(file, 'utf8')) as string[];
    bodyFiles.set(file, bodies);
  }
  return bodies;
}

function getOnce(url: URL, headers: Record<string, string>, agent: http.Agent, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', reject);
  });
}

async function runAutocannon(id: number, spec: LoadSpec): Promise<LoadResult> {
  const histogram = createLatencyHistogram();
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  const requests = await buildRequests(spec);
  const startedAt = Date.now();
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    const options: autocannon.Options = {
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationSec,
      timeout: spec.timeoutSec,
      headers: spec.headers,
      requests,
    };
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    running.set(id, instance);
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        recordMs(histogram, responseTime);
      } else {
        statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      }
    });
  });
  send({ type: 'started', id, at: startedAt });
  try {
    const summary = await finished;
    const elapsedMs = Date.now() - startedAt;
    return {
      ok,
      statusCounts,
      errors: summary.errors,
      timeouts: summary.timeouts,
      elapsedMs,
      throughput: ok / (elapsedMs / 1000),
      latencyMs: percentilesOf(histogram),
      histogram: encodeHistogram(histogram),
    };
  } finally {
    running.delete(id);
    histogram.destroy();
  }
}

async function buildRequests(spec: LoadSpec): Promise<autocannon.Request[]> {
  const put = spec.put!;
  const all = await readBodies(put.bodiesFile);
  const pick = createRequestPicker(put.mix, put.seed, all.length);
  const lane = encodeURIComponent(put.lane);
  return [
    {
      method: 'PUT',
      // One shared stream for all connections: each request takes the next draw, so the set of
      // writes is the seed's whatever the connection count.
      setupRequest: (request) => {
        const next = pick();
        request.path = `/resources/${put.idPrefix}${next.id}?lane=${lane}`;
        request.body = all[next.body]!;
        return request;
      },
    },
  ];
}
