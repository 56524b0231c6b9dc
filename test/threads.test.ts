/**
 * setNumThreads / getNumThreads: validation, identical results at 1 and 2 threads, and idle workers that
 * burn no CPU. Results are bit-for-bit identical because threads split work only at boundaries that do
 * not change any element's arithmetic: the input projection by rows, the recurrence by batch rows or by
 * whole hidden units (each unit's sums run over k in the same order), the LSTM projection by whole columns.
 */
import * as fs from 'fs';
import { GRU, LSTM, PackedSequence, RNN, Tensor, getNumThreads, manualSeed, packPaddedSequence, setNumThreads } from '../lib';

const initial = getNumThreads();
afterAll(() => setNumThreads(initial));

function randomInput(shape: number[]): Tensor {
  let state = 12345;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  });
  return new Tensor(data, shape);
}

describe('setNumThreads / getNumThreads', () => {
  it('defaults to at least one thread and reads back what was set', () => {
    expect(Number.isInteger(initial)).toBe(true);
    expect(initial).toBeGreaterThanOrEqual(1);
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
  });

  it.each([0, -1, 1.5, NaN, Infinity, 1025, '2', undefined, null])('rejects %p', (n) => {
    expect(() => setNumThreads(n as number)).toThrow(RangeError);
    expect(() => setNumThreads(n as number)).toThrow(/^setNumThreads expects an integer from 1 to 1024, got: /);
  });
});

describe('results do not depend on the thread count', () => {
  manualSeed(7);
  // Big enough that every parallel path runs: projection GEMM rows, directions side by side, hidden
  // units split with a barrier per step, the LSTM projection split by columns, packed-like short batches.
  const models: [string, () => LSTM | GRU | RNN, number[]][] = [
    ['bidirectional LSTM', () => new LSTM({ inputSize: 48, hiddenSize: 160, numLayers: 2, bidirectional: true }), [30, 5, 48]],
    ['GRU', () => new GRU({ inputSize: 40, hiddenSize: 256, numLayers: 2 }), [25, 8, 40]],
    ['RNN tanh, batch 1', () => new RNN({ inputSize: 40, hiddenSize: 512 }), [20, 1, 40]],
    // Wide single-gate tiles in row blocks of 6, 6 and 4, a last panel group short of a full one, a partial panel.
    ['bidirectional RNN tanh, batch 16', () => new RNN({ inputSize: 24, hiddenSize: 200, bidirectional: true }), [12, 16, 24]],
    ['LSTM with projection', () => new LSTM({ inputSize: 32, hiddenSize: 320, projSize: 72, numLayers: 2 }), [20, 3, 32]],
    ['LSTM batch 32', () => new LSTM({ inputSize: 64, hiddenSize: 128, bidirectional: true }), [12, 32, 64]],
    // One direction and a batch that fills a step: each thread carries its own batch rows.
    ['LSTM batch 13, rows split', () => new LSTM({ inputSize: 24, hiddenSize: 96, numLayers: 2 }), [40, 13, 24]],
    ['LSTM with projection, rows split', () => new LSTM({ inputSize: 24, hiddenSize: 96, projSize: 40 }), [40, 9, 24]],
    // A W_hh larger than L2 at small batches: each step's units split across threads, a barrier per step,
    // both directions one after the other.
    ['LSTM batch 1, units split', () => new LSTM({ inputSize: 16, hiddenSize: 320 }), [20, 1, 16]],
    ['bidirectional LSTM batch 2, units split', () => new LSTM({ inputSize: 16, hiddenSize: 320, bidirectional: true }), [20, 2, 16]],
    // Short steps on one thread, long sequences: the input projection runs in time chunks beside them.
    ['LSTM batch 1, 300 steps', () => new LSTM({ inputSize: 16, hiddenSize: 32 }), [300, 1, 16]],
    ['GRU batch 2, 150 steps', () => new GRU({ inputSize: 16, hiddenSize: 24, numLayers: 2 }), [150, 2, 16]],
    // A small bidirectional model: at 2 threads its directions still run side by side and its projection's
    // rows split; at 1 thread its two time loops run interleaved, a step of each in turn.
    ['small bidirectional LSTM', () => new LSTM({ inputSize: 100, hiddenSize: 15, numLayers: 2, bidirectional: true }), [20, 3, 100]],
    ['small bidirectional GRU, batch 1', () => new GRU({ inputSize: 30, hiddenSize: 20, bidirectional: true }), [40, 1, 30]],
    ['small bidirectional RNN, batch first', () => new RNN({ inputSize: 12, hiddenSize: 10, numLayers: 2, bidirectional: true, batchFirst: true }), [3, 25, 12]],
  ];

  it('small bidirectional LSTM from a given state, batch first', () => {
    const module = new LSTM({ inputSize: 12, hiddenSize: 16, numLayers: 2, bidirectional: true, batchFirst: true }).eval();
    const x = randomInput([3, 25, 12]);
    const hx: [Tensor, Tensor] = [randomInput([4, 3, 16]), randomInput([4, 3, 16]).mul(2)];
    setNumThreads(1);
    const [one, [hOne, cOne]] = module.forward(x, hx);
    setNumThreads(2);
    const [two, [hTwo, cTwo]] = module.forward(x, hx);
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
    expect([...hTwo.data, ...cTwo.data]).toEqual([...hOne.data, ...cOne.data]);
    expect(Array.from(hOne.data).some((v) => v !== 0)).toBe(true);
  });

  it.each(models)('%s', (_name, make, shape) => {
    const module = make().eval();
    const x = randomInput(shape);
    setNumThreads(1);
    const [one, hOne] = module.forward(x) as [Tensor, Tensor | [Tensor, Tensor]];
    setNumThreads(2);
    const [two, hTwo] = module.forward(x) as [Tensor, Tensor | [Tensor, Tensor]];
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
    const flat = (h: Tensor | [Tensor, Tensor]) => (Array.isArray(h) ? h.flatMap((t) => Array.from(t.data)) : Array.from(h.data));
    expect(flat(hTwo)).toEqual(flat(hOne));
  });

  // Packed sequences of unequal lengths: the row split follows each row's length, and sequences leave
  // (forward) and join (reverse) inside a thread's share of the rows. Four threads give each direction of
  // the bidirectional LSTM two.
  it.each([
    ['LSTM', 4, () => new LSTM({ inputSize: 16, hiddenSize: 96, bidirectional: true })],
    ['GRU', 2, () => new GRU({ inputSize: 16, hiddenSize: 128 })],
    ['RNN', 2, () => new RNN({ inputSize: 16, hiddenSize: 160 })],
    // Steps too short to split: one thread runs the time loop, the projection goes beside it in chunks.
    ['LSTM of 16 units', 2, () => new LSTM({ inputSize: 16, hiddenSize: 16 })],
  ] as [string, number, () => LSTM | GRU | RNN][])('packed %s with unequal lengths, %d threads', (_name, threads, make) => {
    const module = make().eval();
    const lengths = [60, 58, 41, 40, 40, 33, 20, 19, 7, 3, 1];
    const packed = packPaddedSequence(randomInput([60, lengths.length, 16]), lengths);
    const run = (threads: number) => {
      setNumThreads(threads);
      const [out, h] = module.forward(packed) as [PackedSequence, Tensor | [Tensor, Tensor]];
      return [Array.from(out.data.data), ...(Array.isArray(h) ? h : [h]).map((t) => Array.from(t.data))];
    };
    expect(run(threads)).toEqual(run(1));
  });

  it('concurrent forwardAsync calls give the same results as one at a time', async () => {
    setNumThreads(2);
    const module = new LSTM({ inputSize: 32, hiddenSize: 128, bidirectional: true }).eval();
    const inputs = [0, 1, 2, 3].map((i) => randomInput([15 + i, 4, 32]));
    const expected = inputs.map((x) => Array.from((module.forward(x)[0] as Tensor).data));
    const results = await Promise.all(inputs.map((x) => module.forwardAsync(x)));
    results.forEach(([output], i) => expect(Array.from(output.data)).toEqual(expected[i]));
  });
});

// CPU time, in clock ticks, of the engine's worker threads (named `torchrnn-worker` on Linux).
function workerTicks(): { threads: number; ticks: number } {
  let threads = 0;
  let ticks = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let comm: string;
    let stat: string;
    try {
      comm = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended while we looked
    }
    if (comm !== 'torchrnn-worker') continue;
    // Fields after the parenthesised name start at field 3 (state); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads += 1;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return { threads, ticks };
}

describe('idle threads', () => {
  it('use no CPU between calls', async () => {
    setNumThreads(2);
    const module = new LSTM({ inputSize: 64, hiddenSize: 256, bidirectional: true }).eval();
    module.forward(randomInput([20, 4, 64]));
    await new Promise((resolve) => setTimeout(resolve, 50)); // past the workers' brief spin
    if (process.platform === 'linux') {
      // The workers' own CPU time, so the test runner's work and garbage collection do not count.
      const before = workerTicks();
      expect(before.threads).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = workerTicks();
      // A spinning worker would use about 100 ticks (a whole core for a second); a sleeping one none.
      expect(after.ticks - before.ticks).toBeLessThan(10);
    } else {
      const before = process.cpuUsage();
      const wallStart = process.hrtime.bigint();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cpu = process.cpuUsage(before);
      const wallMicros = Number(process.hrtime.bigint() - wallStart) / 1000;
      // A spinning worker would make this ratio about 1 (a whole core); sleeping ones leave it near 0.
      expect((cpu.user + cpu.system) / wallMicros).toBeLessThan(0.5);
    }
  });
});
