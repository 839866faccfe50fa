import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TRACING_OFF } from './Tracing.ts';
import { startTracing } from './startTracing.ts';
import { loadConfig } from '@tasklane/config';

const probe = fileURLToPath(new URL('../test/resolvedModules.ts', import.meta.url));

/** Starts tracing in a fresh Node process from `env`; reports whether it is on and the OpenTelemetry modules it resolved. */
async function startInChild(env: Record<string, string>): Promise<{ enabled: boolean; openTelemetryModules: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe, JSON.stringify(env)], { timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { enabled: boolean; openTelemetryModules: number };
}

describe('startTracing', () => {
  it('is off with no OTEL_* variable, and then resolves no OpenTelemetry module at all', async () => {
    await expect(startInChild({})).resolves.toEqual({ enabled: false, openTelemetryModules: 0 });
  }, 60_000);

  it('loads the SDK only when tracing is on', async () => {
    const on = await startInChild({ OTEL_TRACES_EXPORTER: 'console' });
    expect(on.enabled).toBe(true);
    expect(on.openTelemetryModules).toBeGreaterThan(0);
  }, 60_000);

  it('returns TRACING_OFF when off, whose inSpan only runs its callback', async () => {
    const tracing = await startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracing, {
      defaultServiceName: 'test',
    });
    expect(tracing).toBe(TRACING_OFF);
    expect(tracing.bullmq).toBeUndefined();
    await expect(tracing.inSpan('x', {}, async (span) => (span.setAttributes({ a: 1 }), 42))).resolves.toBe(42);
    await expect(tracing.inSpan('x', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(tracing.extract({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(tracing.inject()).toBeUndefined();
    expect(tracing.jobMetadata({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBeUndefined();
  });
});
