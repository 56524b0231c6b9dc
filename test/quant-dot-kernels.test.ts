/**
 * The dot-product kernels of reduced precisions (AVX-512 VNNI for qint8, AVX-512 BF16 for bfloat16), which
 * the engine picks when the CPU has them: which kernels quantizedBackends() reports, the exact arithmetic of
 * int8 activations (helpers/int8_reference.ts) through Linear and the cells, activations rounded to
 * bfloat16 to nearest even, that a wrong zero point, rounding or scale would be caught, and the same results
 * at every thread count. Where the CPU lacks the instructions, the same comparisons hold the
 * float-activation kernels to the weight-only product instead.
 */
import {
  backend,
  getNumThreads,
  GRU,
  Linear,
  LSTM,
  LSTMCell,
  manualSeed,
  packPaddedSequence,
  padPackedSequence,
  quantizeDynamic,
  quantizedBackends,
  QuantizedWeight,
  RNN,
  RNNCell,
  setNumThreads,
  Tensor,
  type QuantizedDType,
} from '../lib';
import { int8Linear, roundHalfEven, type Int8Break } from './helpers/int8_reference';
import { expectsBf16Dot, expectsVnni } from './helpers/quant_cases';

/** Whether the engine should run qint8 on VNNI, and bfloat16 on AVX-512 BF16, here. */
const expectVnni = expectsVnni(backend(), process.env.TORCHRNN_ISA);
const expectBf16 = expectsBf16Dot(backend(), process.env.TORCHRNN_ISA);
const onBf16 = quantizedBackends().bfloat16.endsWith('-bf16');
const onVnni = quantizedBackends().qint8.endsWith('-vnni');

/** Deterministic values in [lo, hi). */
function values(n: number, seed: number, lo = -2, hi = 3): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * (0.5 + 0.5 * Math.sin(seed * 12.9898 + i * 78.233)));
}

/** The weight-only product: x · (values · scale)ᵀ + bias, in float32 steps. */
function weightOnlyLinear(x: Float32Array, rows: number, k: number, w: QuantizedWeight, bias: Float32Array | null): Float32Array {
  const dq = w.dequantize().data as Float32Array;
  const n = w.shape[0];
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) s = Math.fround(s + Math.fround(x[r * k + i] * dq[j * k + i]));
      out[r * n + j] = bias ? Math.fround(s + bias[j]) : s;
    }
  return out;
}

/** The kernels' product for these weights: int8 activations on VNNI, else the weight-only one. */
function reference(x: Float32Array, rows: number, k: number, w: QuantizedWeight, bias: Float32Array | null, broken: Int8Break = 'none'): Float32Array {
  return onVnni ? int8Linear(x, rows, k, w.values as Int8Array, w.scales as Float32Array, bias, broken) : weightOnlyLinear(x, rows, k, w, bias);
}

/** Largest |a - b| over (max |b|, 1). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

/** Rows that pin the quantization's corners: zero point 0, 255 and a tie, ties in the values, zeros. */
function specialRows(k: number): Float32Array[] {
  const rows: Float32Array[] = [];
  // [0, 255]: scale 1 and zero point 0; halves round to even (2.5 -> 2, 3.5 -> 4).
  rows.push(Float32Array.from({ length: k }, (_, i) => [0, 255, 2.5, 3.5, 100.5, 7][i % 6]));
  // [-255, 0]: zero point 255.
  rows.push(Float32Array.from({ length: k }, (_, i) => [-255, 0, -2.5, -100.5, -31][i % 5]));
  // [-127.5, 127.5]: scale 1, zero point round-half-even(127.5) = 128, a tie.
  rows.push(Float32Array.from({ length: k }, (_, i) => [-127.5, 127.5, 0.5, -1.5, 12.25][i % 5]));
  rows.push(new Float32Array(k)); // all zeros
  rows.push(values(k, 5, 0.25, 4)); // all positive
  rows.push(values(k, 6, -4, -0.25)); // all negative
  return rows;
}

describe('which kernels run qint8', () => {
  it('VNNI exactly when the CPU has it and the AVX-512 family is not forced to its plain kernels', () => {
    expect(onVnni).toBe(expectVnni);
    if (onVnni) expect(quantizedBackends().qint8).toBe('avx512-vnni');
  });
});

describe('which kernels run bfloat16', () => {
  it('AVX-512 BF16 exactly when the CPU has it and the AVX-512 family is not forced to its plain kernels', () => {
    expect(onBf16).toBe(expectBf16);
    if (onBf16) expect(quantizedBackends().bfloat16).toBe('avx512-bf16');
  });
});

/** float32 bits rounded to bfloat16: to nearest even (`truncate`: the upper half kept, a broken variant). */
function toBFloat16(values: ArrayLike<number>, truncate = false): Float64Array {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  const rounded = Uint32Array.from(bits, (b) => (truncate ? b : b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000);
  return Float64Array.from(new Float32Array(rounded.buffer));
}

/** x rounded to bfloat16 (unless the kernels keep float activations) times the bfloat16 weights, summed exactly. */
function bf16Linear(x: Float32Array, rows: number, k: number, w: QuantizedWeight, bias: Float32Array | null, truncate = false): Float64Array {
  const xs = onBf16 ? toBFloat16(x, truncate) : Float64Array.from(x);
  const dq = w.dequantize().data as Float32Array;
  const n = w.shape[0];
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let i = 0; i < k; i++) s += xs[r * k + i] * dq[j * k + i];
      out[r * n + j] = s;
    }
  return out;
}

describe('bfloat16 Linear against activations rounded to nearest even', () => {
  it.each([
    [1, 1, 1],
    [3, 15, 5],
    [17, 33, 14],
    [130, 32, 25],
  ])('in %i, out %i, %i rows', (k, n, rows) => {
    manualSeed(k * 10 + n);
    const linear = new Linear(k, n);
    const x = values(rows * k, k);
    const got = quantizeDynamic(linear, { dtype: 'bfloat16' }).forward(new Tensor(x, [rows, k])).data as Float32Array;
    // float32 accumulation of exact products: float32 rounding of the sums only.
    expect(relativeError(got, bf16Linear(x, rows, k, QuantizedWeight.quantize(linear.weight, 'bfloat16'), linear.bias!.data as Float32Array))).toBeLessThanOrEqual(1e-5);
  });

  it('would catch activations truncated instead of rounded', () => {
    if (!onBf16) return expect(onBf16).toBe(expectBf16); // nothing rounds activations here
    manualSeed(31);
    const linear = new Linear(64, 20);
    const x = values(8 * 64, 3);
    const got = quantizeDynamic(linear, { dtype: 'bfloat16' }).forward(new Tensor(x, [8, 64])).data as Float32Array;
    const w = QuantizedWeight.quantize(linear.weight, 'bfloat16');
    expect(relativeError(got, bf16Linear(x, 8, 64, w, linear.bias!.data as Float32Array, true))).toBeGreaterThan(1e-4);
  });

  it('keeps NaN and infinities as float32 does', () => {
    const linear = new Linear(4, 3);
    const x = Float32Array.from([1, NaN, 2, 3, Infinity, 1, 1, 1]);
    const got = quantizeDynamic(linear, { dtype: 'bfloat16' }).forward(new Tensor(x, [2, 4])).data as Float32Array;
    const expected = linear.forward(new Tensor(x, [2, 4])).data as Float32Array;
    expect(Array.from(got, Number.isNaN)).toEqual(Array.from(expected, Number.isNaN));
  });
});

describe('qint8 Linear against the kernels\' arithmetic', () => {
  it('rounds half to even (the reference itself)', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it.each([
    [1, 1, 1],
    [3, 15, 5],
    [4, 16, 13],
    [17, 33, 12],
    [64, 70, 30],
    [130, 32, 25],
  ])('in %i, out %i, %i rows', (k, n, random) => {
    manualSeed(k * 100 + n);
    const linear = new Linear(k, n);
    const w = QuantizedWeight.quantize(linear.weight, 'qint8');
    const rows = [...Array.from({ length: random }, (_, r) => values(k, r + 1)), ...specialRows(k)];
    const x = new Float32Array(rows.length * k);
    rows.forEach((row, r) => x.set(row, r * k));
    const got = quantizeDynamic(linear, { dtype: 'qint8' }).forward(new Tensor(x, [rows.length, k])).data as Float32Array;
    const bias = linear.bias!.data as Float32Array;
    expect(relativeError(got, reference(x, rows.length, k, w, bias))).toBeLessThanOrEqual(1e-6);
  });

  it('writes an output larger than the caches (stored around them) as any other', () => {
    // 17.6 MB of output at 4,000 bytes a row: every other row starts off a cache line, so both kinds of store run.
    const before = getNumThreads();
    setNumThreads(1);
    try {
      const [k, n, rows] = [5, 1000, 4400];
      manualSeed(7);
      const linear = new Linear(k, n);
      const w = QuantizedWeight.quantize(linear.weight, 'qint8');
      const x = values(rows * k, 13);
      const q = quantizeDynamic(linear, { dtype: 'qint8' });
      const got = q.forward(new Tensor(x, [rows, k])).data as Float32Array;
      expect(relativeError(got, reference(x, rows, k, w, linear.bias!.data as Float32Array))).toBeLessThanOrEqual(1e-6);
      // Bit for bit what the same rows give in a call small enough to store through the caches.
      const few = q.forward(new Tensor(x.slice(0, 100 * k), [100, k])).data as Float32Array;
      expect(Buffer.from(few.buffer).equals(Buffer.from(got.slice(0, 100 * n).buffer))).toBe(true);
    } finally {
      setNumThreads(before);
    }
  });

  // Each variant changes the result by far more than the agreement above allows: the comparison catches it.
  it.each<Int8Break>(['zeroPointOffByOne', 'valueHalfAway', 'scaleOver256', 'noZeroPoint'])('would catch %s', (broken) => {
    if (!onVnni) return expect(onVnni).toBe(expectVnni); // nothing quantizes activations here
    const k = 40;
    const n = 24;
    manualSeed(3);
    const linear = new Linear(k, n);
    const w = QuantizedWeight.quantize(linear.weight, 'qint8');
    const rows = [...specialRows(k), values(k, 9)];
    const x = new Float32Array(rows.length * k);
    rows.forEach((row, r) => x.set(row, r * k));
    const got = quantizeDynamic(linear, { dtype: 'qint8' }).forward(new Tensor(x, [rows.length, k])).data as Float32Array;
    expect(relativeError(got, reference(x, rows.length, k, w, linear.bias!.data as Float32Array, broken))).toBeGreaterThan(1e-4);
  });

  it('turns a non-finite activation into NaN outputs for its row only (float activations: non-finite, as float32)', () => {
    manualSeed(4);
    const linear = new Linear(6, 5);
    const x = values(18, 2);
    x[7] = Infinity;
    const got = quantizeDynamic(linear, { dtype: 'qint8' }).forward(new Tensor(x, [3, 6])).data as Float32Array;
    // Weights times an infinity are ±inf (NaN where zero weights meet it) when the activations stay float.
    expect(Array.from(got.subarray(5, 10)).every(onVnni ? Number.isNaN : (v: number) => !Number.isFinite(v))).toBe(true);
    expect(Array.from(got.subarray(0, 5)).some(Number.isNaN)).toBe(false);
    expect(Array.from(got.subarray(10, 15)).some(Number.isNaN)).toBe(false);
  });
});

describe('qint8 cells against the kernels\' arithmetic', () => {
  const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

  it('RNNCell: h = tanh(x · W_ihᵀ + b_ih + b_hh + h · W_hhᵀ), each product as the kernels do it', () => {
    manualSeed(11);
    const [I, H, N] = [21, 37, 7];
    const cell = new RNNCell(I, H);
    const x = values(N * I, 1);
    const h = values(N * H, 2, -1, 1);
    const got = quantizeDynamic(cell, { dtype: 'qint8' }).forward(new Tensor(x, [N, I]), new Tensor(h, [N, H])).data as Float32Array;
    const bias = Float32Array.from(cell.bias_ih!.data as Float32Array, (b, j) => b + (cell.bias_hh!.data as Float32Array)[j]);
    const gx = reference(x, N, I, QuantizedWeight.quantize(cell.weight_ih, 'qint8'), bias);
    const gh = reference(h, N, H, QuantizedWeight.quantize(cell.weight_hh, 'qint8'), null);
    const expected = gx.map((g, i) => Math.tanh(Math.fround(g + gh[i])));
    expect(relativeError(got, expected)).toBeLessThanOrEqual(2e-6);
  });

  it('LSTMCell: gates from the same products, then the cell update', () => {
    manualSeed(12);
    const [I, H, N] = [19, 20, 5];
    const cell = new LSTMCell(I, H);
    const x = values(N * I, 3);
    const h = values(N * H, 4, -1, 1);
    const c = values(N * H, 5, -2, 2);
    const [h1, c1] = quantizeDynamic(cell, { dtype: 'qint8' }).forward(new Tensor(x, [N, I]), [new Tensor(h, [N, H]), new Tensor(c, [N, H])]);
    const bias = Float32Array.from(cell.bias_ih!.data as Float32Array, (b, j) => b + (cell.bias_hh!.data as Float32Array)[j]);
    const gx = reference(x, N, I, QuantizedWeight.quantize(cell.weight_ih, 'qint8'), bias);
    const gh = reference(h, N, H, QuantizedWeight.quantize(cell.weight_hh, 'qint8'), null);
    const hExpected = new Float32Array(N * H);
    const cExpected = new Float32Array(N * H);
    for (let r = 0; r < N; r++)
      for (let u = 0; u < H; u++) {
        const gate = (g: number): number => Math.fround(gx[r * 4 * H + g * H + u] + gh[r * 4 * H + g * H + u]);
        const [i, fg, g, o] = [sigmoid(gate(0)), sigmoid(gate(1)), Math.tanh(gate(2)), sigmoid(gate(3))];
        cExpected[r * H + u] = fg * c[r * H + u] + i * g;
        hExpected[r * H + u] = o * Math.tanh(cExpected[r * H + u]);
      }
    expect(relativeError(c1.data as Float32Array, cExpected)).toBeLessThanOrEqual(2e-6);
    expect(relativeError(h1.data as Float32Array, hExpected)).toBeLessThanOrEqual(2e-6);
  });
});

describe('the same results at every thread count', () => {
  const before = getNumThreads();
  afterAll(() => setNumThreads(before));

  it.each<QuantizedDType>(['qint8', 'bfloat16', 'float16'])('%s LSTM, 1 and 2 threads', (dtype) => {
    manualSeed(21);
    const lstm = quantizeDynamic(new LSTM(48, 80, { numLayers: 2, bidirectional: true, projSize: 40 }), { dtype });
    const x = new Tensor(values(30 * 6 * 48, 8), [30, 6, 48]);
    setNumThreads(1);
    const [one] = lstm.forward(x);
    setNumThreads(2);
    const [two] = lstm.forward(x);
    expect(Buffer.from((two.data as Float32Array).buffer).equals(Buffer.from((one.data as Float32Array).buffer))).toBe(true);
  });
});

describe('batch-1 steps (one row streamed through W_hh) as the steps of wider batches', () => {
  const before = getNumThreads();
  afterAll(() => setNumThreads(before));
  // Hidden 380: an LSTM's int8 W_hh (578 KB) is walked in chunks, alternate steps in reverse order; the last
  // panel is partly empty, and int8's 95 k-groups leave a remainder after any split of the k loop.
  const [I, H, T] = [24, 380, 6];
  const layers = {
    LSTM: (): LSTM => new LSTM(I, H),
    GRU: (): GRU => new GRU(I, H),
    RNN: (): RNN => new RNN(I, H),
  };

  it.each<[keyof typeof layers, QuantizedDType]>([
    ['LSTM', 'qint8'],
    ['GRU', 'qint8'],
    ['RNN', 'qint8'],
    ['LSTM', 'bfloat16'],
    ['GRU', 'bfloat16'],
  ])('%s %s: a sequence alone gives what it gives as row 0 of two, at 1 and 2 threads', (mode, dtype) => {
    manualSeed(31);
    const float = layers[mode]();
    const q = quantizeDynamic(float, { dtype });
    const x = values(T * I, 17, -1, 1);
    const other = values(T * I, 18, -1, 1);
    const pair = new Float32Array(T * 2 * I);
    for (let t = 0; t < T; t++) {
      pair.set(x.subarray(t * I, (t + 1) * I), t * 2 * I);
      pair.set(other.subarray(t * I, (t + 1) * I), (t * 2 + 1) * I);
    }
    setNumThreads(1);
    const alone = q.forward(new Tensor(x, [T, 1, I]))[0].data as Float32Array;
    const both = q.forward(new Tensor(pair, [T, 2, I]))[0].data as Float32Array;
    setNumThreads(2);
    const aloneTwo = q.forward(new Tensor(x, [T, 1, I]))[0].data as Float32Array;
    const row0 = Float32Array.from({ length: T * H }, (_, i) => both[Math.floor(i / H) * 2 * H + (i % H)]);
    expect(Buffer.from(alone.buffer).equals(Buffer.from(row0.buffer))).toBe(true);
    expect(Buffer.from(aloneTwo.buffer).equals(Buffer.from(alone.buffer))).toBe(true);
    // And near float32 (a state converted from the wrong step would be far off).
    const exact = float.forward(new Tensor(x, [T, 1, I]))[0].data as Float32Array;
    expect(relativeError(alone, exact)).toBeLessThanOrEqual(1e-2);
  });
});

describe('a projection larger than the caches, computed by each direction in time chunks', () => {
  const before = getNumThreads();
  afterAll(() => setNumThreads(before));
  // T x N x D x 4H floats of gates = 9.4 MB, past the size at which each direction's time loop computes its
  // own gates chunk by chunk; one sequence alone (0.3 MB) takes the whole projection first.
  const [I, H, T, N] = [16, 64, 144, 32];

  it.each<QuantizedDType>(['qint8', 'bfloat16', 'float16'])('%s bidirectional LSTM: each row as that sequence alone, at 1 and 2 threads', (dtype) => {
    manualSeed(41);
    const float = new LSTM(I, H, { numLayers: 2, bidirectional: true });
    const q = quantizeDynamic(float, { dtype });
    const x = values(T * N * I, 23, -1, 1);
    const rowOf = (n: number): Float32Array => {
      const one = new Float32Array(T * I);
      for (let t = 0; t < T; t++) one.set(x.subarray((t * N + n) * I, (t * N + n + 1) * I), t * I);
      return one;
    };
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const [all, [hN]] = q.forward(new Tensor(x, [T, N, I]));
      const out = all.data as Float32Array;
      for (const n of [0, 13, N - 1]) {
        const [alone, [hAlone]] = q.forward(new Tensor(rowOf(n), [T, 1, I]));
        const a = alone.data as Float32Array;
        const mine = Float32Array.from({ length: T * 2 * H }, (_, i) => out[(Math.floor(i / (2 * H)) * N + n) * 2 * H + (i % (2 * H))]);
        expect(Buffer.from(mine.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        const hMine = Float32Array.from({ length: 4 * H }, (_, i) => (hN.data as Float32Array)[(Math.floor(i / H) * N + n) * H + (i % H)]);
        expect(Buffer.from(hMine.buffer).equals(Buffer.from((hAlone.data as Float32Array).buffer))).toBe(true);
      }
      // And near float32 (gates from the wrong chunk or direction would be far off).
      const exact = float.forward(new Tensor(x, [T, N, I]))[0].data as Float32Array;
      expect(relativeError(out, exact)).toBeLessThanOrEqual(2e-2);
    }
  });

  it('qint8 on packed sequences of unequal lengths: each as that sequence alone', () => {
    manualSeed(43);
    const q = quantizeDynamic(new LSTM(I, H, { bidirectional: true }), { dtype: 'qint8' });
    const x = values(T * N * I, 29, -1, 1);
    const lengths = Array.from({ length: N }, (_, n) => T - n);  // 144 down to 113: 8.4 MB of gates
    setNumThreads(1);
    const [packedOut] = q.forward(packPaddedSequence(new Tensor(x, [T, N, I]), lengths));
    const out = padPackedSequence(packedOut as ReturnType<typeof packPaddedSequence>)[0].data as Float32Array;
    for (const n of [0, 7, N - 1]) {
      const L = lengths[n];
      const one = new Float32Array(L * I);
      for (let t = 0; t < L; t++) one.set(x.subarray((t * N + n) * I, (t * N + n + 1) * I), t * I);
      const alone = q.forward(new Tensor(one, [L, 1, I]))[0].data as Float32Array;
      const mine = Float32Array.from({ length: L * 2 * H }, (_, i) => out[(Math.floor(i / (2 * H)) * N + n) * 2 * H + (i % (2 * H))]);
      expect(Buffer.from(mine.buffer).equals(Buffer.from(alone.buffer))).toBe(true);
    }
  });
});
