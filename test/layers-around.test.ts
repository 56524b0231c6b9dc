/**
 * The layers around recurrent ones — Conv1d, LayerNorm, BatchNorm1d, Dropout, the activations, Flatten and
 * Identity — against real PyTorch (test/fixtures/layers_around.json, written by
 * generate_layers_around.py): outputs, buffers through training and evaluation, state-dict names and
 * order, initialisation, and every error message.
 */
import {
  BatchNorm1d,
  Conv1d,
  Dropout,
  LayerNorm,
  Module,
  Tensor,
  manualSeed,
  type DType,
  type Conv1dOptions,
} from '../lib';
import { mismatch } from './helpers/close';
import { toTensor, type FixtureTensor } from './helpers/fixtures';
import { fixture, type AnyFixtureTensor, type Named, type ConvCase } from './helpers/layers_around_fixture';

const messages = fixture.messages;

/** A fixture tensor of any recorded dtype; int64 values are exact. */
function toAnyTensor(t: AnyFixtureTensor): Tensor<DType> {
  if (t.dtype === 'int64') return new Tensor(BigInt64Array.from(t.data, (v) => BigInt(v)), t.shape, 'int64');
  return toTensor(t as FixtureTensor);
}

function toStateDict(named: Named[]): Record<string, Tensor<DType>> {
  return Object.fromEntries(named.map((t) => [t.name, toAnyTensor(t)]));
}

/** Every value equal, for int64 tensors; within the parity tolerance for float ones. */
function bufferMismatch(actual: Tensor<DType> | undefined, expected: Named, what: string): string | null {
  if (actual === undefined) return `${what}: missing`;
  if (expected.dtype !== 'int64') return mismatch(actual as Tensor, toTensor(expected as FixtureTensor), what);
  const same = actual.dtype === 'int64' && actual.shape.length === expected.shape.length && actual.data[0] === BigInt(expected.data[0]);
  return same ? null : `${what}: ${actual.dtype} ${String(actual.data[0])} but PyTorch gave ${String(expected.data[0])}`;
}

/** A message that names a set, compared as PyTorch prints it but with the set's members in any order. */
function sortedSet(message: string): string {
  return message.replace(/\{([^}]*)\}/g, (_m, inner: string) => `{${inner.split(', ').sort().join(', ')}}`);
}

function values(t: Tensor): number[] {
  return Array.from(t.data as Float32Array | Float64Array);
}

describe('Conv1d', () => {
  const build = (c: ConvCase): Conv1d =>
    new Conv1d(c.inChannels, c.outChannels, c.kernelSize, { ...c.options, dtype: c.dtype });

  test.each(fixture.conv1d.map((c) => [c.name, c] as const))('%s gives PyTorch output', (_name, c) => {
    const conv = build(c);
    conv.loadStateDict(toStateDict(c.params));
    expect(mismatch(conv.forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
    expect(Object.keys(conv.stateDict())).toEqual(c.stateDictKeys);
  });

  test('a load re-packs the weights; flattenParameters re-packs after an in-place edit', () => {
    const c = fixture.conv1d[0];
    const conv = build(c);
    const other = build(c).stateDict();
    conv.loadStateDict(other);
    conv.forward(toTensor(c.input));
    conv.loadStateDict(toStateDict(c.params));
    expect(mismatch(conv.forward(toTensor(c.input)), toTensor(c.output), 'after load')).toBeNull();
    conv.loadStateDict(other);
    conv.forward(toTensor(c.input));
    (conv.weight.data as Float32Array).set(toTensor(c.params[0] as FixtureTensor).data as Float32Array);
    (conv.bias!.data as Float32Array).set(toTensor(c.params[1] as FixtureTensor).data as Float32Array);
    conv.flattenParameters();
    expect(mismatch(conv.forward(toTensor(c.input)), toTensor(c.output), 'after flattenParameters')).toBeNull();
  });

  test('a long batch goes through the GEMM in chunks of rows and gives what each sample gives alone', () => {
    manualSeed(11);
    const conv = new Conv1d(16, 8, 5, { padding: 2 });
    const [batch, length] = [3, 6000];
    const x = Tensor.zeros([batch, 16, length]);
    const xs = x.data as Float32Array;
    for (let i = 0; i < xs.length; i++) xs[i] = Math.sin(i * 0.37);
    const all = conv.forward(x).data as Float32Array;
    const size = 8 * length;
    for (let n = 0; n < batch; n++) {
      const sample = new Tensor(xs.slice(n * 16 * length, (n + 1) * 16 * length), [16, length]);
      const alone = new Tensor((conv.forward(sample).data as Float32Array).slice(), [size]);
      expect(mismatch(new Tensor(all.slice(n * size, (n + 1) * size), [size]), alone, `sample ${n}`)).toBeNull();
    }
  });

  test('double() converts the weights and the next forward uses them', () => {
    const c = fixture.conv1d.find((k) => k.dtype === 'float64')!;
    const conv = new Conv1d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    conv.forward(Tensor.zeros(c.input.shape));
    conv.double();
    expect(conv.dtype).toBe('float64');
    conv.loadStateDict(toStateDict(c.params));
    expect(mismatch(conv.forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
  });

  test('init: weight and bias within ±1/√(inChannels/groups · kernelSize), reproducible with manualSeed', () => {
    manualSeed(5);
    const a = new Conv1d(6, 300, 5, { groups: 3 });
    manualSeed(5);
    const b = new Conv1d(6, 300, 5, { groups: 3 });
    expect(values(a.weight)).toEqual(values(b.weight));
    const bound = 1 / Math.sqrt(10);
    for (const p of a.parameters()) {
      const v = values(p);
      expect(Math.max(...v)).toBeLessThan(bound);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-bound);
      expect(Math.max(...v)).toBeGreaterThan(0.9 * bound);
      expect(Math.min(...v)).toBeLessThan(-0.9 * bound);
    }
  });

  test("PyTorch's construction errors", () => {
    expect(() => new Conv1d(4, 2, 3, { stride: 2, padding: 'same' })).toThrow(messages.conv_same_strided);
    expect(() => new Conv1d(4, 2, 3, { padding: 'foo' as 'same' })).toThrow(sortedSet(messages.conv_padding_foo));
    expect(() => new Conv1d(4, 3, 3, { groups: 2 })).toThrow(messages.conv_out_groups);
    expect(() => new Conv1d(3, 4, 3, { groups: 2 })).toThrow(messages.conv_in_groups);
    expect(() => new Conv1d(4, 4, 3, { groups: 0 })).toThrow(messages.conv_groups_0);
    expect(() => new Conv1d(4, 4, 3, { stride: 0 })).toThrow(messages.conv_stride_0);
    expect(() => new Conv1d(4, 4, 3, { padding: -1 })).toThrow(messages['conv_padding_-1']);
    expect(() => new Conv1d(4, 4, 0)).toThrow(messages.conv_kernel_0);
    expect(() => new Conv1d(4, 4, 3, { dilation: 0 })).toThrow(messages.conv_dilation_0);
    let modeMessage = '';
    try {
      new Conv1d(4, 4, 3, { paddingMode: 'foo' as 'zeros' });
    } catch (e) {
      modeMessage = (e as Error).message;
    }
    expect(sortedSet(modeMessage)).toBe(sortedSet(messages.conv_padding_mode_foo));
    expect(() => new Conv1d(4, 4, 3, { paddingMode: 'zeroes' } as unknown as Conv1dOptions)).toThrow(
      "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='zeroes'",
    );
    expect(() => new Conv1d(4, 4, 3, { padding_mode: 'zeros' } as unknown as Conv1dOptions)).toThrow(
      "Unknown option 'padding_mode' for Conv1d: did you mean 'paddingMode'?",
    );
    expect(() => new Conv1d(4, 4, 2.5)).toThrow('kernel_size must be an integer, got: number 2.5');
    expect(() => new Conv1d(4, 4, 3, { dtype: 'int64' as 'float32' })).toThrow(TypeError);
  });

  test("PyTorch's forward errors", () => {
    const conv = new Conv1d(4, 2, 3);
    expect(() => conv.forward(Tensor.zeros([2, 3, 5]))).toThrow(messages.conv_channels_2x3x5);
    expect(() => conv.forward(Tensor.zeros([3, 5]))).toThrow(messages.conv_channels_unbatched_3x5);
    expect(() => new Conv1d(4, 6, 3, { groups: 2 }).forward(Tensor.zeros([2, 6, 5]))).toThrow(messages.conv_channels_groups2);
    expect(() => conv.forward(Tensor.zeros([2, 4, 2]))).toThrow(messages.conv_too_short);
    expect(() => new Conv1d(4, 2, 3, { dilation: 2 }).forward(Tensor.zeros([2, 4, 4]))).toThrow(messages.conv_too_short_dilated);
    expect(() => new Conv1d(4, 2, 6, { padding: 1 }).forward(Tensor.zeros([2, 4, 3]))).toThrow(messages.conv_too_short_padded);
    expect(() => new Conv1d(2, 2, 3, { padding: 2 }).forward(Tensor.zeros([1, 2, 0]))).toThrow(messages.conv_zero_length_padded);
    expect(() => conv.forward(Tensor.zeros([2, 2, 4, 5]))).toThrow(messages.conv_4d);
    expect(() => conv.forward(Tensor.zeros([4]))).toThrow(messages.conv_1d);
    expect(() => new Conv1d(4, 4, 3, { padding: 3, paddingMode: 'reflect' }).forward(Tensor.zeros([1, 4, 3]))).toThrow(
      messages.conv_reflect_too_wide,
    );
    expect(() => new Conv1d(4, 4, 3, { padding: 4, paddingMode: 'circular' }).forward(Tensor.zeros([1, 4, 3]))).toThrow(
      messages.conv_circular_too_wide,
    );
    expect(() => conv.forward(Tensor.zeros([2, 4, 5], 'float64'))).toThrow(messages.conv_float64_on_float32);
    expect(() => conv.forward([1, 2] as unknown as Tensor)).toThrow("conv1d(): argument 'input' must be Tensor, not Array");
  });
});

describe('LayerNorm', () => {
  test.each(fixture.layerNorm.map((c) => [c.name, c] as const))('%s gives PyTorch output', (_name, c) => {
    const norm = new LayerNorm(c.normalizedShape, { ...c.options, dtype: c.dtype });
    norm.loadStateDict(toStateDict(c.params));
    expect(mismatch(norm.forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
    expect(Object.keys(norm.stateDict())).toEqual(c.stateDictKeys);
  });

  test('weight ones, bias zeros, names and repr; without affine, none, and the input keeps its dtype', () => {
    const norm = new LayerNorm([3, 4]);
    expect(norm.namedParameters().map(([n, p]) => [n, p.shape, p.dtype])).toEqual([
      ['weight', [3, 4], 'float32'],
      ['bias', [3, 4], 'float32'],
    ]);
    expect(values(norm.weight!)).toEqual(new Array(12).fill(1));
    expect(values(norm.bias!)).toEqual(new Array(12).fill(0));
    expect(Object.keys(new LayerNorm(4).stateDict())).toEqual(fixture.stateDictKeys.LayerNorm);
    const plain = new LayerNorm(4, { elementwiseAffine: false });
    expect(Object.keys(plain.stateDict())).toEqual(fixture.stateDictKeys.LayerNorm_no_affine);
    expect(plain.weight).toBeUndefined();
    expect(plain.forward(Tensor.ones([2, 4], 'float64')).dtype).toBe('float64');
    expect(String(norm)).toBe('LayerNorm([3, 4], eps=0.00001, elementwiseAffine=true)');
  });

  test("PyTorch's errors", () => {
    expect(() => new LayerNorm(4).forward(Tensor.zeros([2, 3]))).toThrow(messages.layernorm_4_on_2x3);
    expect(() => new LayerNorm([3, 4]).forward(Tensor.zeros([2, 4, 3]))).toThrow(messages.layernorm_3x4_on_2x4x3);
    expect(() => new LayerNorm([3, 4]).forward(Tensor.zeros([4]))).toThrow(messages.layernorm_3x4_on_4);
    expect(() => new LayerNorm(3).forward(Tensor.zeros([2, 3], 'float64'))).toThrow('expected scalar type Double but found Float');
    expect(() => new LayerNorm(3, { elementwise_affine: false } as never)).toThrow(
      "Unknown option 'elementwise_affine' for LayerNorm: did you mean 'elementwiseAffine'?",
    );
    expect(() => new LayerNorm([2, -1])).toThrow(TypeError);
    expect(() => new LayerNorm(3, { eps: -1 })).toThrow('eps should be a non-negative number, got: number -1');
  });
});

describe('BatchNorm1d', () => {
  test.each(fixture.batchNorm1d.map((c) => [c.name, c] as const))(
    '%s: outputs and buffers through training and evaluation as PyTorch',
    (_name, c) => {
      const bn = new BatchNorm1d(c.numFeatures, { ...c.options, dtype: c.dtype });
      bn.loadStateDict({ ...toStateDict(c.params), ...toStateDict(c.buffers) });
      expect(Object.keys(bn.stateDict())).toEqual(c.stateDictKeys);
      c.steps.forEach((step, i) => {
        bn.train(step.training);
        const problems = [mismatch(bn.forward(toTensor(step.input)), toTensor(step.output), `step ${i} output`)];
        const buffers = new Map(bn.namedBuffers());
        expect([...buffers.keys()]).toEqual(step.buffers.map((b) => b.name));
        for (const b of step.buffers) problems.push(bufferMismatch(buffers.get(b.name), b, `step ${i} ${b.name}`));
        expect(problems.filter((p) => p !== null)).toEqual([]);
      });
    },
  );

  test("defaults, PyTorch's names and order, an int64 num_batches_tracked of shape []", () => {
    const bn = new BatchNorm1d(4);
    expect(Object.keys(bn.stateDict())).toEqual(fixture.stateDictKeys.BatchNorm1d);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(fixture.stateDictKeys.parameters_BatchNorm1d);
    expect(bn.namedBuffers().map(([n]) => n)).toEqual(fixture.stateDictKeys.buffers_BatchNorm1d);
    expect(values(bn.weight!)).toEqual([1, 1, 1, 1]);
    expect(values(bn.bias!)).toEqual([0, 0, 0, 0]);
    expect(values(bn.running_mean!)).toEqual([0, 0, 0, 0]);
    expect(values(bn.running_var!)).toEqual([1, 1, 1, 1]);
    expect([bn.num_batches_tracked!.dtype, bn.num_batches_tracked!.shape, bn.num_batches_tracked!.data[0]]).toEqual(['int64', [], 0n]);
    expect(Object.keys(new BatchNorm1d(4, { affine: false }).stateDict())).toEqual(fixture.stateDictKeys.BatchNorm1d_no_affine);
    const untracked = new BatchNorm1d(4, { trackRunningStats: false });
    expect(Object.keys(untracked.stateDict())).toEqual(fixture.stateDictKeys.BatchNorm1d_untracked);
    expect(untracked.namedBuffers().map(([n]) => n)).toEqual(fixture.stateDictKeys.buffers_BatchNorm1d_untracked);
    expect(untracked.running_mean).toBeUndefined();
    expect(String(bn)).toBe('BatchNorm1d(4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
    expect(String(new BatchNorm1d(3, { momentum: null, affine: false }))).toBe(
      'BatchNorm1d(3, eps=0.00001, momentum=null, affine=false, trackRunningStats=true)',
    );
  });

  test('double() keeps num_batches_tracked int64', () => {
    const bn = new BatchNorm1d(2).double();
    expect(bn.running_var!.dtype).toBe('float64');
    expect(bn.num_batches_tracked!.dtype).toBe('int64');
  });

  test('evaluation leaves the buffers alone; training counts batches', () => {
    const bn = new BatchNorm1d(2).eval();
    bn.forward(tensorOf([[1, 2], [3, 5]]));
    expect(values(bn.running_mean!)).toEqual([0, 0]);
    expect(bn.num_batches_tracked!.data[0]).toBe(0n);
    bn.train();
    bn.forward(tensorOf([[1, 2], [3, 5]]));
    bn.forward(tensorOf([[1, 2], [3, 5]]));
    expect(bn.num_batches_tracked!.data[0]).toBe(2n);
  });

  test("PyTorch's errors", () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(Tensor.zeros([2, 3, 4, 5]))).toThrow(messages.batchnorm_4d);
    expect(() => bn.forward(Tensor.zeros([3]))).toThrow(messages.batchnorm_1d);
    expect(() => bn.forward(Tensor.zeros([1, 3]))).toThrow(messages.batchnorm_one_value_2d);
    expect(() => bn.forward(Tensor.zeros([1, 3, 1]))).toThrow(messages.batchnorm_one_value_3d);
    expect(bn.num_batches_tracked!.data[0]).toBe(0n);
    expect(() => new BatchNorm1d(3, { trackRunningStats: false }).eval().forward(Tensor.zeros([1, 3]))).toThrow(
      messages.batchnorm_one_value_untracked_eval,
    );
    expect(() => bn.forward(Tensor.zeros([2, 4]))).toThrow(messages.batchnorm_3_on_2x4);
    expect(() => bn.forward(Tensor.zeros([2, 4, 5]))).toThrow(messages.batchnorm_3_on_2x4x5);
    expect(() => bn.forward(Tensor.zeros([2, 3], 'float64'))).toThrow('expected scalar type Double but found Float');
    expect(() => new BatchNorm1d(3, { momentum: '0.1' as never })).toThrow("momentum should be a number or null, got: string '0.1'");
    expect(() => new BatchNorm1d(3, { track_running_stats: false } as never)).toThrow(
      "Unknown option 'track_running_stats' for BatchNorm1d: did you mean 'trackRunningStats'?",
    );
  });
});

function tensorOf(rows: number[][]): Tensor {
  return new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
}

describe('Dropout', () => {
  test("PyTorch's errors and repr", () => {
    expect(() => new Dropout(1.5)).toThrow(messages['dropout_p_1.5']);
    expect(() => new Dropout(-0.1)).toThrow(messages['dropout_p_-0.1']);
    expect(() => new Dropout(NaN)).toThrow('dropout probability has to be between 0 and 1, but got NaN');
    expect(() => new Dropout('0.1' as unknown as number)).toThrow(TypeError);
    expect(String(new Dropout())).toBe('Dropout(p=0.5)');
    expect(new Dropout().p).toBe(0.5);
  });

  test('evaluation returns the input itself', () => {
    const x = Tensor.ones([3, 4]);
    expect(new Dropout(0.9).eval().forward(x)).toBe(x);
  });

  test.each(['float32', 'float64'] as const)('%s: about p of the elements zeroed, the rest scaled by 1/(1-p)', (dtype) => {
    manualSeed(1);
    const n = 200_000;
    const p = 0.3;
    const y = new Dropout(p).forward(Tensor.ones([n], dtype));
    expect(y.dtype).toBe(dtype);
    const kept = dtype === 'float32' ? Math.fround(1 / 0.7) : 1 / 0.7;
    let zeros = 0;
    let other = 0;
    for (const v of values(y)) {
      if (v === 0) zeros++;
      else if (v !== kept) other++;
    }
    expect(other).toBe(0);
    // The share of zeros has a standard deviation of √(p(1-p)/n) ≈ 0.001: six of them is 0.006.
    expect(Math.abs(zeros / n - p)).toBeLessThan(0.006);
  });

  test('a dropped element is multiplied by 0, as PyTorch: NaN and infinities give NaN, -1 gives -0', () => {
    const y = new Dropout(1).forward(toTensor(fixture.dropout.input));
    const expected = toTensor(fixture.dropout.p1);
    expect(values(y).map((v) => (Object.is(v, -0) ? '-0' : String(v)))).toEqual(
      values(expected).map((v) => (Object.is(v, -0) ? '-0' : String(v))),
    );
    manualSeed(3);
    const half = values(new Dropout(0.5).forward(toTensor(fixture.dropout.input)));
    expect(Number.isNaN(half[0])).toBe(true);
  });

  test('manualSeed reproduces the mask; p = 0 keeps and p = 1 drops everything', () => {
    const x = Tensor.ones([1000]);
    manualSeed(7);
    const a = values(new Dropout(0.5).forward(x));
    manualSeed(7);
    const b = values(new Dropout(0.5).forward(x));
    const c = values(new Dropout(0.5).forward(x));
    expect(a).toEqual(b);
    expect(c).not.toEqual(b);
    expect(values(new Dropout(0).forward(x))).toEqual(values(x));
    expect(values(new Dropout(1).forward(x))).toEqual(new Array(1000).fill(0));
  });
});

describe('integer inputs', () => {
  const longs = (shape: number[]): Tensor => Tensor.zeros(shape, 'int64') as unknown as Tensor;

  test('are refused with a message naming the types', () => {
    expect(() => new Conv1d(2, 2, 1).forward(longs([1, 2, 3]))).toThrow(messages.conv_int64_input);
    expect(() => new LayerNorm(3).forward(longs([2, 3]))).toThrow('expected scalar type Long but found Float');
    expect(() => new LayerNorm(3, { elementwiseAffine: false }).forward(longs([2, 3]))).toThrow('expected scalar type Long but found Float');
    expect(() => new BatchNorm1d(3).forward(longs([2, 3]))).toThrow('expected scalar type Long but found Float');
    expect(() => new Dropout(0.2).forward(longs([2, 3]))).toThrow('dropout: expected a floating-point input, got int64');
  });
});

describe('the layers inside a model', () => {
  class Front extends Module {
    conv = new Conv1d(3, 4, 3, { padding: 1 });
    bn = new BatchNorm1d(4);
    drop = new Dropout(0.5);
    norm = new LayerNorm(5, { elementwiseAffine: false });

    forward(x: Tensor): Tensor {
      return this.norm.forward(this.drop.forward(this.bn.forward(this.conv.forward(x))));
    }
  }

  test("dotted state-dict keys in PyTorch's order; eval() reaches every layer", () => {
    const model = new Front();
    expect(Object.keys(model.stateDict())).toEqual([
      'conv.weight',
      'conv.bias',
      'bn.weight',
      'bn.bias',
      'bn.running_mean',
      'bn.running_var',
      'bn.num_batches_tracked',
    ]);
    model.eval();
    const x = Tensor.ones([2, 3, 5]);
    expect(values(model.forward(x))).toEqual(values(model.forward(x)));
    expect(model.bn.num_batches_tracked!.data[0]).toBe(0n);
    expect(model.forward(x).shape).toEqual([2, 4, 5]);
  });
});
