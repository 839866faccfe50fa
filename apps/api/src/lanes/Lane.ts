import type { Lane as LaneName } from '@tasklane/config';
import type { EtlRunView } from '@tasklane/db';

/** What a lane was told about the write whose run it takes. */
export interface DispatchContext {
  requestId: string;
}

/** Whether a lane took the run now. When not, the run stays `queued` in PostgreSQL (the outbox). */
export type DispatchResult = { dispatched: true } | { dispatched: false; reason: string };

/**
 * A lane: one way of running the ETL of a committed run. Every lane runs the same ETL code and
 * writes the same records; only where and how the work runs differs.
 */
export interface Lane {
  readonly name: LaneName;
  /** Hands a committed run to the lane. Must not throw for lane trouble: report it in the result. */
  dispatch(run: EtlRunView, context: DispatchContext): Promise<DispatchResult>;
  /** Stops the lane (drains in-process work within its grace period). */
  close?(): Promise<void>;
}
