import type { Telemetry } from 'bullmq';

/** Span kinds, as the OpenTelemetry API names them (`SpanKind`), in lower case. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** Span attributes: semantic-convention names (`http.request.method`, `db.system.name`…) or `tasklane.*`. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * An opaque trace context (OpenTelemetry's `Context`): the span a piece of work that runs later, or
 * elsewhere, continues. Take it with {@link Tracing.active} or {@link Tracing.extract}.
 */
export interface TraceContext {
  readonly __traceContext: unique symbol;
}

/** What the code inside a span may tell it. Every method is a no-op when tracing is off. */
export interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
  /** Renames the span, e.g. an HTTP server span once the route is known (`PUT /resources/:id`). */
  updateName(name: string): void;
  /**
   * Marks the span failed without an exception (status ERROR, `error.type`), e.g. a 5xx answered by
   * an error handler. A callback that throws marks its span failed by itself.
   */
  fail(errorType: string, message?: string): void;
}

/** Options of {@link Tracing.inSpan}. */
export interface SpanOptions {
  /** @defaultValue 'internal' */
  kind?: SpanKindName;
  attributes?: SpanAttributes;
  /** The parent. @defaultValue the active context (the span the caller runs in, if any) */
  parent?: TraceContext | undefined;
}

/**
 * Tracing as the code on the write path sees it. Built once per process by `startTracing`; when
 * tracing is off it is {@link TRACING_OFF}, whose `inSpan` only calls its callback, so the hot path
 * pays one function call and no OpenTelemetry code is loaded.
 */
export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /**
   * BullMQ's telemetry (`bullmq-otel`), for the `telemetry` option of a Queue or Worker: producer and
   * consumer spans, linked through the job. @defaultValue undefined when tracing is off
   */
  readonly bullmq: Telemetry | undefined;
  /**
   * Runs `fn` in a new span, a child of `options.parent` or of the active span, made active for
   * everything `fn` awaits; ends the span when `fn` settles. A rejection is recorded on the span
   * (exception event, status ERROR, `error.type`) and passed on.
   */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** The active context, to parent work that starts later (a run waiting in the in-process queue). */
  active(): TraceContext | undefined;
  /**
   * The context an incoming request carries in its headers (`traceparent`, `tracestate`, `baggage`,
   * per `OTEL_PROPAGATORS`; W3C Trace Context). @returns undefined when tracing is off
   */
  extract(headers: Readonly<Record<string, string | string[] | undefined>>): TraceContext | undefined;
  /**
   * The active span as W3C headers (`{ traceparent, tracestate? }`), to store with work another
   * process continues later. @returns undefined when tracing is off or no span is active
   */
  inject(): Record<string, string> | undefined;
  /**
   * BullMQ job metadata (`JobsOptions.telemetry.metadata`) that parents a job's spans to a stored
   * context (what {@link inject} returned): lets the outbox relay publish a job into the trace of
   * the write that created it. @returns undefined when tracing is off
   */
  jobMetadata(headers: Readonly<Record<string, string>>): string | undefined;
  /** Exports the spans still buffered and stops; call once, at shutdown. */
  shutdown(): Promise<void>;
}

const NOOP_SPAN: SpanHandle = {
  setAttributes() {},
  updateName() {},
  fail() {},
};

/** Tracing off: nothing recorded, nothing loaded; `inSpan` calls its callback and returns its promise. */
export const TRACING_OFF: Tracing = Object.freeze({
  enabled: false,
  bullmq: undefined,
  inSpan: <T>(_name: string, _options: SpanOptions, fn: (span: SpanHandle) => Promise<T>) => fn(NOOP_SPAN),
  active: () => undefined,
  extract: () => undefined,
  inject: () => undefined,
  jobMetadata: () => undefined,
  shutdown: async () => {},
});
