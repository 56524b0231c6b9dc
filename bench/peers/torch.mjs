// PyTorch as a peer, through bench/torch_peer.py: one long-lived Python process per benchmark run, so
// that its rounds interleave with the Node peers'. Weights and input travel by temporary files (raw
// float32), requests and replies by JSON lines on its stdin/stdout.

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../torch_peer.py', import.meta.url));

/** Whether PyTorch can run here: undefined if it can, else why not. */
export function torchUnavailable() {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} -c 'import torch, numpy' failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return undefined;
}

// OpenBLAS's kernel choice, when it is left to OpenBLAS: it reads the CPU model and takes the best kernels
// it has for it (SkylakeX's or Cooperlake's on AVX-512). A shell may pin an older core (OPENBLAS_CORETYPE
// =Haswell, with a matching OPENBLAS_L2_SIZE) for its own reasons; the peer would then run AVX2 kernels on
// an AVX-512 machine, an unfair rival. BENCH_TORCH_CORETYPE names a core on purpose when one is wanted.
const PINNED_BLAS_SETTINGS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/**
 * The environment the PyTorch worker runs in: ours without the OpenBLAS settings that pin a kernel core,
 * or with OPENBLAS_CORETYPE from BENCH_TORCH_CORETYPE. `dropped` lists what was taken out, for RESULTS.md.
 */
export function torchPeerEnv(env = process.env) {
  const out = { ...env };
  const dropped = PINNED_BLAS_SETTINGS.filter((k) => k in out).map((k) => `${k}=${out[k]}`);
  for (const k of PINNED_BLAS_SETTINGS) delete out[k];
  if (env.BENCH_TORCH_CORETYPE) out.OPENBLAS_CORETYPE = env.BENCH_TORCH_CORETYPE;
  return { env: out, dropped };
}

/** A running torch_peer.py. */
export class TorchWorker {
  #child;
  #replies = [];
  #waiting = [];
  #exited;

  constructor() {
    this.#child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'], env: torchPeerEnv().env });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#replies.push(line);
    });
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    this.#exited.then((code) => {
      for (const w of this.#waiting.splice(0)) w(JSON.stringify({ error: `torch_peer.py exited (${code})` }));
    });
  }

  /** The worker's process id (its CPU time is ours, not a neighbour's). */
  get pid() {
    return this.#child.pid;
  }

  /** Sends one request and resolves with its reply; rejects with the worker's error. */
  async request(req) {
    const reply = new Promise((resolve) => {
      if (this.#replies.length) resolve(this.#replies.shift());
      else this.#waiting.push(resolve);
    });
    this.#child.stdin.write(`${JSON.stringify(req)}\n`);
    const r = JSON.parse(await reply);
    if (r.error) throw new Error(`PyTorch: ${r.error}`);
    return r;
  }

  /**
   * Loads case `c` with torchrnn's parameters (a Map name -> { data, shape }, in named_parameters order)
   * and the input x, through files in `dir`.
   */
  async load(c, params, x, dir) {
    const weights = join(dir, 'weights.f32');
    const input = join(dir, 'input.f32');
    const all = [...params.values()].map((p) => p.data);
    writeFileSync(weights, Buffer.concat(all.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    writeFileSync(input, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    return this.request({
      cmd: 'load',
      case: c,
      params: [...params].map(([name, p]) => [name, p.shape]),
      weights,
      input,
    });
  }

  /** The peer interface over the loaded model; `dir` holds the output file for verification. */
  peer(dir) {
    return {
      key: 'torch',
      label: 'PyTorch',
      output: async () => {
        const path = join(dir, 'torch-output.f32');
        await this.request({ cmd: 'output', path });
        const b = readFileSync(path);
        return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      },
      time: async (reps) => (await this.request({ cmd: 'time', reps })).ms,
    };
  }

  async close() {
    this.#child.stdin.end();
    await this.#exited;
  }
}
