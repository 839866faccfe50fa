// Run as `node --import tsx resolvedModules.ts '<env as JSON>'` by startTracing.test.ts: starts
// tracing from that environment and prints whether it is on and how many OpenTelemetry modules
// (`@opentelemetry/*`, `bullmq-otel`) the process resolved, counted by a module resolve hook.
import { registerHooks } from 'node:module';

const resolved: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    resolved.push(result.url);
    return result;
  },
});
const { loadConfig } = await import('@tasklane/config');
const { startTracing } = await import('@tasklane/tracing');
const tracing = await startTracing(loadConfig(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>).tracing, { defaultServiceName: 'probe' });
const openTelemetryModules = resolved.filter((url) => url.includes('/@opentelemetry/') || url.includes('/bullmq-otel/')).length;
console.log(JSON.stringify({ enabled: tracing.enabled, openTelemetryModules }));
await tracing.shutdown();
