import type { Config } from '@tasklane/config';
import type { Tracing } from './Tracing.ts';
import { TRACING_OFF } from './Tracing.ts';

/** Tracing settings: `Config['tracing']`, parsed from the standard `OTEL_*` variables by `loadConfig`. */
export type TracingSettings = Config['tracing'];

/** Options of {@link startTracing}. */
export interface StartTracingOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` is unset, e.g. `tasklane-api`. */
  defaultServiceName: string;
}

/**
 * Starts tracing for this process, or not. When `settings.enabled` is false (the default: see
 * `Config.tracing` for the rule) it returns {@link TRACING_OFF} at once and imports nothing from
 * OpenTelemetry. Otherwise it loads the SDK (`./startSdk.ts`, a dynamic import), registers it as the
 * global tracer provider, context manager (AsyncLocalStorage) and propagator, and returns the
 * {@link Tracing} the write path uses. Call it once, in `main.ts`, before creating BullMQ queues or
 * workers (they take `tracing.bullmq`), and push `tracing.shutdown` so it runs last at shutdown.
 */
export async function startTracing(settings: TracingSettings, options: StartTracingOptions): Promise<Tracing> {
  if (!settings.enabled) return TRACING_OFF;
  const { startSdk } = await import('./startSdk.ts');
  return startSdk(settings, options);
}
