import { readdir, readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';

/** What {@link measureApiCpuPerPut} measured. */
export interface ApiCpuPerPut {
  /** PUTs answered 200/201 in the window. */
  requests: number;
  /** Answers with any other status (counted, not in `requests`). */
  failed: number;
  /** The API process's CPU (user + system, from `/proc/<pid>/stat`) over the window, in ms. */
  cpuMs: number;
  /** `cpuMs / requests`: the figure issue #10 targets (≤ 0.5 ms per average webhook PUT, lane `none`). */
  cpuMsPerPut: number;
  /** The part of `cpuMsPerPut` spent in the kernel (`stime`: system calls, loopback TCP, pipes). */
  systemMsPerPut: number;
  /**
   * `cpuMsPerPut` by thread name (`/proc/<pid>/task/<tid>/comm`: `node` is the event loop, `V8 DefaultWorke`
   * V8's helpers (concurrent GC, compilers), `libuv-worker` the libuv pool, worker threads by their name),
   * largest first; threads that started or ended inside the window count what was seen at both ends.
   */
  byThread: { name: string; msPerPut: number }[];
  /** Wall time of the window, in ms. */
  wallMs: number;
  /** `requests` per second of wall time. */
  throughput: number;
}

/** Options of {@link measureApiCpuPerPut}. */
export interface ApiCpuPerPutOptions {
  /** Base URL of a running API, e.g. `http://127.0.0.1:3000`. */
  apiUrl: string;
  /** Its process id, whose CPU is read from `/proc/<pid>/stat` (Linux only). */
  apiPid: number;
  /** Bearer token, when the API has access control on. */
  token?: string | undefined;
  /** Request bodies (JSON text), sent in turn; each PUT goes to `/resources/<idPrefix><n>`. */
  bodies: readonly string[];
  /** PUTs to send in the window. */
  requests: number;
  /** Concurrent keep-alive connections. @defaultValue 8 (issue #10's outside check) */
  connections?: number;
  /** Distinct resource ids cycled through (`<idPrefix>0` …). @defaultValue 1000 */
  ids?: number;
  /** @defaultValue `cpu-` */
  idPrefix?: string;
  /** Lane asked for with `Tasklane-Lane`. @defaultValue none (the API then writes and runs no ETL) */
  lane?: string;
  /** Send `GET <path>` instead of PUTs (a floor to compare with, e.g. `/healthz`); `bodies` is then ignored. */
  getPath?: string;
}

/**
 * Measures the API's own CPU per PUT from outside, as issue #10's independent check did: a
 * keep-alive HTTP client (node:http, `connections` sockets, each sending its next PUT when the last
 * is answered) sends `requests` PUTs while the API process's CPU time is read from
 * `/proc/<pid>/stat` (fields 14 utime + 15 stime, in clock ticks of 1/100 s on Linux) before and
 * after. The client runs in this process, so its CPU is not counted.
 *
 * Run a warm-up call first (a fresh API compiles its code as it goes).
 *
 * @throws Error when `/proc/<pid>/stat` cannot be read (not Linux, process gone)
 */
export async function measureApiCpuPerPut(options: ApiCpuPerPutOptions): Promise<ApiCpuPerPut> {
  const connections = options.connections ?? 8;
  const ids = options.ids ?? 1000;
  const idPrefix = options.idPrefix ?? 'cpu-';
  const url = new URL(options.apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Tasklane-Lane': options.lane ?? 'none' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const buffers = options.bodies.map((body) => Buffer.from(body, 'utf8'));
  let next = 0;
  let ok = 0;
  let failed = 0;
  const put = (n: number) =>
    new Promise<number>((resolve, reject) => {
      const body = options.getPath === undefined ? buffers[n % buffers.length]! : Buffer.alloc(0);
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: options.getPath === undefined ? 'PUT' : 'GET',
          path: options.getPath ?? `/resources/${idPrefix}${n % ids}`,
          headers: options.getPath === undefined ? { ...headers, 'Content-Length': String(body.length) } : { Authorization: headers.Authorization ?? '' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const loop = async () => {
    for (let n = next++; n < options.requests; n = next++) {
      const status = await put(n);
      if (status === 200 || status === 201) ok++;
      else failed++;
    }
  };
  const cpuBefore = await readProcessCpu(options.apiPid);
  const threadsBefore = await readThreadCpuMs(options.apiPid);
  const startedAt = performance.now();
  try {
    await Promise.all(Array.from({ length: connections }, loop));
  } finally {
    agent.destroy();
  }
  const wallMs = performance.now() - startedAt;
  const cpuAfter = await readProcessCpu(options.apiPid);
  const threadsAfter = await readThreadCpuMs(options.apiPid);
  const byName = new Map<string, number>();
  for (const [tid, { name, ms }] of threadsAfter) byName.set(name, (byName.get(name) ?? 0) + ms - (threadsBefore.get(tid)?.ms ?? 0));
  const byThread = [...byName]
    .map(([name, ms]) => ({ name, msPerPut: ok === 0 ? Number.NaN : ms / ok }))
    .filter((t) => t.msPerPut > 0)
    .sort((a, b) => b.msPerPut - a.msPerPut);
  const cpuMs = cpuAfter.userMs + cpuAfter.systemMs - cpuBefore.userMs - cpuBefore.systemMs;
  const systemMs = cpuAfter.systemMs - cpuBefore.systemMs;
  return {
    requests: ok,
    failed,
    cpuMs,
    cpuMsPerPut: ok === 0 ? Number.NaN : cpuMs / ok,
    systemMsPerPut: ok === 0 ? Number.NaN : systemMs / ok,
    byThread,
    wallMs,
    throughput: ok / (wallMs / 1000),
  };
}

/**
 * CPU time a process has used so far (user and system, all its threads), in ms, from
 * `/proc/<pid>/stat` (proc(5): fields 14 `utime` and 15 `stime`, in clock ticks; 100 per second on
 * Linux x86-64 and arm64).
 */
export async function readProcessCpu(pid: number): Promise<{ userMs: number; systemMs: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: (Number(fields[11]) * 1000) / 100, systemMs: (Number(fields[12]) * 1000) / 100 };
}

/** CPU time (user + system) of each thread of a process so far, in ms, by thread id, with its name. */
async function readThreadCpuMs(pid: number): Promise<Map<string, { name: string; ms: number }>> {
  const threads = new Map<string, { name: string; ms: number }>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return threads;
}
