import type { Db } from '@tasklane/db';
import { countStrandedRuns } from '@tasklane/db';
import { registeredMetric } from '@tasklane/ops';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';

/**
 * Registers `tasklane_outbox_stranded_runs`: queue-lane runs still `queued` in PostgreSQL longer
 * than `afterMs` (OUTBOX_RELAY_AFTER_MS), i.e. waiting for the outbox relay to (re-)enqueue them;
 * counted at scrape time. Non-zero for long means Redis is unreachable or the relay is stuck.
 * When PostgreSQL does not answer, the series is left out of that scrape (and a warning logged).
 */
export function registerStrandedRunsMetric(registry: Registry, deps: { db: Db; afterMs: number; logger: Logger }): void {
  registeredMetric(
    registry,
    'tasklane_outbox_stranded_runs',
    () =>
      new Gauge({
        name: 'tasklane_outbox_stranded_runs',
        help: 'Queue-lane runs queued in PostgreSQL for longer than OUTBOX_RELAY_AFTER_MS, waiting for the outbox relay.',
        registers: [registry],
        async collect() {
          this.reset();
          try {
            this.set(await countStrandedRuns(deps.db, deps.afterMs));
          } catch (error) {
            deps.logger.warn({ err: (error as Error).message }, 'metrics: could not count stranded runs');
          }
        },
      }),
  );
}
