import type { Db } from '@tasklane/db';
import { countUnpublishedRuns } from '@tasklane/db';
import { registeredMetric } from '@tasklane/ops';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';

/**
 * Registers `tasklane_outbox_stranded_runs`: exactly what the outbox relay would publish now
 * (`countUnpublishedRuns`, the relay's own predicate): unfinished queue-lane runs whose job never
 * reached Redis (or vanished from it), queued longer than `afterMs` (OUTBOX_RELAY_AFTER_MS);
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
        help: 'Unfinished queue-lane runs not published to Redis, queued longer than OUTBOX_RELAY_AFTER_MS: what the outbox relay would publish.',
        registers: [registry],
        async collect() {
          this.reset();
          try {
            this.set(await countUnpublishedRuns(deps.db, deps.afterMs));
          } catch (error) {
            deps.logger.warn({ err: (error as Error).message }, 'metrics: could not count stranded runs');
          }
        },
      }),
  );
}
