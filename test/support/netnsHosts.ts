// Several "hosts" on one machine for multi-host tests (issue #11, point 3): one Linux network
// namespace per host, each with its own address on a private /24, wired to a bridge that lives in a
// namespace of its own (the "switch"). The bridge sits outside the root namespace on purpose: with
// br_netfilter loaded, traffic bridged in the root namespace goes through its iptables FORWARD chain,
// whose policy Docker sets to DROP; the switch namespace has empty tables, so the test never has to
// touch the machine's firewall. A veth from the root namespace to the switch gives the test process
// an address on the same subnet (the gateway, `.1`), from which it reaches every host.
//
// Names: every namespace is `tlh-<owner>-<host>`, where `<owner>` is `<pid>.<start>.<random>` of the
// test process that made it (`<start>`: the process's start time in clock ticks, /proc/<pid>/stat
// field 22, so a reused pid is not taken for the owner). Namespaces whose owner process is gone are
// stale (a crashed or killed test run) and are removed, with every process in them, by the next
// `createNetnsHosts`. Interface names other than the root namespace's veth (`tlh<random>`) live inside
// the run's own namespaces, so parallel runs never collide on them; the subnet `10.231.<x>.0/24` is
// drawn at random among those the root namespace does not already route.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every namespace this module makes starts with this. */
export const NETNS_PREFIX = 'tlh-';

/** One host: a network namespace with one interface (`eth0`) on the run's subnet. */
export interface NetnsHost {
  /** The host's name (`api-1`); also its hostname for processes started through {@link NetnsHost.wrapCommand}. */
  name: string;
  /** The network namespace (`tlh-<owner>-<name>`). */
  namespace: string;
  /** Its IPv4 address on the run's subnet. */
  address: string;
  /**
   * Runs a program on this host: `ip netns exec <namespace> unshare --uts sh -c 'hostname <name> && exec "$@"'`,
   * to which the program's argv is appended. Every step execs the next, so the spawned pid is the
   * program's own and signals reach it directly; `os.hostname()` in it is the host's name, as on a
   * machine of its own (worker ids and API instance ids carry it).
   */
  wrapCommand: readonly string[];
  /** Runs a program in the host's network namespace only (its hostname stays the machine's): `ip netns exec <namespace>`. */
  netnsCommand: readonly string[];
  /** Pids of every process in the namespace now. */
  pids(): Promise<number[]>;
  /**
   * The host crashes: SIGKILL to every process in its namespace, then waits until none is left.
   * @returns the pids killed
   * @throws Error when processes remain after 10 s
   */
  crash(): Promise<number[]>;
  /**
   * Cuts the host off the network: its switch port goes down, so every packet to or from it is
   * dropped silently (no RST, no ICMP) while its processes keep running, as in a network partition.
   */
  partition(): Promise<void>;
  /** Brings its switch port back up (undoes {@link NetnsHost.partition}). */
  heal(): Promise<void>;
}

/** The hosts of one test run and their network. */
export interface NetnsHosts {
  /** `<pid>.<start>.<random>`: the run's part of every namespace name. */
  owner: string;
  /** The run's subnet, `10.231.<x>.0/24`. */
  subnet: string;
  /** The root namespace's address on the subnet (`.1`): the test process reaches the hosts from here, and they reach it here. */
  gateway: string;
  /** Every host, in the order given. */
  hosts: readonly NetnsHost[];
  /** The host named `name`. @throws Error when there is none */
  host(name: string): NetnsHost;
  /** Kills every process in the run's namespaces and deletes them (and with them every interface). Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Why namespaced hosts cannot be made here, or undefined when they can: they need root, the `ip`
 * tool with `ip netns`, and `unshare`. Probes by adding and deleting a namespace.
 */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (ip netns add)';
  const probe = `${NETNS_PREFIX}${ownerOf(process.pid)}.probe-probe`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (error) {
    return `ip netns is unavailable: ${firstLine(error)}`;
  }
  await run('ip', ['netns', 'del', probe]).catch(() => {});
  try {
    await run('unshare', ['--version']);
  } catch (error) {
    return `unshare (util-linux) is unavailable: ${firstLine(error)}`;
  }
  return undefined;
}

/**
 * Creates one namespace per name, each with an address on a fresh random `10.231.<x>.0/24`
 * (`.1` is the root namespace's, then `.10`, `.11`, … in the order of `names`), after removing the
 * stale namespaces of earlier runs. On any failure, what was created is removed before the error is
 * rethrown; a process exit without {@link NetnsHosts.destroy} removes it too.
 *
 * @param names - host names: 1–15 characters of `[a-z0-9-]` (they name switch ports), unique
 * @throws Error when a name is invalid, no free subnet is found, or an `ip` command fails
 */
export async function createNetnsHosts(names: readonly string[]): Promise<NetnsHosts> {
  for (const name of names) {
    if (!/^[a-z0-9-]{1,15}$/.test(name) || name === 'switch') throw new Error(`invalid host name ${JSON.stringify(name)}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`host names must be unique: ${names.join(', ')}`);
  await removeStaleNetnsHosts();

  const owner = `${ownerOf(process.pid)}.${randomBytes(3).toString('hex')}`;
  const switchNs = `${NETNS_PREFIX}${owner}-switch`;
  const rootVeth = `tlh${owner.slice(owner.lastIndexOf('.') + 1)}`;
  const x = await pickFreeSubnet();
  const base = `10.231.${x}`;
  const gateway = `${base}.1`;
  const namespaces: string[] = [];

  let destroyed = false;
  async function destroy(): Promise<void> {
    if (destroyed) return;
    destroyed = true;
    process.off('exit', destroyOnExit);
    // Hosts first: deleting the switch namespace then removes the root namespace's veth with it.
    for (const namespace of [...namespaces].reverse()) await removeNamespace(namespace);
    // The kernel tears a deleted namespace down asynchronously; do not leave the veth to it.
    await run('ip', ['link', 'del', 'dev', rootVeth]).catch(() => {});
  }
  /** Last resort when the test process exits without destroy(): synchronous, best effort. */
  function destroyOnExit(): void {
    for (const namespace of [...namespaces].reverse()) {
      try {
        for (const pid of listPidsSync(namespace)) killQuietly(pid);
        execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
      } catch {
        // left for the next run's stale cleanup
      }
    }
  }
  process.once('exit', destroyOnExit);

  const ip = (...args: string[]) => run('ip', args);
  try {
    namespaces.push(switchNs);
    await ip('netns', 'add', switchNs);
    await ip('-n', switchNs, 'link', 'set', 'dev', 'lo', 'up');
    await ip('-n', switchNs, 'link', 'add', 'name', 'br0', 'type', 'bridge');
    await ip('-n', switchNs, 'link', 'set', 'dev', 'br0', 'up');
    await ip('link', 'add', 'name', rootVeth, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', switchNs);
    await ip('-n', switchNs, 'link', 'set', 'dev', 'uplink', 'master', 'br0', 'up');
    await ip('addr', 'add', `${gateway}/24`, 'dev', rootVeth);
    await ip('link', 'set', 'dev', rootVeth, 'up');

    const hosts: NetnsHost[] = [];
    for (const [index, name] of names.entries()) {
      const namespace = `${NETNS_PREFIX}${owner}-${name}`;
      const address = `${base}.${10 + index}`;
      namespaces.push(namespace);
      await ip('netns', 'add', namespace);
      await ip('-n', namespace, 'link', 'set', 'dev', 'lo', 'up');
      await ip('-n', switchNs, 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
      await ip('-n', switchNs, 'link', 'set', 'dev', name, 'master', 'br0', 'up');
      await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      await ip('-n', namespace, 'link', 'set', 'dev', 'eth0', 'up');
      hosts.push(makeHost({ name, namespace, address, switchNs }));
    }
    return {
      owner,
      subnet: `${base}.0/24`,
      gateway,
      hosts,
      host(name) {
        const found = hosts.find((host) => host.name === name);
        if (!found) throw new Error(`no host named ${name} (hosts: ${names.join(', ')})`);
        return found;
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * Removes the namespaces (and every process in them) of runs whose owner process is gone: a
 * crashed or killed earlier run never reached its `destroy()`. Namespaces of live runs are left alone.
 * @returns the namespaces removed
 */
export async function removeStaleNetnsHosts(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const stale = stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX))
    .filter((name) => {
      const match = /^tlh-(\d+)\.(\d+)\./.exec(name);
      // Not of our format (e.g. a probe cut short): nobody can own it.
      if (!match) return true;
      return ownerOf(Number(match[1])) !== `${match[1]}.${match[2]}`;
    });
  // Hosts before switches, so no veth outlives a namespace in between.
  stale.sort((a, b) => Number(a.endsWith('-switch')) - Number(b.endsWith('-switch')));
  for (const namespace of stale) await removeNamespace(namespace);
  return stale;
}

function makeHost(options: { name: string; namespace: string; address: string; switchNs: string }): NetnsHost {
  const { name, namespace, switchNs } = options;
  const netnsCommand = ['ip', 'netns', 'exec', namespace];
  return {
    name,
    namespace,
    address: options.address,
    netnsCommand,
    wrapCommand: [...netnsCommand, 'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', name],
    pids: () => listPids(namespace),
    async crash() {
      const killed = await listPids(namespace);
      for (const pid of killed) killQuietly(pid);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const left = await listPids(namespace);
        if (left.length === 0) return killed;
        if (Date.now() > deadline) throw new Error(`processes ${left.join(', ')} still run on host ${name} 10 s after SIGKILL`);
        for (const pid of left) killQuietly(pid);
        await sleep(50);
      }
    },
    async partition() {
      await run('ip', ['-n', switchNs, 'link', 'set', 'dev', name, 'down']);
    },
    async heal() {
      await run('ip', ['-n', switchNs, 'link', 'set', 'dev', name, 'up']);
    },
  };
}

/** SIGKILLs every process in the namespace, then deletes it; a namespace already gone is fine. */
async function removeNamespace(namespace: string): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const pids = await listPids(namespace).catch(() => []);
    if (pids.length === 0) break;
    for (const pid of pids) killQuietly(pid);
    await sleep(50);
  }
  await run('ip', ['netns', 'del', namespace]).catch((error: unknown) => {
    if (!/No such file|not found|Invalid/i.test(String(error))) throw error;
  });
}

async function listPids(namespace: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', namespace]);
  return parsePids(stdout);
}

function listPidsSync(namespace: string): number[] {
  return parsePids(execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }));
}

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** `<pid>.<start time in clock ticks>` of a live process, or `<pid>.gone`. */
function ownerOf(pid: number): string {
  try {
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid}.${fields[19]}`; // field 22 of the whole line
  } catch {
    return `${pid}.gone`;
  }
}

/** A third octet `x` such that the root namespace has no address or route in `10.231.<x>.0/24`. */
async function pickFreeSubnet(): Promise<number> {
  const [{ stdout: addresses }, { stdout: routes }] = await Promise.all([run('ip', ['-4', '-o', 'addr', 'show']), run('ip', ['-4', 'route', 'show'])]);
  const used = `${addresses}\n${routes}`;
  for (let attempt = 0; attempt < 64; attempt++) {
    const x = randomInt(0, 256);
    if (!used.includes(`10.231.${x}.`)) return x;
  }
  throw new Error('no free 10.231.<x>.0/24 subnet found in 64 draws');
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? ((error as { stderr?: string }).stderr || error.message) : String(error);
  return text.trim().split('\n')[0] ?? text;
}
