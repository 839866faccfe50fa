// Freezing a process (SIGSTOP) is how the fault tests make an API or worker "slow but alive": it
// stops heartbeating and renewing locks without dying, then carries on (SIGCONT) with its stale view.

/** The processes a test froze, to thaw them all in its `afterAll` however the test ended. */
export interface FrozenProcesses {
  /** Sends SIGSTOP to `pid` and remembers it. */
  freeze(pid: number): void;
  /** Sends SIGCONT to `pid` (it carries on where it stopped). */
  thaw(pid: number): void;
  /** Sends SIGCONT to every process still frozen; one already gone is skipped. */
  thawAll(): void;
}

/** Creates an empty set of frozen processes. */
export function frozenProcesses(): FrozenProcesses {
  const frozen = new Set<number>();
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  return {
    freeze(pid) {
      process.kill(pid, 'SIGSTOP');
      frozen.add(pid);
    },
    thaw(pid) {
      signal(pid, 'SIGCONT');
      frozen.delete(pid);
    },
    thawAll() {
      for (const pid of frozen) signal(pid, 'SIGCONT');
      frozen.clear();
    },
  };
}
