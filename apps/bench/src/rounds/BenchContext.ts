import type { TasklaneClient } from '@tasklane/client';
import type { Config } from '@tasklane/config';
import type { Db } from '@tasklane/db';
import type pg from 'pg';
import type { RequestMix } from '../load/requestMix.ts';
import type { LoadGenerator } from '../load/runLoad.ts';
import type { BenchStack } from '../stack/benchStack.ts';

/** What every round of the bench uses. */
export interface BenchContext {
  stack: BenchStack;
  /** The autocannon process. */
  load: LoadGenerator;
  /** `pg` pool on the stack's database, to read run timestamps. */
  pool: pg.Pool;
  /** Prisma client on the stack's database (the same client the worker uses), for the direct loops. */
  db: Db;
  /** Scratch directory for load specs, bodies and pgbench logs. */
  workDir: string;
  /** JSON file holding the corpus PUT bodies (string[]). */
  bodiesFile: string;
  /** The corpus `info` maps as JSON text, in corpus order. */
  infos: string[];
  /**
   * The typed API client (bearer token included) for the setup and verification calls: every API
   * operation outside the measured load, which goes through autocannon and raw `node:http` instead.
   */
  api: TasklaneClient;
  /** Headers of every request of the raw load generators (content type, bearer token). */
  headers: Record<string, string>;
  mix: RequestMix;
  /** Tasklane's deployed defaults (worker concurrency, job options, …), from `loadConfig({})`. */
  defaults: Config;
  log(message: string): void;
}
