export { TRACING_OFF } from './Tracing.ts';
export type { SpanAttributes, SpanHandle, SpanKindName, SpanOptions, TraceContext, Tracing } from './Tracing.ts';
export { startTracing } from './startTracing.ts';
export type { StartTracingOptions, TracingSettings } from './startTracing.ts';
