// The `--contention` mode: a busy competitor process beside the engines. On a 2-core machine a neighbour
// that keeps one core busy (a compiler, another service) is the common case, and a second thread that
// waits for a preempted partner can make two threads slower than one. The competitor is a plain Node
// process spinning in a loop; it runs while each engine is timed (the same for every peer), and what it
// got is measured from its own CPU time, so that a row says how hard it competed.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ, which /proc reports in

/** CPU time a process has used (utime + stime), in s; 0 when /proc is not there. */
function processCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts one competitor: a process that spins on one core until stopped. Resolves once it runs.
 * `stop()` ends it and returns { cores }: the average number of cores it kept busy since it started.
 */
export async function startCompetitor() {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  await sleep(100); // let it start spinning before anything is timed
  const t0 = performance.now();
  const cpu0 = processCpu(child.pid);
  return {
    pid: child.pid,
    async stop() {
      const cores = (processCpu(child.pid) - cpu0) / ((performance.now() - t0) / 1e3);
      child.kill();
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
      return { cores };
    },
  };
}
