import type { SqlCatalog, SqlTable } from './sqlCatalog.ts';

const EXPECTED = 'schema.prisma';
const ACTUAL = 'the migrations';

/**
 * Every difference between the catalog schema.prisma implies and the one the migrations built, one
 * readable line each, sorted; empty when they agree. Covers enum types and their value order, tables,
 * columns (type, nullability, default), primary keys, indexes (name, columns and order, uniqueness,
 * method, predicate), foreign keys (columns, referenced table and columns, ON DELETE / ON UPDATE)
 * and CHECK constraints.
 */
export function diffSqlCatalogs(expected: SqlCatalog, actual: SqlCatalog): string[] {
  const diffs: string[] = [];

  for (const name of union(expected.enums, actual.enums)) {
    const want = expected.enums[name];
    const got = actual.enums[name];
    if (!got) diffs.push(`enum ${name}: in ${EXPECTED} only`);
    else if (!want) diffs.push(`enum ${name}: in ${ACTUAL} only`);
    else if (!sameJson(want, got)) diffs.push(`enum ${name}: values ${EXPECTED} [${want.join(', ')}] vs ${ACTUAL} [${got.join(', ')}]`);
  }

  for (const name of union(expected.tables, actual.tables)) {
    const want = expected.tables[name];
    const got = actual.tables[name];
    if (!got) diffs.push(`table ${name}: in ${EXPECTED} only (no migration creates it)`);
    else if (!want) diffs.push(`table ${name}: in ${ACTUAL} only (no model maps to it)`);
    else diffs.push(...diffTables(name, want, got));
  }
  return diffs.sort();
}

function diffTables(table: string, want: SqlTable, got: SqlTable): string[] {
  const diffs: string[] = [];
  diffs.push(...diffMembers(`${table}.`, 'column', want.columns, got.columns));
  if (!sameJson(want.primaryKey, got.primaryKey)) {
    diffs.push(`${table} primary key: ${EXPECTED} ${describe(want.primaryKey)} vs ${ACTUAL} ${describe(got.primaryKey)}`);
  }
  diffs.push(...diffMembers(`${table} `, 'index', want.indexes, got.indexes));
  diffs.push(...diffMembers(`${table} `, 'foreign key', want.foreignKeys, got.foreignKeys));
  diffs.push(...diffMembers(`${table} `, 'check constraint', want.checks, got.checks));
  return diffs;
}

/** Compares two maps of named things property by property. */
function diffMembers<T>(prefix: string, kind: string, want: Record<string, T>, got: Record<string, T>): string[] {
  const diffs: string[] = [];
  for (const name of union(want, got)) {
    const w = want[name];
    const g = got[name];
    if (g === undefined) diffs.push(`${prefix}${kind === 'column' ? '' : `${kind} `}${name}: ${kind} in ${EXPECTED} only ${describe(w)}`);
    else if (w === undefined) diffs.push(`${prefix}${kind === 'column' ? '' : `${kind} `}${name}: ${kind} in ${ACTUAL} only ${describe(g)}`);
    else if (typeof w !== 'object' || w === null) {
      if (!sameJson(w, g)) diffs.push(`${prefix}${kind} ${name}: ${EXPECTED} ${describe(w)} vs ${ACTUAL} ${describe(g)}`);
    } else {
      for (const key of union(w as Record<string, unknown>, g as Record<string, unknown>)) {
        const wv = (w as Record<string, unknown>)[key];
        const gv = (g as Record<string, unknown>)[key];
        if (!sameJson(wv, gv)) {
          diffs.push(`${prefix}${kind === 'column' ? '' : `${kind} `}${name}: ${key} ${EXPECTED} ${describe(wv)} vs ${ACTUAL} ${describe(gv)}`);
        }
      }
    }
  }
  return diffs;
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}
