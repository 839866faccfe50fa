// Loaded only when tracing is on (`startTracing` imports this module dynamically): everything from
// the OpenTelemetry SDK lives behind this file, so a process with tracing off never loads it.
import type { Context, Span, TextMapPropagator } from '@opentelemetry/api';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { BullMQOtel } from 'bullmq-otel';
import type { StartTracingOptions, TracingSettings } from './startTracing.ts';
import type { SpanHandle, SpanKindName, TraceContext, Tracing } from './Tracing.ts';

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** The instrumentation scope of Tasklane's own spans. */
const TRACER_NAME = 'tasklane';

/**
 * Builds and registers the SDK from `settings` (OpenTelemetry JS 3.x, which reads no environment
 * itself for the tracer provider and the batch processor: `loadConfig` parsed the `OTEL_*`
 * variables). Spans go through one `BatchSpanProcessor` per exporter.
 */
export async function startSdk(settings: TracingSettings, options: StartTracingOptions): Promise<Tracing> {
  const exporters: SpanExporter[] = [];
  for (const name of settings.exporters) exporters.push(name === 'console' ? new ConsoleSpanExporter() : await otlpExporter(settings));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...settings.resourceAttributes,
      'service.name': settings.serviceName ?? options.defaultServiceName,
    }),
    sampler: sampler(settings.sampler),
    spanProcessors: exporters.map(
      (exporter) =>
        new BatchSpanProcessor({
          exporter,
          scheduledDelayMillis: settings.batch.scheduleDelayMs,
          exportTimeoutMillis: settings.batch.exportTimeoutMs,
          maxQueueSize: settings.batch.maxQueueSize,
          maxExportBatchSize: settings.batch.maxExportBatchSize,
        }),
    ),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(propagator(settings.propagators));
  const tracer = provider.getTracer(TRACER_NAME);
  const bullmq = new BullMQOtel({ tracerName: 'bullmq' });

  return {
    enabled: true,
    bullmq,
    inSpan(name, spanOptions, fn) {
      const parent = (spanOptions.parent as Context | undefined) ?? context.active();
      const span = tracer.startSpan(name, { kind: KINDS[spanOptions.kind ?? 'internal'], attributes: defined(spanOptions.attributes) }, parent);
      return context.with(trace.setSpan(parent, span), async () => {
        try {
          return await fn(handle(span));
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          span.recordException(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          span.setAttribute('error.type', err.name || 'Error');
          throw error;
        } finally {
          span.end();
        }
      });
    },
    active: () => context.active() as unknown as TraceContext,
    extract: (headers) => propagation.extract(ROOT_CONTEXT, headers) as unknown as TraceContext,
    inject() {
      if (!trace.getSpan(context.active())) return undefined;
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent ? carrier : undefined;
    },
    jobMetadata: (headers) => bullmq.contextManager.getMetadata(propagation.extract(ROOT_CONTEXT, headers)),
    // Bounded: a collector that accepts and never answers must not hold the process past its
    // shutdown deadline (the exporter's own timeout is OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default).
    // Spans not exported by then are dropped, as the batch processor drops spans past its queue.
    shutdown: () => settleWithin(provider.shutdown(), SHUTDOWN_FLUSH_MS),
  };
}

/** The longest the spans still buffered at shutdown may take to export, in ms. */
export const SHUTDOWN_FLUSH_MS = 1000;

/**
 * Waits for `promise` at most `ms`; rejects as `promise` does, or with a timeout error naming the
 * wait (the promise itself goes on, unobserved).
 */
function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tracing: spans still buffered were not exported within ${ms} ms of shutdown; dropped`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** OTLP over HTTP, JSON or protobuf; the protobuf exporter is loaded only when it is the one asked for. */
async function otlpExporter(settings: TracingSettings): Promise<SpanExporter> {
  const config = { url: settings.otlp.url, headers: { ...settings.otlp.headers }, timeoutMillis: settings.otlp.timeoutMs };
  if (settings.otlp.protocol === 'http/json') return new OtlpJsonExporter(config);
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(config);
}

/** `OTEL_TRACES_SAMPLER` (OTel specification, "General SDK Configuration"). */
function sampler(settings: TracingSettings['sampler']): Sampler {
  switch (settings.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(settings.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) });
  }
}

/** `OTEL_PROPAGATORS`: W3C Trace Context and/or W3C Baggage; none at all when empty. */
function propagator(names: TracingSettings['propagators']): TextMapPropagator {
  return new CompositePropagator({
    propagators: names.map((name) => (name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator())),
  });
}

function handle(span: Span): SpanHandle {
  return {
    setAttributes: (attributes) => span.setAttributes(defined(attributes)),
    updateName: (name) => span.updateName(name),
    fail(errorType, message) {
      span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
      span.setAttribute('error.type', errorType);
    },
  };
}

function defined(attributes: Readonly<Record<string, string | number | boolean | undefined>> | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (attributes) for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}
