// Static checks of the container setup: docker-compose.yml against the Compose Specification JSON
// schema (as shipped by dclint), and the contracts between docker-compose.yml, Dockerfile,
// .env.example, packages/config/src/loadConfig.ts and the commands that the containers run. Pure
// file reads; no services. scripts/dockerE2e.sh runs the same files on a real Docker engine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../packages/config/src/loadConfig.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// The files, parsed once.

interface PackageJson {
  name: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
  packageManager?: string;
  bin?: string | Record<string, string>;
  engines?: { node?: string };
}

interface ComposeService {
  image?: string;
  build?: { context?: string; target?: string; args?: Record<string, string> };
  command?: string | string[];
  init?: boolean;
  container_name?: string;
  ports?: unknown[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
}

const composeText = read('docker-compose.yml');
/** The compose file as written, YAML merge keys (`<<:`) resolved as Compose does. */
const compose = parseYaml(composeText, { merge: true }) as { name?: string; services: Record<string, ComposeService> };
const dockerfile = parseDockerfile(read('Dockerfile'));
const envExample = parseEnvFile(read('.env.example'));
/** The heading of .env.example's last section: variables docker-compose.yml reads, the processes do not. */
const COMPOSE_ONLY_HEADING = '# --- Docker Compose only';
const composeOnlyVariables = parseEnvFile(read('.env.example').split(COMPOSE_ONLY_HEADING)[1] ?? '');
const configKeys = envSchemaKeys(read('packages/config/src/loadConfig.ts'));
const rootPackage = JSON.parse(read('package.json')) as PackageJson;
const workspaces = listWorkspaces(rootPackage);

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema once ${VAR} interpolation is applied', () => {
    const schemaPath = join(dirname(createRequire(import.meta.url).resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft-07/schema');
    // Ajv knows draft-07 by its canonical id only (http, trailing #). Strict mode stays on, except
    // the two looseness rules the Compose schema itself breaks (union types, untyped object keywords).
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
    const validate = ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
    const valid = validate(interpolate(compose, {}));
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has no top-level `version:` key (obsolete in the Compose Specification)', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('has no top-level `name:` key, which Debian’s docker-compose 1.29 rejects (issue #11)', () => {
    expect(compose).not.toHaveProperty('name');
  });

  it('takes every image as a variable whose default is the official image (issue #11: stand-ins where pulls fail)', () => {
    expect(compose.services.postgres?.image).toBe('${POSTGRES_IMAGE:-postgres:15-bookworm}');
    expect(compose.services.redis?.image).toBe('${REDIS_IMAGE:-redis:7-bookworm}');
    const nodeImageDefault = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile.text)?.[1];
    expect(nodeImageDefault).toBe('node:24-bookworm-slim');
    for (const name of ['migrate', 'api', 'worker']) {
      expect(compose.services[name]?.build?.args?.NODE_IMAGE, name).toBe(`\${NODE_IMAGE:-${nodeImageDefault}}`);
    }
    expect([...composeOnlyVariables.keys()].sort()).toEqual(['API_HOST_PORT', 'NODE_IMAGE', 'POSTGRES_IMAGE', 'REDIS_IMAGE']);
  });

  it('runs node itself in every Tasklane container, under init: no npm or shell between PID 1 and node (issue #11)', () => {
    const ignored = read('.dockerignore').split('\n').filter((line) => line && !line.startsWith('#'));
    for (const name of ['migrate', 'api', 'worker']) {
      const service = compose.services[name]!;
      expect(service.init, `${name}.init`).toBe(true);
      const command = service.command;
      expect(Array.isArray(command), `${name}.command must be exec form`).toBe(true);
      const [node, importFlag, loader, entry, ...rest] = command as string[];
      expect({ node, importFlag, loader, rest }, name).toEqual({ node: 'node', importFlag: '--import', loader: 'tsx', rest: [] });
      expect(existsSync(join(root, entry!)), `${name} runs ${entry}, which does not exist`).toBe(true);
      expect(ignored.filter((pattern) => entry!.startsWith(pattern.replace(/\/$/, '') + '/')), `${name}: ${entry} is left out of the image`).toEqual([]);
    }
    expect(compose.services.api?.command).toEqual(JSON.parse(dockerfile.stages.at(-1)!.instructions.find((i) => i.keyword === 'CMD')!.args));
    // The migration the container runs is `npm run db:migrate`'s, the same command.
    expect(rootPackage.scripts?.['db:migrate']).toBe((compose.services.migrate?.command as string[]).join(' '));
    // `--import tsx` resolves tsx from /app: a production dependency of the root survives the install.
    expect(rootPackage.dependencies).toHaveProperty('tsx');
  });

  it('lets the containers reach each other: the api and the worker listen on every interface whatever .env says', () => {
    for (const name of ['api', 'worker']) {
      const env = compose.services[name]?.environment as Record<string, unknown>;
      expect({ HOST: env.HOST, WORKER_HTTP_HOST: env.WORKER_HTTP_HOST }, name).toEqual({ HOST: '0.0.0.0', WORKER_HTTP_HOST: '0.0.0.0' });
    }
    // A .env copied from .env.example binds nothing to loopback (it once hid the worker's metrics).
    expect([...envExample].filter(([key, value]) => /_HOST$|^HOST$/.test(key) && /^(127\.|localhost|::1)/.test(value))).toEqual([]);
  });

  it('references only variables that .env.example documents', () => {
    const undocumented = [...interpolatedVariables(composeText)].filter((name) => !envExample.has(name));
    expect(undocumented).toEqual([]);
  });

  it('gives the api and the worker every setting loadConfig reads, set here or passed through by name', () => {
    for (const name of ['api', 'worker']) {
      const environment = compose.services[name]?.environment;
      expect(environment, `${name}.environment must be a map`).toBeTypeOf('object');
      expect(Array.isArray(environment)).toBe(false);
      const env = environment as Record<string, unknown>;
      const missing = configKeys.filter((key) => !(key in env));
      expect(missing, `${name}.environment lacks`).toEqual([]);
      const renamed = Object.entries(env).filter(
        ([key, value]) => typeof value === 'string' && interpolatedVariables(value).size > 0 && !new RegExp(`^\\$\\{${key}(:?[-?][^}]*)?\\}$`).test(value),
      );
      expect(renamed, `${name}.environment passes these through under another name or inside text`).toEqual([]);
    }
  });

  it('lets `docker compose up --scale worker=N` work: the worker has no container_name and no ports', () => {
    const worker = compose.services.worker;
    expect(worker).toBeDefined();
    expect(worker).not.toHaveProperty('container_name');
    expect(worker).not.toHaveProperty('ports');
  });

  it('starts the api and the worker only after a successful migration and a healthy Redis', () => {
    for (const name of ['api', 'worker']) {
      expect(compose.services[name]?.depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('waits only on health checks that exist, and on one-shot services that are not restarted', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const dependsOn = Array.isArray(service.depends_on) ? {} : (service.depends_on ?? {});
      for (const [target, { condition }] of Object.entries(dependsOn)) {
        const dependency = compose.services[target];
        expect(dependency, `${name} depends on unknown service ${target}`).toBeDefined();
        if (condition === 'service_healthy') {
          expect(dependency?.healthcheck?.test, `${name} waits for ${target} to be healthy, but it has no healthcheck`).toBeDefined();
        }
        if (condition === 'service_completed_successfully') {
          expect(dependency?.restart, `${name} waits for ${target} to complete, so it must not restart`).toBe('no');
        }
      }
    }
  });
});

describe('.env.example', () => {
  it('lists exactly the variables loadConfig reads, then the ones only docker-compose.yml reads', () => {
    const processVariables = [...envExample.keys()].filter((key) => !composeOnlyVariables.has(key));
    expect(processVariables.sort()).toEqual([...configKeys].sort());
    expect(configKeys.filter((key) => composeOnlyVariables.has(key))).toEqual([]);
  });

  it('gives each variable a one-line comment just above it', () => {
    const lines = read('.env.example').split('\n');
    const uncommented = lines.flatMap((line, i) => (/^[A-Z][A-Z0-9_]*=/.test(line) && !lines[i - 1]?.startsWith('# ') ? [line] : []));
    expect(uncommented).toEqual([]);
  });

  it('holds loadConfig’s defaults: loading it yields the same config as an empty environment', () => {
    expect(loadConfig(Object.fromEntries(envExample))).toEqual(loadConfig({}));
  });
});

describe('Dockerfile', () => {
  it('copies every workspace manifest and the lockfile into the stages that run npm ci', () => {
    const stages = dockerfile.stages.filter((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)));
    expect(stages.map((s) => s.name)).toEqual(['deps', 'prod']);
    // prod builds on deps (its manifests, and npm's cache for an offline install).
    expect(stages[1]!.instructions[0]!.args).toBe('deps AS prod');
    const required = ['package.json', 'package-lock.json', ...workspaces.map((w) => `${w.dir}/package.json`)];
    const copied = new Set(stages[0]!.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copySources(i.args)));
    expect(required.filter((path) => !copied.has(path))).toEqual([]);
  });

  it('builds on the official Node image of the major that package.json "engines", scripts/useNode24.sh and .ci/run use', () => {
    const baseImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile.text)?.[1];
    expect(dockerfile.stages[0]?.instructions.find((i) => i.keyword === 'FROM')?.args).toBe('${NODE_IMAGE} AS base');
    const imageMajor = /^node:(\d+)-/.exec(baseImage ?? '')?.[1];
    const enginesMajor = /^>=\s*(\d+)$/.exec(rootPackage.engines?.node ?? '')?.[1];
    const scriptMajor = /^readonly NODE24_VERSION=(\d+)\./m.exec(read('scripts/useNode24.sh'))?.[1];
    const ciMajor = /"\$node_version" != v(\d+)\.\*/.exec(read('.ci/run'))?.[1];
    expect(imageMajor, `FROM ${baseImage}`).toBeDefined();
    expect({ engines: enginesMajor, useNode24: scriptMajor, ci: ciMajor }).toEqual({ engines: imageMajor, useNode24: imageMajor, ci: imageMajor });
  });

  it('installs the npm of package.json "packageManager"', () => {
    const npmVersion = /ARG NPM_VERSION=(\S+)/.exec(dockerfile.text)?.[1];
    expect(`npm@${npmVersion}`).toBe(rootPackage.packageManager);
  });

  it('runs the final stage as the node user with NODE_ENV=production, holding a production-only install', () => {
    const final = dockerfile.stages.at(-1)!;
    expect(final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
    expect(final.instructions.some((i) => i.keyword === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
    const appFrom = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => /--from=(\S+) \/app \/app$/.exec(i.args)?.[1]);
    expect(appFrom).toEqual(['prod']);
    const prod = dockerfile.stages.find((stage) => stage.name === 'prod')!;
    const install = prod.instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))?.args ?? '';
    expect(install).toMatch(/--omit=dev\b/);
    // The bench's libraries stay out: only the processes the image runs are installed.
    expect(shellWords(install).filter((w, i, all) => all[i - 1] === '--workspace')).toEqual(['@tasklane/api', '@tasklane/worker', '@tasklane/demo']);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers: small readers for the formats above, just enough for these files.

/** Keys of `const envSchema = z.object({ … })` in loadConfig.ts (the schema is not exported). */
function envSchemaKeys(source: string): string[] {
  const start = source.indexOf('const envSchema = z.object({');
  const end = source.indexOf('\n});', start);
  if (start < 0 || end < 0) throw new Error('loadConfig.ts: cannot find `const envSchema = z.object({ … });`');
  return [...source.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
}

/** `NAME=value` lines of a dotenv file, in order. */
function parseEnvFile(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Names in `${NAME}`, `${NAME:-x}`, `${NAME-x}`, `${NAME:?x}`… (not `$${…}`, which Compose leaves literal). */
function interpolatedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
}

/**
 * Compose-style interpolation of every string in a parsed document: `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}` (required: empty here) and `$$`
 * (https://docs.docker.com/reference/compose-file/interpolation/).
 */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name?: string, op?: string, fallback?: string) => {
      if (match === '$$') return '$';
      const set = env[name!];
      if (op === ':-') return set ? set : (fallback ?? '');
      if (op === '-') return set ?? fallback ?? '';
      return set ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

interface DockerInstruction {
  keyword: string;
  args: string;
}

/** Stages (by FROM) of a Dockerfile, with line continuations joined and comments dropped. */
function parseDockerfile(text: string) {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: { name: string | undefined; instructions: DockerInstruction[] }[] = [];
  for (const line of logical.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(instruction.args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  return { text, stages };
}

/** Source paths of a `COPY [--flags] src… dest` (none for `COPY --from=…`, which copies from a stage). */
function copySources(args: string): string[] {
  const words = shellWords(args);
  if (words.some((w) => w.startsWith('--from='))) return [];
  return words.filter((w) => !w.startsWith('--')).slice(0, -1).map((w) => w.replace(/^\.\//, ''));
}

/** Words of a command in exec form (`["a","b"]`, or a YAML list) or shell form (split on blanks). */
function shellWords(command: string | string[]): string[] {
  if (Array.isArray(command)) return command;
  if (command.startsWith('[')) return JSON.parse(command) as string[];
  return command.split(/\s+/).filter(Boolean);
}

/** Workspace packages matched by the root `workspaces` globs (`dir/*` form). */
function listWorkspaces(pkg: PackageJson): { dir: string; manifest: PackageJson }[] {
  return (pkg.workspaces ?? []).flatMap((pattern) => {
    const base = pattern.replace(/\/\*$/, '');
    return readdirSync(join(root, base), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, base, entry.name, 'package.json')))
      .map((entry) => ({ dir: `${base}/${entry.name}`, manifest: JSON.parse(read(`${base}/${entry.name}/package.json`)) as PackageJson }));
  });
}

