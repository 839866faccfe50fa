import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns something other than `undefined`, and returns that. A bounded loop
 * replaces fixed sleeps: the test goes on as soon as the condition holds, and fails with
 * `description` (and the last value seen by `describeLast`) when it never does.
 *
 * @param options.timeoutMs - give up after this long. @defaultValue 30_000 ms
 * @param options.intervalMs - pause between probes. @defaultValue 100 ms
 * @throws Error naming `description` after `timeoutMs`
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; describeLast?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const last = options.describeLast?.();
      throw new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${description}${last ? `\n${last}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
