/** Thrown when a Redis operation does not finish within its deadline (Redis down or slow). */
export class RedisDeadlineError extends Error {
  override readonly name = 'RedisDeadlineError';
}

/**
 * Resolves or rejects as `promise` does, or rejects with {@link RedisDeadlineError} after `ms`.
 * BullMQ waits indefinitely for a connection that never became ready; this bounds every call a
 * request or the relay makes. The operation itself may still complete later, which is safe for the
 * idempotent calls it wraps (adds keyed by run id, reads).
 *
 * @param what - names the operation in the error message
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisDeadlineError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
