// Drives docker-compose.yml with Debian's docker-compose 1.29 (the engine test, issue #11 point 4):
// one compose project with its own env file, so neither the developer's .env nor their shell's
// settings leak in.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a finished command printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion, bounded by `timeoutMs` (then SIGKILL).
 *
 * @throws Error with the command, exit code and both outputs when it exits non-zero or times out
 */
export function run(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: ROOT, env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Options of {@link createComposeProject}. */
export interface ComposeProjectOptions {
  /** `docker-compose -p` name: containers are `<name>_<service>_<n>`. */
  name: string;
  /** Written to the project's env file (`--env-file`): the settings the stack runs with. */
  settings: Record<string, string>;
  /** Where the env file goes (a temporary directory of the test). */
  workDir: string;
}

/** One compose project over the repository's docker-compose.yml. */
export interface ComposeProject {
  /**
   * `docker-compose <args>` for this project.
   * @param timeoutMs - @defaultValue 120_000 ms
   */
  compose(args: readonly string[], timeoutMs?: number): Promise<CommandOutput>;
  /**
   * `docker <args>` against the same engine.
   * @param timeoutMs - @defaultValue 60_000 ms
   */
  docker(args: readonly string[], timeoutMs?: number): Promise<CommandOutput>;
  /** Container ids of a service, in compose's order. */
  containers(service: string): Promise<string[]>;
  /** `docker inspect -f <format> <id>`, trimmed. */
  inspect(id: string, format: string): Promise<string>;
  /** Rows of one SQL query run by psql in the postgres container (`|`-separated columns). */
  sql(query: string): Promise<string[][]>;
}

/**
 * A compose project whose environment is only what the engine needs (PATH, HOME, DOCKER_HOST) plus
 * the image variables (NODE_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE, from scripts/dockerE2e.sh) and
 * `settings`, through its own env file.
 */
export function createComposeProject(options: ComposeProjectOptions): ComposeProject {
  const envFile = join(options.workDir, 'compose.env');
  writeFileSync(envFile, Object.entries(options.settings).map(([key, value]) => `${key}=${value}\n`).join(''));
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'DOCKER_HOST', 'NODE_IMAGE', 'POSTGRES_IMAGE', 'REDIS_IMAGE']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  const project: ComposeProject = {
    compose: (args, timeoutMs = 120_000) =>
      run('docker-compose', ['--env-file', envFile, '-p', options.name, '-f', 'docker-compose.yml', '--ansi', 'never', ...args], { env, timeoutMs }),
    docker: (args, timeoutMs = 60_000) => run('docker', args, { env, timeoutMs }),
    containers: async (service) => (await project.compose(['ps', '-q', service])).stdout.split('\n').filter(Boolean),
    inspect: async (id, format) => (await project.docker(['inspect', '-f', format, id])).stdout.trim(),
    sql: async (query) => {
      const { stdout } = await project.compose(['exec', '-T', 'postgres', 'psql', '-U', 'postgres', '-d', 'tasklane', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query]);
      return stdout.split('\n').filter(Boolean).map((line) => line.split('|'));
    },
  };
  return project;
}

/** One pino JSON line of a service's `docker-compose logs`, with the container it came from. */
export type ServiceLogLine = Record<string, unknown> & { container: string };

/**
 * Parses `docker-compose logs --no-color` output (`<container> | <line>`) into the pino JSON lines;
 * other lines (npm, stack traces) are skipped.
 */
export function parseComposeLogs(text: string): ServiceLogLine[] {
  const lines: ServiceLogLine[] = [];
  for (const raw of text.split('\n')) {
    const match = /^(\S+)\s+\|\s(.*)$/.exec(raw);
    if (!match || !match[2]!.startsWith('{')) continue;
    try {
      lines.push({ ...(JSON.parse(match[2]!) as Record<string, unknown>), container: match[1]! });
    } catch {
      // not JSON after all
    }
  }
  return lines;
}
