/**
 * The activations as modules (ReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax), Flatten and Identity
 * against real PyTorch (test/fixtures/layers_around.json, written by generate_layers_around.py): outputs
 * incl. infinities and NaN, reprs, and every error message; and the shape modules inside a model.
 */
import {
  BatchNorm1d,
  Conv1d,
  Dropout,
  Flatten,
  GELU,
  Identity,
  LogSoftmax,
  Module,
  ReLU,
  Sigmoid,
  Softmax,
  Tanh,
  Tensor,
} from '../lib';
import { mismatch } from './helpers/close';
import { toTensor } from './helpers/fixtures';
import { fixture, type ActivationCase } from './helpers/layers_around_fixture';

const messages = fixture.messages;

describe('activations', () => {
  const build = (c: ActivationCase): Module & { forward(x: Tensor): Tensor } => {
    switch (c.module) {
      case 'ReLU':
        return new ReLU();
      case 'Tanh':
        return new Tanh();
      case 'Sigmoid':
        return new Sigmoid();
      case 'GELU':
        return new GELU(c.options as { approximate?: 'none' | 'tanh' });
      case 'Softmax':
        return new Softmax(c.options.dim as number);
      case 'LogSoftmax':
        return new LogSoftmax(c.options.dim as number);
    }
  };

  test.each(fixture.activations.map((c) => [c.name, c] as const))('%s gives PyTorch output', (_name, c) => {
    expect(mismatch(build(c).forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
  });

  test("PyTorch's reprs, no parameters", () => {
    expect([new ReLU(), new Tanh(), new Sigmoid()].map(String)).toEqual(['ReLU()', 'Tanh()', 'Sigmoid()']);
    expect(String(new GELU())).toBe("GELU(approximate='none')");
    expect(String(new GELU({ approximate: 'tanh' }))).toBe("GELU(approximate='tanh')");
    expect(String(new GELU('tanh'))).toBe("GELU(approximate='tanh')");
    expect(String(new Softmax(1))).toBe('Softmax(dim=1)');
    expect(String(new LogSoftmax(-1))).toBe('LogSoftmax(dim=-1)');
    expect(Object.keys(new Softmax(0).stateDict())).toEqual([]);
  });

  test("PyTorch's errors; a dimension is required", () => {
    expect(() => new Softmax(2).forward(Tensor.zeros([2, 3]))).toThrow(messages.softmax_dim_2_of_2d);
    expect(() => new LogSoftmax(-3).forward(Tensor.zeros([2, 3]))).toThrow(messages['logsoftmax_dim_-3_of_2d']);
    expect(() => new GELU({ approximate: 'foo' as 'none' })).toThrow(messages.gelu_approximate_foo);
    expect(() => new GELU('foo' as 'none')).toThrow(messages.gelu_approximate_foo);
    const NoDim = Softmax as unknown as new () => Softmax;
    expect(() => new NoDim()).toThrow("Softmax needs the dimension to normalise over, e.g. new Softmax(-1): PyTorch's implicit choice of dim is deprecated");
    expect(() => new LogSoftmax(1.5)).toThrow('LogSoftmax: dim must be an integer, got: number 1.5');
    expect(() => new ReLU().forward(null as unknown as Tensor)).toThrow("relu(): argument 'input' must be Tensor, not null");
  });
});

describe('Flatten and Identity', () => {
  test.each(fixture.flatten.map((c) => [`[${c.inputShape}] from ${c.startDim} to ${c.endDim}`, c] as const))(
    '%s: the shape PyTorch gives, sharing the data',
    (_name, c) => {
      const x = Tensor.zeros(c.inputShape);
      const y = new Flatten(c.startDim, c.endDim).forward(x);
      expect(y.shape).toEqual(c.outputShape);
      expect(y.data).toBe(x.data);
    },
  );

  test("PyTorch's errors and repr", () => {
    expect(() => new Flatten(0, 2).forward(Tensor.zeros([2, 3]))).toThrow(messages.flatten_0_2_of_2d);
    expect(() => new Flatten(1, 0).forward(Tensor.zeros([2, 3, 4]))).toThrow(messages.flatten_1_0);
    expect(() => new Flatten().forward(Tensor.zeros([]))).toThrow(messages.flatten_default_of_0d);
    expect(String(new Flatten())).toBe('Flatten(startDim=1, endDim=-1)');
  });

  test('Identity returns its input and ignores its arguments', () => {
    const x = Tensor.zeros([2, 3]);
    expect(new Identity(54, { unused: 0.1 }).forward(x)).toBe(x);
    expect(String(new Identity())).toBe('Identity()');
  });
});

describe('the shape and activation modules inside a model', () => {
  class Front extends Module {
    conv = new Conv1d(3, 4, 3, { padding: 1 });
    bn = new BatchNorm1d(4);
    act = new ReLU();
    drop = new Dropout(0.5);
    flat = new Flatten();
    out = new Identity();

    forward(x: Tensor): Tensor {
      return this.out.forward(this.flat.forward(this.drop.forward(this.act.forward(this.bn.forward(this.conv.forward(x))))));
    }
  }

  test("they add no state-dict keys, show in the nested repr, and follow eval()", () => {
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
    expect(model.namedChildren().map(([name]) => name)).toEqual(['conv', 'bn', 'act', 'drop', 'flat', 'out']);
    expect(String(model)).toBe(
      [
        'Front(',
        '  (conv): Conv1d(3, 4, kernelSize=3, stride=1, padding=1)',
        '  (bn): BatchNorm1d(4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
        '  (act): ReLU()',
        '  (drop): Dropout(p=0.5)',
        '  (flat): Flatten(startDim=1, endDim=-1)',
        '  (out): Identity()',
        ')',
      ].join('\n'),
    );
    model.eval();
    expect(model.drop.training).toBe(false);
    const x = Tensor.ones([2, 3, 5]);
    const y = model.forward(x);
    expect(y.shape).toEqual([2, 20]);
    expect(Array.from(y.data).every((v) => v >= 0)).toBe(true);
    expect(Array.from(model.forward(x).data)).toEqual(Array.from(y.data));
  });
});
