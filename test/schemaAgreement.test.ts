// No tool here can diff schema.prisma against the migrations (shared/PRISMA-OFFLINE.md, point 7),
// so this proves they agree: apply every migration to a fresh database, read its catalog, and
// compare it with the catalog Prisma's datamodel implies. The migrate-deploy tests below check
// that the runner keeps _prisma_migrations exactly as Prisma does.
import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DatabaseSchemaNotEmptyError,
  FailedMigrationsError,
  listMigrations,
  migrateDeploy,
  MigrationApplyError,
  MigrationChecksumMismatchError,
  migrationChecksum,
} from '../packages/db/src/migrate/index.ts';
import { diffSqlCatalogs } from './support/diffSqlCatalogs.ts';
import { expectedSqlCatalog } from './support/expectedSqlCatalog.ts';
import { getDmmfDatamodel, type DmmfDatamodel } from './support/prismaDmmf.ts';
import { createScratchDatabase, type ScratchDatabase } from './support/scratchDatabase.ts';
import { readSqlCatalogAt, type SqlCatalog } from './support/sqlCatalog.ts';

const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url));
const schemaPath = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));
const serverUrl = inject('databaseUrl');

/** Replaces exactly one occurrence, so a case cannot pass because its edit silently missed. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one "${from}" in schema.prisma`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

describe('schema.prisma and prisma/migrations', () => {
  let schemaText: string;
  let migrated: ScratchDatabase;
  let actual: SqlCatalog;

  beforeAll(async () => {
    schemaText = await readFile(schemaPath, 'utf8');
    migrated = await createScratchDatabase(serverUrl, 'schema_agreement');
    await migrateDeploy({ connectionString: migrated.url, migrationsDir });
    actual = await readSqlCatalogAt(migrated.url);
  });
  afterAll(async () => {
    await migrated?.drop();
  });

  it('describe the same enums, tables, columns, keys, indexes and foreign keys', () => {
    const datamodel = getDmmfDatamodel(schemaText);
    const expected = expectedSqlCatalog(datamodel);

    expect(diffSqlCatalogs(expected, actual)).toEqual([]);
    // Guard against a vacuous pass: every model and enum was compared.
    expect(Object.keys(actual.tables).sort()).toEqual(datamodel.models.map((m) => m.dbName ?? m.name).sort());
    expect(Object.keys(actual.enums).sort()).toEqual(datamodel.enums.map((e) => e.dbName ?? e.name).sort());
  });

  // Each case changes schema.prisma (or the datamodel) without a migration; the comparison must say what differs.
  it.each<[string, (schema: string) => string | DmmfDatamodel, string]>([
    [
      'a field added without a migration',
      (s) => replaceOnce(s, '  attempts        Int          @default(0)\n', '  attempts        Int          @default(0)\n  priority        Int          @default(0)\n'),
      'etl_runs.priority: column in schema.prisma only',
    ],
    [
      'a column dropped from the datamodel',
      (s) => {
        const dm = structuredClone(getDmmfDatamodel(s));
        const run = dm.models.find((m) => m.name === 'EtlRun')!;
        run.fields = run.fields.filter((f) => f.name !== 'error');
        return dm;
      },
      'etl_runs.error: column in the migrations only',
    ],
    ['a changed native type', (s) => replaceOnce(s, '  name           String?\n', '  name           String?         @db.VarChar(100)\n'), 'resources.name: type schema.prisma "character varying(100)" vs the migrations "text"'],
    ['a changed timestamp precision', (s) => replaceOnce(s, '@map("written_at") @db.Timestamptz(3)', '@map("written_at") @db.Timestamptz(6)'), 'context_versions.written_at: type'],
    ['a changed default', (s) => replaceOnce(s, '@default(queued)', '@default(running)'), `etl_runs.status: default schema.prisma "'running'" vs the migrations "'queued'"`],
    ['a removed default', (s) => replaceOnce(s, '  version        Int             @default(1)\n', '  version        Int\n'), 'resources.version: default'],
    ['a changed nullability', (s) => replaceOnce(s, '  requestId       String?      @map("request_id")', '  requestId       String       @map("request_id")'), 'etl_runs.request_id: nullable schema.prisma false vs the migrations true'],
    ['a removed index', (s) => replaceOnce(s, '  @@index([status, lane, queuedAt])\n', ''), 'etl_runs index etl_runs_status_lane_queued_at_idx: index in the migrations only'],
    ['a reordered index', (s) => replaceOnce(s, '@@index([status, lane, queuedAt])', '@@index([lane, status, queuedAt])'), 'etl_runs index etl_runs_lane_status_queued_at_idx: index in schema.prisma only'],
    ['a new unique constraint', (s) => replaceOnce(s, '  @@map("context_versions")', '  @@unique([runId])\n  @@map("context_versions")'), 'context_versions index context_versions_run_id_key: index in schema.prisma only'],
    ['a changed referential action', (s) => replaceOnce(s, 'resource        Resource         @relation(fields: [resourceId], references: [id], onDelete: Cascade)', 'resource        Resource         @relation(fields: [resourceId], references: [id], onDelete: Restrict)'), 'context_records foreign key context_records_resource_id_fkey: onDelete schema.prisma "Restrict" vs the migrations "Cascade"'],
    ['a new enum value', (s) => replaceOnce(s, '  skipped\n', '  skipped\n  cancelled\n'), 'enum EtlRunStatus: values'],
    ['a reordered enum', (s) => replaceOnce(s, '  none\n  inline\n', '  inline\n  none\n'), 'enum EtlLane: values'],
    ['a renamed table', (s) => replaceOnce(s, '@@map("context_versions")', '@@map("context_version")'), 'table context_version: in schema.prisma only'],
    ['a changed primary key', (s) => replaceOnce(s, '  @@id([resourceId, key])', '  @@id([key, resourceId])'), 'context_records primary key'],
  ])('reports %s', (_name, change, expectedDiff) => {
    const changed = change(schemaText);
    const datamodel = typeof changed === 'string' ? getDmmfDatamodel(changed) : changed;

    const diffs = diffSqlCatalogs(expectedSqlCatalog(datamodel), actual);

    expect(diffs).toContainEqual(expect.stringContaining(expectedDiff));
  });

  it('reports a migration that schema.prisma does not describe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tasklane-migrations-'));
    const scratch = await createScratchDatabase(serverUrl, 'schema_extra_migration');
    try {
      await cp(migrationsDir, dir, { recursive: true });
      await mkdir(join(dir, '29991231000000_extra'));
      await writeFile(join(dir, '29991231000000_extra', 'migration.sql'), 'ALTER TABLE "etl_runs" ADD COLUMN "priority" INTEGER;\n');
      await migrateDeploy({ connectionString: scratch.url, migrationsDir: dir });

      const diffs = diffSqlCatalogs(expectedSqlCatalog(getDmmfDatamodel(schemaText)), await readSqlCatalogAt(scratch.url));

      expect(diffs).toEqual(['etl_runs.priority: column in the migrations only {"type":"integer","nullable":true,"default":null}']);
    } finally {
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('migrateDeploy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function scratchDatabase(label: string): Promise<ScratchDatabase> {
    const db = await createScratchDatabase(serverUrl, label);
    cleanups.push(() => db.drop());
    return db;
  }

  async function query<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** A copy of prisma/migrations plus extra migrations, for cases that need their own history. */
  async function migrationsWith(extra: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tasklane-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(migrationsDir, dir, { recursive: true });
    for (const [name, sql] of Object.entries(extra)) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'migration.sql'), sql);
    }
    return dir;
  }

  it('applies every migration once and nothing on a second run', async () => {
    const db = await scratchDatabase('deploy_twice');
    const names = (await listMigrations(migrationsDir)).map((m) => m.name);

    const first = await migrateDeploy({ connectionString: db.url, migrationsDir });
    const second = await migrateDeploy({ connectionString: db.url, migrationsDir });

    expect(first).toEqual({ applied: names, alreadyApplied: [] });
    expect(second).toEqual({ applied: [], alreadyApplied: names });
  });

  it('records each migration as Prisma does: sha256 of the file, one step, finished', async () => {
    const db = await scratchDatabase('deploy_records');
    await migrateDeploy({ connectionString: db.url, migrationsDir });

    const rows = await query<{ id: string; checksum: string; migration_name: string; finished_at: Date | null; rolled_back_at: Date | null; logs: string | null; started_at: Date; applied_steps_count: number }>(
      db.url,
      'SELECT * FROM _prisma_migrations ORDER BY started_at',
    );
    const files = await listMigrations(migrationsDir);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const bytes = await readFile(join(migrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(migrationChecksum(bytes));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(files[i]!.name).toBe(row.migration_name);
    }
  });

  it('creates _prisma_migrations with the columns and key Prisma creates', async () => {
    const db = await scratchDatabase('deploy_history_table');
    await migrateDeploy({ connectionString: db.url, migrationsDir });

    const columns = await query<{ column_name: string; type: string; not_null: boolean; default: string | null }>(
      db.url,
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = '_prisma_migrations'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    );
    const primaryKey = await query<{ conname: string }>(db.url, `SELECT conname FROM pg_constraint WHERE conrelid = '_prisma_migrations'::regclass AND contype = 'p'`);

    expect(columns).toEqual([
      { column_name: 'id', type: 'character varying(36)', not_null: true, default: null },
      { column_name: 'checksum', type: 'character varying(64)', not_null: true, default: null },
      { column_name: 'finished_at', type: 'timestamp with time zone', not_null: false, default: null },
      { column_name: 'migration_name', type: 'character varying(255)', not_null: true, default: null },
      { column_name: 'logs', type: 'text', not_null: false, default: null },
      { column_name: 'rolled_back_at', type: 'timestamp with time zone', not_null: false, default: null },
      { column_name: 'started_at', type: 'timestamp with time zone', not_null: true, default: 'now()' },
      { column_name: 'applied_steps_count', type: 'integer', not_null: true, default: '0' },
    ]);
    expect(primaryKey).toEqual([{ conname: '_prisma_migrations_pkey' }]);
  });

  it('refuses to continue when an applied migration file was edited', async () => {
    const db = await scratchDatabase('deploy_tampered');
    await migrateDeploy({ connectionString: db.url, migrationsDir });
    await query(db.url, `UPDATE _prisma_migrations SET checksum = repeat('0', 64)`);

    await expect(migrateDeploy({ connectionString: db.url, migrationsDir })).rejects.toThrow(MigrationChecksumMismatchError);
  });

  it('accepts a migration file whose line endings git changed to CRLF', async () => {
    const db = await scratchDatabase('deploy_crlf');
    await migrateDeploy({ connectionString: db.url, migrationsDir });
    const [first] = await listMigrations(migrationsDir);
    const dir = await migrationsWith({});
    await writeFile(join(dir, first!.name, 'migration.sql'), first!.script.replaceAll('\n', '\r\n'));

    await expect(migrateDeploy({ connectionString: db.url, migrationsDir: dir })).resolves.toMatchObject({ applied: [] });
  });

  it('leaves a failed migration recorded, rolls back its statements, and blocks later deploys', async () => {
    const db = await scratchDatabase('deploy_failure');
    const dir = await migrationsWith({
      '29991231000000_broken': 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n',
    });

    const failure = await migrateDeploy({ connectionString: db.url, migrationsDir: dir }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(MigrationApplyError);
    expect((failure as MigrationApplyError).databaseErrorCode).toBe('42P01');
    const [row] = await query<{ finished_at: Date | null; applied_steps_count: number; logs: string }>(
      db.url,
      `SELECT finished_at, applied_steps_count, logs FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'`,
    );
    expect(row).toMatchObject({ finished_at: null, applied_steps_count: 0 });
    expect(row!.logs).toContain('no_such_table');
    expect(await query(db.url, `SELECT to_regclass('half_done') AS t`)).toEqual([{ t: null }]);
    await expect(migrateDeploy({ connectionString: db.url, migrationsDir: dir })).rejects.toThrow(FailedMigrationsError);
  });

  it('applies each migration once when two deploys race', async () => {
    const db = await scratchDatabase('deploy_race');

    const results = await Promise.all([
      migrateDeploy({ connectionString: db.url, migrationsDir }),
      migrateDeploy({ connectionString: db.url, migrationsDir }),
    ]);

    const names = (await listMigrations(migrationsDir)).map((m) => m.name);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
    const rows = await query<{ count: string }>(db.url, 'SELECT count(*) FROM _prisma_migrations');
    expect(Number(rows[0]!.count)).toBe(names.length);
  });

  it('refuses a database that has tables but no migration history', async () => {
    const db = await scratchDatabase('deploy_not_empty');
    await query(db.url, 'CREATE TABLE "stray" ("id" INTEGER)');

    await expect(migrateDeploy({ connectionString: db.url, migrationsDir })).rejects.toThrow(DatabaseSchemaNotEmptyError);
  });
});
