import type { Percentiles } from '../measure/histogram.ts';
import type { RequestMix } from './requestMix.ts';

/** What the load runner process is asked to do (written as JSON to a file it reads). */
export interface LoadSpec {
  /** Base URL of the API, e.g. `http://127.0.0.1:4010`. */
  url: string;
  /** Concurrent connections (closed loop: each sends its next request when the last one answered). */
  connections: number;
  /** How long to send, in seconds. */
  durationSec: number;
  /** Headers sent with every request (auth, content type). */
  headers: Record<string, string>;
  /** `get` and `paced-put`: requests per second, evenly spaced. */
  overallRate?: number;
  /** Per-request timeout, in seconds. */
  timeoutSec: number;
  /**
   * `put`: PUT /resources/<idPrefix><id>?lane=<lane> with bodies drawn by the seeded request mix.
   * `get`: GET of one fixed path (the cheap-read probe); every response's send time is returned.
   * `paced-put`: the `put` stream in an open loop: one PUT due every 1000/`overallRate` ms, sent when
   * due whether or not earlier ones were answered, over at most `connections` keep-alive sockets
   * (requests wait for a free socket beyond that); latency counted from when each was due.
   */
  kind: 'put' | 'get' | 'paced-put';
  put?: { lane: string; idPrefix: string; seed: number; mix: RequestMix; bodiesFile: string };
  get?: { path: string };
}

/** What the load runner prints (one JSON line on stdout). */
export interface LoadResult {
  /** Requests answered with 2xx. */
  ok: number;
  /** Answers that were not 2xx, by status. */
  statusCounts: Record<string, number>;
  /** Connection errors (refused, reset) and timeouts. */
  errors: number;
  timeouts: number;
  /** Wall time from the first request to the end, in ms. */
  elapsedMs: number;
  /** 2xx answers per second. */
  throughput: number;
  /** Latency of 2xx answers, from an HdrHistogram (µs resolution); for `get`, measured from when each request was due. */
  latencyMs: Percentiles;
  /** The latency histogram, compressed base64 (HdrHistogram format, µs). */
  histogram: string;
  /** `get` only: [due time (epoch ms), latency ms] of every 2xx answer. */
  samples?: [number, number][];
}

/** Bench → load runner. */
export type RunnerRequest = { type: 'run'; id: number; spec: LoadSpec } | { type: 'stop'; id: number };

/** Load runner → bench. `started` carries the epoch ms at which autocannon began. */
export type RunnerReply =
  | { type: 'started'; id: number; at: number }
  | { type: 'result'; id: number; result: LoadResult }
  | { type: 'error'; id: number; message: string };
