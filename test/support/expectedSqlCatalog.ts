// The PostgreSQL catalog that `prisma migrate diff --to-schema-datamodel` would produce for a
// datamodel, derived by hand from Prisma's rules for the postgresql connector (sources cited
// inline). Anything this file does not know how to derive throws, naming the field, so the
// schema-agreement test fails loudly instead of silently skipping a new construct.
import type { DmmfDatamodel, DmmfField, DmmfModel } from './prismaDmmf.ts';
import { normalizeDefault, type ReferentialAction, type SqlCatalog, type SqlIndex, type SqlTable } from './sqlCatalog.ts';

/** PostgreSQL's NAMEDATALEN - 1; Prisma truncates generated names to it (psl `constraint_names.rs`). */
const MAX_IDENTIFIER_BYTES = 63;

/** Column type of each Prisma scalar without a `@db.*` attribute, as format_type() prints it (Prisma docs, "PostgreSQL type mapping"). */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** `@db.*` native types of the postgresql connector → format_type() spelling; `$` is the argument list. */
const NATIVE_TYPES: Record<string, { withArgs: string; withoutArgs: string }> = {
  Text: { withArgs: 'text', withoutArgs: 'text' },
  VarChar: { withArgs: 'character varying($)', withoutArgs: 'character varying' },
  Char: { withArgs: 'character($)', withoutArgs: 'character(1)' },
  Uuid: { withArgs: 'uuid', withoutArgs: 'uuid' },
  SmallInt: { withArgs: 'smallint', withoutArgs: 'smallint' },
  Integer: { withArgs: 'integer', withoutArgs: 'integer' },
  BigInt: { withArgs: 'bigint', withoutArgs: 'bigint' },
  Real: { withArgs: 'real', withoutArgs: 'real' },
  DoublePrecision: { withArgs: 'double precision', withoutArgs: 'double precision' },
  Decimal: { withArgs: 'numeric($)', withoutArgs: 'numeric' },
  Money: { withArgs: 'money', withoutArgs: 'money' },
  Boolean: { withArgs: 'boolean', withoutArgs: 'boolean' },
  Timestamp: { withArgs: 'timestamp($) without time zone', withoutArgs: 'timestamp without time zone' },
  Timestamptz: { withArgs: 'timestamp($) with time zone', withoutArgs: 'timestamp with time zone' },
  Date: { withArgs: 'date', withoutArgs: 'date' },
  Time: { withArgs: 'time($) without time zone', withoutArgs: 'time without time zone' },
  Timetz: { withArgs: 'time($) with time zone', withoutArgs: 'time with time zone' },
  Json: { withArgs: 'json', withoutArgs: 'json' },
  JsonB: { withArgs: 'jsonb', withoutArgs: 'jsonb' },
  ByteA: { withArgs: 'bytea', withoutArgs: 'bytea' },
  Inet: { withArgs: 'inet', withoutArgs: 'inet' },
  Citext: { withArgs: 'citext', withoutArgs: 'citext' },
  Bit: { withArgs: 'bit($)', withoutArgs: 'bit(1)' },
  VarBit: { withArgs: 'bit varying($)', withoutArgs: 'bit varying' },
  Xml: { withArgs: 'xml', withoutArgs: 'xml' },
  Oid: { withArgs: 'oid', withoutArgs: 'oid' },
};

/** Prisma's `@@index(type: …)` values → PostgreSQL access methods. */
const INDEX_METHODS: Record<string, string> = { BTree: 'btree', Hash: 'hash', Gist: 'gist', Gin: 'gin', SpGist: 'spgist', Brin: 'brin' };

/** Defaults computed by Prisma Client, not by the database, so the column has no DEFAULT. */
const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

class UnsupportedConstruct extends Error {
  constructor(where: string, what: string) {
    super(`${where}: cannot derive the SQL for ${what}; extend test/support/expectedSqlCatalog.ts`);
  }
}

/**
 * The catalog Prisma Migrate would create for a datamodel: table/column names after `@@map`/`@map`,
 * column types (native types, enums, lists), nullability, defaults, primary keys, unique and plain
 * indexes with Prisma's default names, and foreign keys with Prisma's default referential actions.
 *
 * @throws Error naming the model and field when the datamodel uses something this derivation does
 *   not cover (multi-schema, full-text indexes, operator classes, custom defaults …).
 */
export function expectedSqlCatalog(datamodel: DmmfDatamodel): SqlCatalog {
  const catalog: SqlCatalog = { enums: {}, tables: {} };
  const enumDbNames = new Map<string, string>();
  const enumValueDbNames = new Map<string, Map<string, string>>();
  for (const e of datamodel.enums) {
    const dbName = e.dbName ?? e.name;
    enumDbNames.set(e.name, dbName);
    enumValueDbNames.set(e.name, new Map(e.values.map((v) => [v.name, v.dbName ?? v.name])));
    catalog.enums[dbName] = e.values.map((v) => v.dbName ?? v.name);
  }
  const models = new Map(datamodel.models.map((m) => [m.name, m]));

  for (const model of datamodel.models) {
    if (model.schema) throw new UnsupportedConstruct(model.name, `@@schema("${model.schema}")`);
    const tableName = tableOf(model);
    const table: SqlTable = { columns: {}, primaryKey: null, indexes: {}, foreignKeys: {}, checks: {} };
    catalog.tables[tableName] = table;

    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const where = `${model.name}.${field.name}`;
      if (field.kind === 'unsupported') throw new UnsupportedConstruct(where, `Unsupported("${field.type}")`);
      const type = columnType(field, where, enumDbNames);
      table.columns[columnOf(field)] = {
        type,
        // Scalar lists are created without NOT NULL by Prisma Migrate.
        nullable: field.isList || !field.isRequired,
        default: normalizeDefault(columnDefault(field, where, type, enumValueDbNames.get(field.type))),
      };
    }

    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = models.get(field.type);
      if (!target) throw new UnsupportedConstruct(`${model.name}.${field.name}`, `a relation to unknown model ${field.type}`);
      const fromFields = field.relationFromFields.map((name) => fieldOf(model, name));
      const columns = fromFields.map(columnOf);
      table.foreignKeys[generatedName(tableName, columns, '_fkey')] = {
        columns,
        referencedTable: tableOf(target),
        referencedColumns: (field.relationToFields ?? []).map((name) => columnOf(fieldOf(target, name))),
        // Prisma's defaults: onDelete SetNull when any scalar of the relation is optional, else
        // Restrict; onUpdate Cascade (docs "Referential actions", section "Referential action defaults").
        onDelete: asAction(field.relationOnDelete ?? (fromFields.some((f) => !f.isRequired) ? 'SetNull' : 'Restrict')),
        onUpdate: asAction(field.relationOnUpdate ?? 'Cascade'),
      };
    }
  }

  for (const index of datamodel.indexes) {
    const model = models.get(index.model);
    if (!model) continue;
    const where = `${model.name} ${index.type} index on (${index.fields.map((f) => f.name).join(', ')})`;
    const tableName = tableOf(model);
    const table = catalog.tables[tableName]!;
    const columnNames = index.fields.map((f) => columnOf(fieldOf(model, f.name)));
    if (index.type === 'fulltext') throw new UnsupportedConstruct(where, '@@fulltext');
    if (index.where) throw new UnsupportedConstruct(where, 'a partial index');
    for (const f of index.fields) {
      if (f.operatorClass) throw new UnsupportedConstruct(where, `operator class ${f.operatorClass}`);
      if (f.length !== undefined) throw new UnsupportedConstruct(where, 'an index length (MySQL only)');
    }
    if (index.type === 'id') {
      table.primaryKey = { name: index.dbName ?? generatedName(tableName, [], '_pkey'), columns: columnNames };
      continue;
    }
    const unique = index.type === 'unique';
    const method = index.algorithm ? INDEX_METHODS[index.algorithm] : 'btree';
    if (!method) throw new UnsupportedConstruct(where, `index type ${index.algorithm}`);
    const sqlIndex: SqlIndex = {
      columns: index.fields.map((f, i) => columnNames[i] + (f.sortOrder === 'desc' ? ' DESC' : '')),
      unique,
      method,
      predicate: null,
    };
    table.indexes[index.dbName ?? generatedName(tableName, columnNames, unique ? '_key' : '_idx')] = sqlIndex;
  }
  return catalog;
}

function tableOf(model: DmmfModel): string {
  return model.dbName ?? model.name;
}

function columnOf(field: DmmfField): string {
  return field.dbName ?? field.name;
}

function fieldOf(model: DmmfModel, name: string): DmmfField {
  const field = model.fields.find((f) => f.name === name);
  if (!field) throw new UnsupportedConstruct(model.name, `a reference to missing field ${name}`);
  return field;
}

/**
 * Prisma's default constraint and index names (psl `constraint_names.rs`): `{table}_pkey`,
 * `{table}_{columns joined by _}_key|_idx|_fkey`, with the part before the suffix cut so the whole
 * name fits in 63 bytes.
 */
export function generatedName(table: string, columns: string[], suffix: '_pkey' | '_key' | '_idx' | '_fkey'): string {
  const stem = columns.length === 0 ? table : `${table}_${columns.join('_')}`;
  const limit = MAX_IDENTIFIER_BYTES - suffix.length;
  const bytes = Buffer.from(stem, 'utf8');
  if (bytes.length < limit) return stem + suffix;
  let cut = limit;
  // Cut on a character boundary, as Prisma's floor_char_boundary does.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString('utf8') + suffix;
}

function columnType(field: DmmfField, where: string, enumDbNames: Map<string, string>): string {
  let base: string;
  if (field.kind === 'enum') {
    const name = enumDbNames.get(field.type);
    if (!name) throw new UnsupportedConstruct(where, `unknown enum ${field.type}`);
    base = quoteIdentifier(name);
  } else if (field.nativeType) {
    const [name, args] = field.nativeType;
    const spelling = NATIVE_TYPES[name];
    if (!spelling) throw new UnsupportedConstruct(where, `@db.${name}`);
    base = args.length ? spelling.withArgs.replace('$', args.join(',')) : spelling.withoutArgs;
  } else {
    const spelling = DEFAULT_TYPES[field.type];
    if (!spelling) throw new UnsupportedConstruct(where, `type ${field.type}`);
    base = spelling;
  }
  return field.isList ? `${base}[]` : base;
}

/** The DEFAULT clause Prisma Migrate writes, before {@link normalizeDefault}. */
function columnDefault(field: DmmfField, where: string, type: string, enumValues: Map<string, string> | undefined): string | null {
  if (!field.hasDefaultValue || field.default === undefined) return null;
  const value = field.default;
  if (Array.isArray(value)) {
    if (value.length === 0) return `ARRAY[]::${type}`;
    throw new UnsupportedConstruct(where, 'a non-empty list default');
  }
  if (typeof value === 'object' && value !== null) {
    switch (value.name) {
      case 'now':
        return 'CURRENT_TIMESTAMP';
      case 'autoincrement':
        return 'autoincrement()';
      case 'dbgenerated':
        if (typeof value.args[0] === 'string') return value.args[0];
        throw new UnsupportedConstruct(where, 'dbgenerated() without an expression');
      default:
        if (CLIENT_SIDE_DEFAULTS.has(value.name)) return null;
        throw new UnsupportedConstruct(where, `@default(${value.name}())`);
    }
  }
  if (field.kind === 'enum') {
    const dbValue = enumValues?.get(String(value));
    if (dbValue === undefined) throw new UnsupportedConstruct(where, `enum default ${String(value)}`);
    return quoteLiteral(dbValue);
  }
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (['Int', 'BigInt', 'Float', 'Decimal'].includes(field.type)) return String(value);
  // PostgreSQL re-renders timestamp and bytea literals in its own format; not needed so far.
  if (field.type === 'DateTime' || field.type === 'Bytes') throw new UnsupportedConstruct(where, `a literal ${field.type} default`);
  return quoteLiteral(String(value));
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier the way format_type() does: only when it is not a plain lower-case name. */
function quoteIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

function asAction(action: string): ReferentialAction {
  if (['Cascade', 'Restrict', 'NoAction', 'SetNull', 'SetDefault'].includes(action)) return action as ReferentialAction;
  throw new Error(`Unknown referential action ${action}`);
}
