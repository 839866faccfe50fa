// What a PostgreSQL schema contains, in one comparable shape: read from a live database by
// readSqlCatalog, derived from Prisma's datamodel by expectedSqlCatalog, compared by diffSqlCatalogs.
import pg from 'pg';

/** A schema's tables and enum types, keyed by database name. */
export interface SqlCatalog {
  /** Enum type name → labels in declaration order. */
  enums: Record<string, string[]>;
  tables: Record<string, SqlTable>;
}

export interface SqlTable {
  columns: Record<string, SqlColumn>;
  primaryKey: { name: string; columns: string[] } | null;
  /** Every index except the primary key's, by index name. Unique constraints appear as unique indexes. */
  indexes: Record<string, SqlIndex>;
  /** By constraint name. */
  foreignKeys: Record<string, SqlForeignKey>;
  /** CHECK constraints (name → definition); Prisma never creates any. */
  checks: Record<string, string>;
}

export interface SqlColumn {
  /** As `format_type()` prints it: `character varying(200)`, `timestamp(3) with time zone`, `"EtlLane"`, `text[]`. */
  type: string;
  nullable: boolean;
  /** Normalised by {@link normalizeDefault}; null when the column has no default. */
  default: string | null;
}

export interface SqlIndex {
  /** Column names, each followed by ` DESC` when descending; expressions as PostgreSQL prints them. */
  columns: string[];
  unique: boolean;
  /** Access method: `btree`, `hash`, `gin`, `gist`, `spgist`, `brin`. */
  method: string;
  /** Partial-index predicate, or null. */
  predicate: string | null;
}

/** Referential actions use Prisma's names so messages read the same on both sides. */
export type ReferentialAction = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault';

export interface SqlForeignKey {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

const ACTIONS: Record<string, ReferentialAction> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

/**
 * Puts a column default into one canonical spelling so that what PostgreSQL stores
 * (`'queued'::"EtlRunStatus"`, `'-3'::bigint`, `nextval('t_id_seq'::regclass)`) compares equal to
 * what Prisma's datamodel says (`queued`, `-3`, `autoincrement()`): literal casts are dropped and
 * serial sequences become `autoincrement()`.
 */
export function normalizeDefault(expression: string | null): string | null {
  if (expression === null) return null;
  const trimmed = expression.trim();
  if (/^nextval\('[^']+'::regclass\)$/.test(trimmed)) return 'autoincrement()';
  const literal = /^'((?:[^']|'')*)'::[\w\s".]+(?:\(\d+(?:,\s*\d+)?\))?$/.exec(trimmed);
  if (literal) {
    const value = literal[1]!;
    return /^-?\d+(\.\d+)?$/.test(value) ? value : `'${value}'`;
  }
  return trimmed;
}

/**
 * Reads tables, columns, enum types, primary keys, indexes, foreign keys and check constraints of
 * one schema from pg_catalog. `_prisma_migrations` is left out: it is migration bookkeeping, not
 * part of the datamodel.
 *
 * @param client - a connected client on the database to read.
 * @param schema - the PostgreSQL schema; Prisma's default is `public`.
 */
export async function readSqlCatalog(client: pg.ClientBase, schema = 'public'): Promise<SqlCatalog> {
  const catalog: SqlCatalog = { enums: {}, tables: {} };

  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  for (const row of enums.rows) catalog.enums[row.name] = row.labels;

  const columns = await client.query<{ table_name: string; column_name: string; type: string; not_null: boolean; default: string | null }>(
    `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const table = (name: string): SqlTable =>
    (catalog.tables[name] ??= { columns: {}, primaryKey: null, indexes: {}, foreignKeys: {}, checks: {} });
  for (const row of columns.rows) {
    table(row.table_name).columns[row.column_name] = {
      type: row.type,
      nullable: !row.not_null,
      default: normalizeDefault(row.default),
    };
  }

  const indexes = await client.query<{
    table_name: string;
    index_name: string;
    is_primary: boolean;
    is_unique: boolean;
    method: string;
    predicate: string | null;
    columns: string[];
  }>(
    `SELECT t.relname AS table_name, i.relname AS index_name, x.indisprimary AS is_primary, x.indisunique AS is_unique,
            am.amname AS method, pg_get_expr(x.indpred, x.indrelid) AS predicate,
            ARRAY(
              SELECT pg_get_indexdef(x.indexrelid, k.n::int, true)
                     || CASE WHEN (x.indoption[k.n - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                FROM generate_series(1, x.indnkeyatts) AS k(n) ORDER BY k.n
            ) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = $1 AND t.relname <> '_prisma_migrations'`,
    [schema],
  );
  for (const row of indexes.rows) {
    // pg_get_indexdef quotes identifiers that need it; Prisma's names are compared unquoted.
    const cols = row.columns.map(unquoteIdentifier);
    if (row.is_primary) table(row.table_name).primaryKey = { name: row.index_name, columns: cols };
    else {
      table(row.table_name).indexes[row.index_name] = {
        columns: cols,
        unique: row.is_unique,
        method: row.method,
        predicate: row.predicate,
      };
    }
  }

  const constraints = await client.query<{
    table_name: string;
    name: string;
    type: 'f' | 'c';
    definition: string;
    columns: string[] | null;
    referenced_table: string | null;
    referenced_columns: string[] | null;
    on_delete: string;
    on_update: string;
  }>(
    `SELECT t.relname AS table_name, con.conname AS name, con.contype AS type, pg_get_constraintdef(con.oid) AS definition,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            rt.relname AS referenced_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS referenced_columns,
            con.confdeltype AS on_delete, con.confupdtype AS on_update
       FROM pg_constraint con
       JOIN pg_class t ON t.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_class rt ON rt.oid = con.confrelid
      WHERE n.nspname = $1 AND con.contype IN ('f', 'c') AND t.relname <> '_prisma_migrations'`,
    [schema],
  );
  for (const row of constraints.rows) {
    if (row.type === 'c') {
      table(row.table_name).checks[row.name] = row.definition;
      continue;
    }
    table(row.table_name).foreignKeys[row.name] = {
      columns: row.columns ?? [],
      referencedTable: row.referenced_table ?? '?',
      referencedColumns: row.referenced_columns ?? [],
      onDelete: ACTIONS[row.on_delete] ?? 'NoAction',
      onUpdate: ACTIONS[row.on_update] ?? 'NoAction',
    };
  }
  return catalog;
}

/** Connects, reads the catalog of the URL's database, disconnects. */
export async function readSqlCatalogAt(connectionString: string, schema = 'public'): Promise<SqlCatalog> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await readSqlCatalog(client, schema);
  } finally {
    await client.end();
  }
}

function unquoteIdentifier(text: string): string {
  return text.replace(/^"((?:[^"]|"")*)"( DESC)?$/, (_m, name: string, desc: string | undefined) => name.replaceAll('""', '"') + (desc ?? ''));
}
