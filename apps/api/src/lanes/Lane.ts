import type { Lane as LaneName } from '@tasklane/config';
import type { EtlRunView } from '@tasklane/db';
import type { InProcessOutcome } from './createInProcessExecutor.ts';

/** What a lane was told about the write whose run it takes. */
export interface DispatchContext {
  requestId: string;
  /** True when an operator retries a failed run: the lane must replace any finished job of it. */
  retry?: boolean;
}

/**
 * Whether a lane took the run now. When not, the run stays `queued` in PostgreSQL (the outbox).
 * In-process lanes also hand back the run's `completion`, which the `await` lane waits on.
 */
export type DispatchResult =
  | { dispatched: true; completion?: Promise<InProcessOutcome> }
  | { dispatched: false; reason: string };

/**
 * A lane: one way of running the ETL of a committed run. Every lane runs the same ETL code and
 * writes the same records; only where and how the work runs differs.
 */
export interface Lane {
  readonly name: LaneName;
  /** Instance id written as the run's owner (in-process lanes); undefined for out-of-process lanes. */
  readonly ownerId?: string;
  /** Hands a committed run to the lane. Must not throw for lane trouble: report it in the result. */
  dispatch(run: EtlRunView, context: DispatchContext): Promise<DispatchResult>;
}
