// Prisma's full DMMF (with native types, defaults, indexes and referential actions) for a
// schema.prisma text. The generated client keeps only a stripped `runtimeDataModel`, and
// `@prisma/internals` is not a dependency, so this loads the schema WebAssembly module that the
// `prisma` CLI package ships (build/prisma_schema_build_bg.wasm, the same code as
// @prisma/prisma-schema-wasm) and calls its `get_dmmf` export, as the CLI's own getDMMF does.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The subset of Prisma's DMMF datamodel (`DMMF.Datamodel`) this project reads. */
export interface DmmfDatamodel {
  enums: DmmfEnum[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}

export interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}

export type DmmfDefault =
  | { name: string; args: unknown[] }
  | string
  | number
  | boolean
  | unknown[];

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: DmmfDefault;
  /** `[name, args]`, e.g. `['VarChar', ['200']]`; null when the field has no `@db.*` attribute. */
  nativeType?: [string, string[]] | null;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  isDefinedOnField: boolean;
  name?: string;
  dbName?: string;
  algorithm?: string;
  clustered?: boolean;
  where?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc'; length?: number; operatorClass?: string }[];
}

// The project compiles without the DOM lib, where the WebAssembly types live; these are the few members used.
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): { module: string; name: string }[] };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface SchemaWasmExports {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: WasmTable;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_realloc(ptr: number, oldSize: number, newSize: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
}

let instance: SchemaWasmExports | undefined;

function schemaWasm(): SchemaWasmExports {
  if (instance) return instance;
  const prismaDir = dirname(createRequire(import.meta.url).resolve('prisma/package.json'));
  const module = new WebAssemblyApi.Module(readFileSync(join(prismaDir, 'build', 'prisma_schema_build_bg.wasm')));
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
  let exports: SchemaWasmExports | undefined;
  const text = (ptr: number, len: number): string =>
    decoder.decode(new Uint8Array(exports!.memory.buffer).subarray(ptr >>> 0, (ptr >>> 0) + len));

  // wasm-bindgen suffixes import names with a hash that changes between Prisma releases, so the
  // imports are matched by prefix; an unknown import means the glue changed and this must be revisited.
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const wanted of WebAssemblyApi.Module.imports(module)) {
    let fn: (...args: number[]) => unknown;
    if (wanted.name.startsWith('__wbg_Error_')) fn = (ptr, len) => new Error(text(ptr!, len!));
    else if (wanted.name.startsWith('__wbg___wbindgen_throw_'))
      fn = (ptr, len) => {
        throw new Error(text(ptr!, len!));
      };
    else if (wanted.name.startsWith('__wbg_set_message_'))
      fn = (ptr, len) => {
        throw new Error(`prisma schema wasm panicked: ${text(ptr!, len!)}`);
      };
    else if (wanted.name === '__wbindgen_init_externref_table')
      fn = () => {
        const table = exports!.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      };
    else throw new Error(`Unknown import ${wanted.module}.${wanted.name} in prisma_schema_build_bg.wasm`);
    (imports[wanted.module] ??= {})[wanted.name] = fn;
  }
  exports = new WebAssemblyApi.Instance(module, imports).exports as unknown as SchemaWasmExports;
  exports.__wbindgen_start();
  instance = exports;
  return exports;
}

/**
 * Prisma's DMMF datamodel for a schema, computed by Prisma's own schema parser.
 * @param schemaText - the content of a schema.prisma file.
 * @throws Error with Prisma's validation message when the schema is invalid.
 */
export function getDmmfDatamodel(schemaText: string): DmmfDatamodel {
  const wasm = schemaWasm();
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: [['schema.prisma', schemaText]], noColor: true }));
  const ptr = wasm.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer).set(input, ptr);
  const [outPtr, outLen, errIndex, isErr] = wasm.get_dmmf(ptr, input.length);
  if (isErr) {
    const error = wasm.__wbindgen_externrefs.get(errIndex) as unknown;
    wasm.__externref_table_dealloc(errIndex);
    throw error instanceof Error ? error : new Error(String(error));
  }
  try {
    const json = new TextDecoder().decode(new Uint8Array(wasm.memory.buffer).subarray(outPtr >>> 0, (outPtr >>> 0) + outLen));
    return (JSON.parse(json) as { datamodel: DmmfDatamodel }).datamodel;
  } finally {
    wasm.__wbindgen_free(outPtr, outLen, 1);
  }
}
