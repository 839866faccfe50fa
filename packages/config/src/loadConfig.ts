import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { redisAddressList, toRedisSettings, type RedisSettings } from './redisSettings.ts';

/** A boolean from the environment: only `true`/`false`/`1`/`0` are accepted (no "yes", no truthy strings). */
const envBoolean = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const positiveInt = z.coerce.number().int().positive();

/** A comma-separated list from the environment: items trimmed, blanks dropped (`a, b,` → `['a', 'b']`). */
const envList = z.string().transform((list) => list.split(',').map((item) => item.trim()).filter(Boolean));

/** Bearer tokens: at least 16 characters, none containing a comma or whitespace. */
const tokenList = envList.pipe(
  z.array(z.string().min(16, 'each token must be at least 16 characters').regex(/^\S+$/, 'tokens may not contain whitespace')),
);

/** An OpenTelemetry boolean: `true`/`false`, case-insensitive (OTel specification, "Configuration: Environment Variables"). */
const otelBoolean = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['true', 'false']))
  .transform((value) => value === 'true');

/** OTLP over HTTP only: `grpc` would need another exporter and its gRPC stack. */
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], 'supported: http/protobuf, http/json (grpc is not)');

/**
 * A W3C Baggage-style list as OTel uses for `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES`:
 * `key=value,key2=value2`, keys and values percent-decoded.
 */
const keyValueList = z.string().transform((list, ctx) => {
  const pairs: Record<string, string> = {};
  for (const item of list.split(',').map((part) => part.trim()).filter(Boolean)) {
    const at = item.indexOf('=');
    if (at <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected key=value, got ${JSON.stringify(item)}` });
      return z.NEVER;
    }
    try {
      pairs[decodeURIComponent(item.slice(0, at).trim())] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `bad percent-encoding in ${JSON.stringify(item)}` });
      return z.NEVER;
    }
  }
  return pairs;
});

/** The lanes a run can take. `none` is the bench baseline: upsert only, no ETL. */
export const LANES = ['none', 'inline', 'await', 'thread', 'queue'] as const;
export type Lane = (typeof LANES)[number];

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z.string().min(1).default('postgresql://postgres@127.0.0.1:5432/tasklane'),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: positiveInt.default(60_000),
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  // Redis (issue #11): exactly one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS; see redisSettings.ts.
  REDIS_URL: z.string().min(1).optional(),
  REDIS_CLUSTER_NODES: redisAddressList.optional(),
  REDIS_SENTINELS: redisAddressList.optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^\S+$/, 'may not contain whitespace').optional(),
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS: envBoolean.optional(),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  REDIS_TLS_CERT_FILE: z.string().min(1).optional(),
  REDIS_TLS_KEY_FILE: z.string().min(1).optional(),
  REDIS_TLS_SERVERNAME: z.string().min(1).optional(),
  REDIS_CONNECT_TIMEOUT_MS: positiveInt.default(1000),
  ENQUEUE_TIMEOUT_MS: positiveInt.default(1000),
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z0-9_.:-]*\{[A-Za-z0-9_.:-]+\}[A-Za-z0-9_.:-]*$/,
      'must contain a Redis Cluster hash tag, e.g. {tasklane} or myapp:{tasklane}: every BullMQ key starts with the prefix, so the tag keeps all queues in one slot, which BullMQ needs for its multi-key scripts on a Cluster (docs.bullmq.io, "Redis Cluster")',
    )
    .default('{tasklane}'),
  ETL_LANE: z.enum(LANES).default('queue'),
  BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  BODY_THREAD_MIN_BYTES: z.coerce.number().int().min(0).default(64 * 1024),
  JOB_ATTEMPTS: positiveInt.default(5),
  JOB_BACKOFF_MS: positiveInt.default(1000),
  JOB_KEEP_COMPLETED_COUNT: positiveInt.default(1000),
  JOB_KEEP_COMPLETED_AGE_SECONDS: positiveInt.default(3600),
  JOB_KEEP_FAILED_COUNT: positiveInt.default(10000),
  JOB_KEEP_FAILED_AGE_SECONDS: positiveInt.default(7 * 24 * 3600),
  ETL_LANES_ALLOWED: z
    .string()
    .transform((list) => list.split(',').map((lane) => lane.trim()).filter(Boolean))
    .pipe(z.array(z.enum(LANES)).min(1))
    .default([...LANES]),
  IN_PROCESS_CONCURRENCY: positiveInt.default(4),
  IN_PROCESS_QUEUE_LIMIT: z.coerce.number().int().min(0).default(1000),
  IN_PROCESS_OVERFLOW: z.enum(['reject', 'queue']).default('reject'),
  IN_PROCESS_RETRY_AFTER_SECONDS: positiveInt.default(1),
  THREAD_POOL_SIZE: positiveInt.default(availableParallelism()),
  AWAIT_DEFAULT_WAIT_SECONDS: z.coerce.number().min(0).max(600).default(5),
  AWAIT_MAX_WAIT_SECONDS: z.coerce.number().min(0).max(600).default(60),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  SHUTDOWN_HARD_DEADLINE_MS: z.coerce.number().int().min(0).max(5_000).default(2_000),
  STATS_MAX_WINDOW_SECONDS: positiveInt.default(7 * 24 * 3600),
  RUN_INFO_RETENTION_MS: positiveInt.default(24 * 3600 * 1000),
  RUN_RETENTION_MS: positiveInt.default(14 * 24 * 3600 * 1000),
  API_INSTANCE_RETENTION_MS: positiveInt.default(24 * 3600 * 1000),
  RETENTION_INTERVAL_MS: positiveInt.default(60_000),
  RETENTION_BATCH_SIZE: positiveInt.default(1000),
  INSTANCE_HEARTBEAT_MS: positiveInt.default(2000),
  INSTANCE_DEAD_AFTER_MS: positiveInt.default(10_000),
  LOST_RUN_RECOVERY: z.enum(['lost', 'queue']).default('lost'),
  OUTBOX_RELAY_INTERVAL_MS: positiveInt.default(1000),
  OUTBOX_RELAY_AFTER_MS: positiveInt.default(5000),
  OUTBOX_RELAY_BATCH_SIZE: positiveInt.default(500),
  OUTBOX_RELAY_VANISHED_AFTER_MS: positiveInt.default(60_000),
  OUTBOX_RELAY_LEASE_TTL_MS: positiveInt.optional(),
  ENRICHMENT_URL: z.url().optional(),
  ENRICHMENT_TIMEOUT_MS: positiveInt.default(2000),
  WORKER_CONCURRENCY: positiveInt.default(4),
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  WORKER_LOCK_DURATION_MS: positiveInt.default(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  WORKER_DATABASE_RETRY_MAX_MS: positiveInt.default(30_000),
  ETL_TEST_DELAY_MS: z.coerce.number().int().min(0).default(0),
  ETL_TEST_ENABLE: envBoolean.default(false),
  // --- Operations (issue #5) ---
  API_TOKENS: tokenList.default([]),
  API_READ_TOKENS: tokenList.default([]),
  READS_REQUIRE_AUTH: envBoolean.default(false),
  CORS_ORIGINS: envList
    .pipe(z.array(z.union([z.literal('*'), z.url().refine((url) => new URL(url).origin === url, 'must be an origin such as https://app.example.com (no path, no trailing slash)')])))
    .default([]),
  TRUST_PROXY: envBoolean.default(false),
  RATE_LIMIT_WRITES_PER_MINUTE: positiveInt.optional(),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  BOARD_PATH: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /admin/queues (no trailing slash)')
    .default('/admin/queues'),
  BOARD_USERNAME: z.string().regex(/^[^:]+$/, 'may not contain ":"').optional(),
  BOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  BOARD_TOKENS: tokenList.default([]),
  BOARD_READ_ONLY: envBoolean.default(false),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  // --- Tracing (issue #12): the standard OpenTelemetry variables, see `Config.tracing` ---
  OTEL_SDK_DISABLED: otelBoolean.default(false),
  OTEL_TRACES_EXPORTER: envList.pipe(z.array(z.enum(['otlp', 'console', 'none']))).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (OTLP/HTTP)' }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (OTLP/HTTP)' }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList.optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: positiveInt.default(10_000),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_RESOURCE_ATTRIBUTES: keyValueList.optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  OTEL_PROPAGATORS: envList.pipe(z.array(z.enum(['tracecontext', 'baggage', 'none'], 'supported: tracecontext, baggage, none'))).default(['tracecontext', 'baggage']),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).default(5000),
  OTEL_BSP_EXPORT_TIMEOUT: positiveInt.default(30_000),
  OTEL_BSP_MAX_QUEUE_SIZE: positiveInt.default(2048),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: positiveInt.default(512),
});

/** Tasklane's settings, parsed once at a process's edge (see {@link loadConfig}). */
export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly log: {
    readonly level: string;
    /**
     * `LOG_FORMAT`: `json` (pino JSON lines), `pretty` (pino-pretty: coloured, local wall-clock time),
     * or `auto`: pretty when stdout is a terminal and `NODE_ENV` is not `production`, JSON otherwise.
     * @defaultValue 'auto'
     */
    readonly format: 'auto' | 'json' | 'pretty';
  };
  readonly http: {
    readonly host: string;
    /** TCP port; 0 picks a free one. @defaultValue 3000 */
    readonly port: number;
    /** Base URL used in `Location`/`href` when set; otherwise links are root-relative. */
    readonly publicUrl: string | undefined;
    /** Largest accepted request body, in bytes. @defaultValue 1 MiB */
    readonly bodyLimitBytes: number;
    /**
     * PUT bodies of at least this many bytes are parsed and validated in the thread lane's worker
     * threads (`THREAD_POOL_SIZE`), not on the event loop that answers other requests (issue #10);
     * 0 keeps every body on the event loop. @defaultValue 65536 (64 KiB)
     */
    readonly bodyThreadMinBytes: number;
    /**
     * Longest a client may take to send a whole request (headers and body), in ms; past it Node
     * answers 408 and closes the connection (`server.requestTimeout`). Waiting for the response
     * (the `await` lane) does not count. @defaultValue 30000
     */
    readonly requestTimeoutMs: number;
    /** Longest a client may take to send the request headers, in ms (`server.headersTimeout`). @defaultValue 10000 */
    readonly headersTimeoutMs: number;
    /** Origins allowed by CORS (`CORS_ORIGINS`); `*` allows any; empty sends no CORS headers. @defaultValue [] */
    readonly corsOrigins: readonly string[];
    /** Trust `X-Forwarded-*` from a reverse proxy (client IP for the rate limit). @defaultValue false */
    readonly trustProxy: boolean;
    /** Writes (PUT, POST) one client may make per minute; undefined turns the limit off. @defaultValue off */
    readonly rateLimitWritesPerMinute: number | undefined;
  };
  /**
   * Access control of the API (`API_TOKENS`, `API_READ_TOKENS`, `READS_REQUIRE_AUTH`). With no
   * tokens at all the API is open (local use only: the API refuses to start so in production).
   */
  readonly auth: {
    /** Bearer tokens that may read and write. @defaultValue [] */
    readonly writeTokens: readonly string[];
    /** Bearer tokens that may only read (a write with one is a 403). @defaultValue [] */
    readonly readTokens: readonly string[];
    /** Whether GET requests need a token too. @defaultValue false */
    readonly readsRequireAuth: boolean;
  };
  /**
   * Bull Board, the queue dashboard. On only when credentials are configured: basic auth
   * (`BOARD_USERNAME` + `BOARD_PASSWORD`) and/or bearer tokens (`BOARD_TOKENS`).
   */
  readonly board: {
    /** URL path the board is mounted at. @defaultValue '/admin/queues' */
    readonly path: string;
    readonly basicAuth: { readonly username: string; readonly password: string } | undefined;
    readonly tokens: readonly string[];
    /** Read-only board: jobs can be looked at, not retried, removed or added. @defaultValue false */
    readonly readOnly: boolean;
  };
  /** `/metrics`: open when `token` is undefined, else it needs `Authorization: Bearer <token>`. */
  readonly metrics: { readonly token: string | undefined };
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    /** `statement_timeout` of every connection, in ms: PostgreSQL cancels a longer statement. @defaultValue 30000 */
    readonly statementTimeoutMs: number;
    /** `idle_in_transaction_session_timeout`, in ms: a session idle inside a transaction this long is ended. @defaultValue 60000 */
    readonly idleInTransactionTimeoutMs: number;
    /** Longest wait to open a connection or get a free one from the pool, in ms. @defaultValue 5000 */
    readonly connectTimeoutMs: number;
  };
  /** Where Redis is (one node, a Cluster or Sentinel), TLS, ACL user and timeouts: what `createRedisConnection` takes. */
  readonly redis: RedisSettings;
  readonly queue: {
    /**
     * BullMQ key prefix, containing a Redis Cluster hash tag (`{tasklane}`): every key of every
     * queue carries it, so all of them share one slot and BullMQ's multi-key scripts (including
     * those spanning queues, such as flows) run on a Cluster. @defaultValue '{tasklane}'
     */
    readonly prefix: string;
    readonly attempts: number;
    /** First retry delay of the exponential backoff, in ms. */
    readonly backoffMs: number;
    readonly keepCompleted: { readonly count: number; readonly ageSeconds: number };
    readonly keepFailed: { readonly count: number; readonly ageSeconds: number };
  };
  readonly lanes: {
    /** Lane of a write that names none (`ETL_LANE`). @defaultValue 'queue' */
    readonly defaultLane: Lane;
    /** Lanes a request may choose (`ETL_LANES_ALLOWED`, comma-separated). @defaultValue all */
    readonly allowed: readonly Lane[];
    /** Most in-process runs (inline, await, thread) executing at once; more wait in memory. @defaultValue 4 */
    readonly inProcessConcurrency: number;
    /**
     * Most in-process runs (inline, await, thread) waiting in memory for a free slot, per API
     * instance; past it a write gets 503 or, with `inProcessOverflow: 'queue'`, the queue lane.
     * 0 admits only as many runs as execute at once. @defaultValue 1000
     */
    readonly inProcessQueueLimit: number;
    /** What a write past `inProcessQueueLimit` gets: `reject` (503 + Retry-After, nothing written) or `queue` (the queue lane). @defaultValue 'reject' */
    readonly inProcessOverflow: 'reject' | 'queue';
    /** `Retry-After` of that 503, in seconds. @defaultValue 1 */
    readonly inProcessRetryAfterSeconds: number;
    /** Worker threads of the `thread` lane. @defaultValue the cores available */
    readonly threadPoolSize: number;
    /** `await` lane: seconds a request waits when it sends no `Prefer: wait=N`. @defaultValue 5 */
    readonly awaitDefaultWaitSeconds: number;
    /** `await` lane: the longest wait a client may ask for, in seconds. @defaultValue 60 */
    readonly awaitMaxWaitSeconds: number;
  };
  readonly lifecycle: {
    /** On SIGTERM: how long in-flight requests and in-process runs may take to finish, in ms. @defaultValue 10000 */
    readonly shutdownGraceMs: number;
    /**
     * After the grace period (API: `shutdownGraceMs`, worker: `worker.shutdownGraceMs`): how long
     * cancelling work and closing connections may take before the process exits anyway (code 1), in ms.
     * At most 5 s, so every process exits within its grace period plus 5 s whatever is down (issue
     * #9); the default leaves 3 s for a loaded host to deliver the signal and end the process
     * (with 2 s left, a worker on a loaded 2-core host was measured exiting 6.3 s after SIGTERM with a
     * 1 s grace period).
     * @defaultValue 2000
     */
    readonly hardDeadlineMs: number;
    /** How often an API instance proves it is alive, in ms. @defaultValue 2000 */
    readonly heartbeatMs: number;
    /** An instance silent for longer is dead and its unfinished runs are reaped, in ms. @defaultValue 10000 */
    readonly deadAfterMs: number;
    /** Runs of a dead instance: stay `lost` (Task.start's honest outcome) or go to the queue lane. @defaultValue 'lost' */
    readonly lostRunRecovery: 'lost' | 'queue';
  };
  /** Optional enrichment step calling an external HTTP service; off when `url` is undefined. */
  readonly enrichment: { readonly url: string | undefined; readonly timeoutMs: number };
  /** `GET /etl-runs/stats`: the longest window a request may ask for, in seconds (422 beyond). @defaultValue 604800 (7 days) */
  readonly stats: { readonly maxWindowSeconds: number };
  /** Pruning of finished runs and stopped instances, run by one API instance at a time (leader lease `retention`). */
  readonly retention: {
    /** A `succeeded`/`skipped` run's raw `info` is removed this long after it finished, in ms. @defaultValue 86400000 (1 day) */
    readonly runInfoMs: number;
    /** A finished run is deleted this long after it finished (the latest run of each resource is kept), in ms. @defaultValue 1209600000 (14 days) */
    readonly runMs: number;
    /** A stopped or dead API instance's row is deleted this long after it stopped (never while it owns unfinished runs), in ms. @defaultValue 86400000 (1 day) */
    readonly apiInstanceMs: number;
    /** How often retention runs, in ms. @defaultValue 60000 */
    readonly intervalMs: number;
    /** Most rows one retention statement touches. @defaultValue 1000 */
    readonly batchSize: number;
  };
  readonly outboxRelay: {
    /** Pause between the end of one relay pass and the start of the next, in ms. @defaultValue 1000 */
    readonly intervalMs: number;
    /** A queue-lane run whose job never reached Redis is published by the relay once it is this old, in ms. @defaultValue 5000 */
    readonly afterMs: number;
    /** Runs per relay page (one query, one Redis round trip); a pass walks every page. @defaultValue 500 */
    readonly batchSize: number;
    /**
     * A queue-lane run published longer ago than this and still unfinished has its job checked in
     * Redis; when the job no longer exists (Redis restarted empty) the relay publishes it again, in ms.
     * @defaultValue 60000
     */
    readonly vanishedAfterMs: number;
    /**
     * How long the `outbox-relay` leader lease holds without renewal, in ms: when the API instance
     * running the relay dies (its host crashes or is cut off), another instance takes the relay over
     * within this long. The holder renews it before every page, so it must cover one page's work
     * (a Redis call bounded by `ENQUEUE_TIMEOUT_MS` plus two statements); at least 3 ×
     * `ENQUEUE_TIMEOUT_MS`. @defaultValue max(30000, 10 × `ENQUEUE_TIMEOUT_MS`)
     */
    readonly leaseTtlMs: number;
  };
  readonly worker: {
    readonly concurrency: number;
    /** On SIGTERM: how long active jobs may take to finish before the worker exits, in ms. @defaultValue 10000 */
    readonly shutdownGraceMs: number;
    /** BullMQ job lock duration, in ms: a crashed worker's job is stalled after this. @defaultValue 30000 */
    readonly lockDurationMs: number;
    /** BullMQ stalled-job check interval, in ms. @defaultValue 30000 */
    readonly stalledIntervalMs: number;
    /**
     * Longest wait, in ms, before a job deferred by a PostgreSQL outage is tried again (it starts at
     * `JOB_BACKOFF_MS` and doubles; a deferral spends no attempt), and between retries of a failed
     * job's reconciliation with its run. @defaultValue 30000
     */
    readonly databaseRetryMaxMs: number;
    /** The worker's own HTTP server (`/healthz`, `/readyz`, `/metrics`); port 0 picks a free one. @defaultValue 0.0.0.0:3001 */
    readonly http: { readonly host: string; readonly port: number };
  };
  /**
   * Test-only slow step: when `enabled`, every ETL run sleeps `delayMs` before transforming.
   * Enabled by configuration only, never by a request.
   */
  readonly etlTestDelay: { readonly enabled: boolean; readonly delayMs: number };
  /**
   * OpenTelemetry traces (issue #12), from the standard `OTEL_*` variables (OTel specification,
   * "Environment Variable Specification"; only the ones listed in `.env.example` are read). OFF by
   * default: `enabled` when `OTEL_SDK_DISABLED` is not `true` and either `OTEL_TRACES_EXPORTER` names
   * `otlp` or `console`, or it is unset and an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. When off, no SDK is loaded.
   */
  readonly tracing: {
    readonly enabled: boolean;
    /** Where spans go: OTLP over HTTP, and/or stdout (`console`, for debugging). */
    readonly exporters: readonly ('otlp' | 'console')[];
    readonly otlp: {
      /**
       * The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else `OTEL_EXPORTER_OTLP_ENDPOINT`
       * + `/v1/traces` (OTLP/HTTP specification). @defaultValue 'http://localhost:4318/v1/traces'
       */
      readonly url: string;
      /** `http/protobuf` or `http/json` (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`). @defaultValue 'http/protobuf' */
      readonly protocol: 'http/protobuf' | 'http/json';
      /** Extra request headers, e.g. an API key (`OTEL_EXPORTER_OTLP_HEADERS`). @defaultValue {} */
      readonly headers: Readonly<Record<string, string>>;
      /** Deadline of one export request, in ms (`OTEL_EXPORTER_OTLP_TIMEOUT`). @defaultValue 10000 */
      readonly timeoutMs: number;
    };
    /** `service.name` (`OTEL_SERVICE_NAME`). @defaultValue undefined: each process names itself (`tasklane-api`, `tasklane-worker`) */
    readonly serviceName: string | undefined;
    /** More resource attributes (`OTEL_RESOURCE_ATTRIBUTES`). @defaultValue {} */
    readonly resourceAttributes: Readonly<Record<string, string>>;
    /** `OTEL_TRACES_SAMPLER` and its ratio (`OTEL_TRACES_SAMPLER_ARG`, for the `*traceidratio` samplers). @defaultValue parentbased_always_on, ratio 1 */
    readonly sampler: {
      readonly name: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
      readonly ratio: number;
    };
    /** Context propagation formats (`OTEL_PROPAGATORS`); `none` turns propagation off. @defaultValue ['tracecontext', 'baggage'] */
    readonly propagators: readonly ('tracecontext' | 'baggage')[];
    /** The batch span processor (`OTEL_BSP_*`): export every `scheduleDelayMs`, at most `maxExportBatchSize` spans a request, drop past `maxQueueSize`. */
    readonly batch: {
      /** @defaultValue 5000 */
      readonly scheduleDelayMs: number;
      /** @defaultValue 30000 */
      readonly exportTimeoutMs: number;
      /** @defaultValue 2048 */
      readonly maxQueueSize: number;
      /** @defaultValue 512 */
      readonly maxExportBatchSize: number;
    };
  };
}

/** Thrown by {@link loadConfig} when the environment holds an invalid setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
  }
}

/**
 * Parses Tasklane's settings from environment variables (all listed in `.env.example`).
 * Call it once, in a process's `main.ts`; pass the result down.
 *
 * @param env - variables to read. @defaultValue `process.env`
 * @returns a deeply frozen {@link Config}
 * @throws {@link ConfigError} naming every invalid variable
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(blankless);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  if (!e.ETL_LANES_ALLOWED.includes(e.ETL_LANE)) {
    throw new ConfigError([`ETL_LANE: ${e.ETL_LANE} is not in ETL_LANES_ALLOWED (${e.ETL_LANES_ALLOWED.join(',')})`]);
  }
  const crossChecks = [
    e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS && 'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS',
    e.READS_REQUIRE_AUTH && e.API_TOKENS.length + e.API_READ_TOKENS.length === 0 && 'READS_REQUIRE_AUTH: true needs API_TOKENS or API_READ_TOKENS',
    e.API_READ_TOKENS.length > 0 && e.API_TOKENS.length === 0 && 'API_READ_TOKENS: set API_TOKENS too, or writes would be open to anyone',
    (e.BOARD_USERNAME === undefined) !== (e.BOARD_PASSWORD === undefined) && 'BOARD_USERNAME, BOARD_PASSWORD: set both or neither',
    e.OUTBOX_RELAY_LEASE_TTL_MS !== undefined &&
      e.OUTBOX_RELAY_LEASE_TTL_MS < 3 * e.ENQUEUE_TIMEOUT_MS &&
      'OUTBOX_RELAY_LEASE_TTL_MS: must be at least 3 × ENQUEUE_TIMEOUT_MS, or the lease could expire during one relay page',
    e.API_INSTANCE_RETENTION_MS <= e.INSTANCE_DEAD_AFTER_MS &&
      'API_INSTANCE_RETENTION_MS: must exceed INSTANCE_DEAD_AFTER_MS, or a live instance could be taken for a silent one',
  ].filter((issue): issue is string => typeof issue === 'string');
  const redis = toRedisSettings(e);
  crossChecks.push(...redis.issues);
  if (crossChecks.length > 0 || !redis.settings) throw new ConfigError(crossChecks);
  return deepFreeze({
    env: e.NODE_ENV,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.PUBLIC_URL,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      bodyThreadMinBytes: e.BODY_THREAD_MIN_BYTES,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      corsOrigins: e.CORS_ORIGINS,
      trustProxy: e.TRUST_PROXY,
      rateLimitWritesPerMinute: e.RATE_LIMIT_WRITES_PER_MINUTE,
    },
    auth: { writeTokens: e.API_TOKENS, readTokens: e.API_READ_TOKENS, readsRequireAuth: e.READS_REQUIRE_AUTH },
    board: {
      path: e.BOARD_PATH,
      basicAuth: e.BOARD_USERNAME !== undefined && e.BOARD_PASSWORD !== undefined ? { username: e.BOARD_USERNAME, password: e.BOARD_PASSWORD } : undefined,
      tokens: e.BOARD_TOKENS,
      readOnly: e.BOARD_READ_ONLY,
    },
    metrics: { token: e.METRICS_TOKEN },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    },
    redis: redis.settings,
    queue: {
      prefix: e.QUEUE_PREFIX,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      keepCompleted: { count: e.JOB_KEEP_COMPLETED_COUNT, ageSeconds: e.JOB_KEEP_COMPLETED_AGE_SECONDS },
      keepFailed: { count: e.JOB_KEEP_FAILED_COUNT, ageSeconds: e.JOB_KEEP_FAILED_AGE_SECONDS },
    },
    lanes: {
      defaultLane: e.ETL_LANE,
      allowed: e.ETL_LANES_ALLOWED,
      inProcessConcurrency: e.IN_PROCESS_CONCURRENCY,
      inProcessQueueLimit: e.IN_PROCESS_QUEUE_LIMIT,
      inProcessOverflow: e.IN_PROCESS_OVERFLOW,
      inProcessRetryAfterSeconds: e.IN_PROCESS_RETRY_AFTER_SECONDS,
      threadPoolSize: e.THREAD_POOL_SIZE,
      awaitDefaultWaitSeconds: e.AWAIT_DEFAULT_WAIT_SECONDS,
      awaitMaxWaitSeconds: e.AWAIT_MAX_WAIT_SECONDS,
    },
    lifecycle: {
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      hardDeadlineMs: e.SHUTDOWN_HARD_DEADLINE_MS,
      heartbeatMs: e.INSTANCE_HEARTBEAT_MS,
      deadAfterMs: e.INSTANCE_DEAD_AFTER_MS,
      lostRunRecovery: e.LOST_RUN_RECOVERY,
    },
    enrichment: { url: e.ENRICHMENT_URL, timeoutMs: e.ENRICHMENT_TIMEOUT_MS },
    stats: { maxWindowSeconds: e.STATS_MAX_WINDOW_SECONDS },
    retention: {
      runInfoMs: e.RUN_INFO_RETENTION_MS,
      runMs: e.RUN_RETENTION_MS,
      apiInstanceMs: e.API_INSTANCE_RETENTION_MS,
      intervalMs: e.RETENTION_INTERVAL_MS,
      batchSize: e.RETENTION_BATCH_SIZE,
    },
    outboxRelay: {
      intervalMs: e.OUTBOX_RELAY_INTERVAL_MS,
      afterMs: e.OUTBOX_RELAY_AFTER_MS,
      batchSize: e.OUTBOX_RELAY_BATCH_SIZE,
      vanishedAfterMs: e.OUTBOX_RELAY_VANISHED_AFTER_MS,
      leaseTtlMs: e.OUTBOX_RELAY_LEASE_TTL_MS ?? Math.max(30_000, 10 * e.ENQUEUE_TIMEOUT_MS),
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      databaseRetryMaxMs: e.WORKER_DATABASE_RETRY_MAX_MS,
      http: { host: e.WORKER_HTTP_HOST, port: e.WORKER_HTTP_PORT },
    },
    etlTestDelay: { enabled: e.ETL_TEST_ENABLE, delayMs: e.ETL_TEST_DELAY_MS },
    tracing: tracingSettings(e),
  });
}

/** `Config.tracing` from the parsed `OTEL_*` variables (the enabling rule is documented there). */
function tracingSettings(e: z.infer<typeof envSchema>): Config['tracing'] {
  const named = e.OTEL_TRACES_EXPORTER?.filter((name) => name !== 'none') as ('otlp' | 'console')[] | undefined;
  const endpointSet = e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  const exporters = e.OTEL_TRACES_EXPORTER === undefined ? (endpointSet ? (['otlp'] as const) : []) : [...new Set(named)];
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return {
    enabled: !e.OTEL_SDK_DISABLED && exporters.length > 0,
    exporters,
    otlp: {
      url: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base.replace(/\/+$/, '')}/v1/traces`,
      protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      headers: e.OTEL_EXPORTER_OTLP_HEADERS ?? {},
      timeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
    },
    serviceName: e.OTEL_SERVICE_NAME,
    resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES ?? {},
    sampler: { name: e.OTEL_TRACES_SAMPLER, ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1 },
    propagators: e.OTEL_PROPAGATORS.includes('none') ? [] : (e.OTEL_PROPAGATORS.filter((name) => name !== 'none') as ('tracecontext' | 'baggage')[]),
    batch: {
      scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMs: e.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    },
  };
}

/**
 * The Redis settings alone, from the `REDIS_*` variables and `ENQUEUE_TIMEOUT_MS` of `env` (others
 * are ignored): for tools and tests that reach Tasklane's Redis the way its processes do.
 *
 * @param env - e.g. `{ REDIS_URL: 'redis://127.0.0.1:6380' }`. @defaultValue `process.env`
 * @throws {@link ConfigError} naming every invalid or conflicting variable
 */
export function loadRedisSettings(env: Record<string, string | undefined> = process.env): RedisSettings {
  return loadConfig(Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('REDIS_') || name === 'ENQUEUE_TIMEOUT_MS'))).redis;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
