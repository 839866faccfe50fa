import type { Lane as LaneName } from '@tasklane/config';
import type { EtlRunView } from '@tasklane/db';
import type { InProcessOutcome, InProcessReservation } from './createInProcessExecutor.ts';

/** What a lane was told about the write whose run it takes. */
export interface DispatchContext {
  requestId: string;
  /** True when an operator retries a failed run: the lane must replace any finished job of it. */
  retry?: boolean;
  /** The room `admit` reserved for this run; the lane takes it over (in-process lanes). */
  reservation?: InProcessReservation;
}

/**
 * Whether a lane can take one more run, asked BEFORE anything is written (issue #9: a write the
 * lane cannot take must leave no row behind). When admitted, `reservation` holds the room until
 * `dispatch` takes it over; the caller releases it if the write fails. When not, `overflow` is the
 * lane that takes the run instead (`IN_PROCESS_OVERFLOW=queue`), or there is none and the write is
 * refused with 503 and `Retry-After: retryAfterSeconds`.
 */
export type Admission =
  | { admitted: true; reservation?: InProcessReservation }
  | { admitted: false; reason: string; retryAfterSeconds: number; overflow?: Lane };

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
  /** Reserves room for one run before it is written; lanes without a bound omit it (always admitted). */
  admit?(): Admission;
  /** Hands a committed run to the lane. Must not throw for lane trouble: report it in the result. */
  dispatch(run: EtlRunView, context: DispatchContext): Promise<DispatchResult>;
}
