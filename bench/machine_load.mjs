// How busy the machine was with other work while a case was timed. On a 2-core machine one busy
// neighbour (a compiler, a test suite) halves what the engines can use, so every row says how many cores
// other processes kept busy: all CPU time the kernel counted (/proc/stat), minus this process's and the
// PyTorch worker's own. Linux only; elsewhere the figure is absent.

import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ, which /proc reports in; 100 on every mainstream Linux

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Busy and stolen CPU time of the whole machine, in s. */
function machineCpu() {
  const line = read('/proc/stat')?.split('\n')[0];
  if (!line) return undefined;
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq) / TICKS_PER_S, steal: (steal || 0) / TICKS_PER_S };
}

/** CPU time of another process (utime + stime), in s. */
function processCpu(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime
}

/**
 * Starts watching; `stop()` returns { otherCores, stealCores }: the average number of cores that other
 * processes kept busy, and that the hypervisor took, over the interval. `helperPids` are our own children.
 */
export function watchLoad(helperPids = []) {
  const t0 = performance.now();
  const m0 = machineCpu();
  const own0 = process.cpuUsage();
  const helpers0 = helperPids.map(processCpu);
  return {
    stop() {
      const m1 = machineCpu();
      if (!m0 || !m1) return undefined;
      const seconds = (performance.now() - t0) / 1e3;
      const ownUs = process.cpuUsage(own0);
      const own = (ownUs.user + ownUs.system) / 1e6 + helperPids.reduce((s, pid, i) => s + processCpu(pid) - helpers0[i], 0);
      return {
        otherCores: Math.max(0, (m1.busy - m0.busy - own) / seconds),
        stealCores: (m1.steal - m0.steal) / seconds,
      };
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the machine is quiet: at least `minMs`, then in slices of `sliceMs` until a slice in which
 * all processes together (this one included) kept fewer than `quietCores` cores busy, or `maxMs` passed.
 * Thread pools spin after their work (onnxruntime's for tens of ms, OpenBLAS's), and the next peer must
 * not run against them. Without /proc/stat it waits `minMs` only.
 */
export async function settle({ minMs, maxMs, sliceMs = 30, quietCores = 0.25 }) {
  const start = performance.now();
  await sleep(minMs);
  if (!machineCpu()) return;
  while (performance.now() - start < maxMs) {
    const m0 = machineCpu();
    const t0 = performance.now();
    await sleep(sliceMs);
    const m1 = machineCpu();
    if ((m1.busy - m0.busy) / ((performance.now() - t0) / 1e3) < quietCores) return;
  }
}
