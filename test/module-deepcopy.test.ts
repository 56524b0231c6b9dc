/**
 * deepCopy, PyTorch's `copy.deepcopy(model)`: a copy of every kind of layer and container computes what the
 * original computes, and from then on each lives on its own — weights, loaded state dicts, running
 * statistics, training flags and in-place quantization of one never reach the other. Shared modules and
 * tied weights stay shared inside the copy; plain properties are copied as deepcopy copies them.
 */
import {
  BatchNorm1d,
  Conv1d,
  DynamicQuantizedGRU,
  DynamicQuantizedLSTM,
  DynamicQuantizedLinear,
  DynamicQuantizedRNNCell,
  Embedding,
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  LayerNorm,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  RNN,
  RNNCell,
  ReLU,
  Sequential,
  Tensor,
  deepCopy,
  manualSeed,
  quantizeDynamic,
  type DType,
  type DeepCopy,
  type RNNBase,
  type RNNCellBase,
} from '../lib';
import { sineTensor } from './helpers/random';

const filled = sineTensor;

function values(t: Tensor<DType>): unknown[] {
  return Array.from(t.data as ArrayLike<unknown>);
}

type AnyCell = RNNCellBase<Tensor | [Tensor, Tensor]>;

/** One of every layer, in every container, with forward results gathered by name. */
class Zoo extends Module {
  embed = new Embedding(12, 6, { paddingIdx: 0 });
  conv = new Conv1d(6, 4, 3, { padding: 'same' });
  norm = new LayerNorm(6);
  batch = new BatchNorm1d(6);
  recurrent = new ModuleList<RNNBase>([
    new LSTM(6, 5, 2, { projSize: 3, dropout: 0.5 }),
    new GRU(6, 5, { bidirectional: true }),
    new RNN(6, 5, { nonlinearity: 'relu' }),
  ]);
  cells = new ModuleDict<AnyCell>({
    lstm: new LSTMCell(6, 4) as AnyCell,
    gru: new GRUCell(6, 4) as AnyCell,
    rnn: new RNNCell(6, 4, { nonlinearity: 'relu' }) as AnyCell,
  });
  head = new Sequential(new Linear(6, 8), new ReLU(), new Linear(8, 3, { bias: false }));

  /** Every layer's output for fixed inputs, by name (eval mode gives the same on every call). */
  outputs(): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>();
    out.set('embed', values(this.embed.forward([[1, 0, 5], [11, 2, 3]])));
    out.set('conv', values(this.conv.forward(filled([2, 6, 7], 1))));
    out.set('norm', values(this.norm.forward(filled([3, 6], 2))));
    out.set('batch', values(this.batch.forward(filled([4, 6], 3))));
    const x = filled([7, 2, 6], 4);
    this.recurrent.at(0); // (reached through the list below)
    for (const [i, layer] of [...this.recurrent].entries()) {
      const [output, hidden] = layer.forward(x);
      out.set(`recurrent.${i}`, [...values(output as Tensor), ...[hidden].flat().flatMap((t) => values(t))]);
    }
    for (const [key, cell] of this.cells.items()) out.set(`cells.${key}`, [cell.forward(filled([2, 6], 5))].flat().flatMap((t) => values(t)));
    out.set('head', values(this.head.forward(filled([2, 6], 6))));
    return out;
  }
}

describe('deepCopy of every layer and container', () => {
  it('gives new modules of the same classes, with equal state dicts and equal results', () => {
    const model = new Zoo().eval();
    const before = model.outputs();
    const copy = deepCopy(model);
    expect(copy).toBeInstanceOf(Zoo);
    expect(Object.getPrototypeOf(copy)).toBe(Zoo.prototype);
    const originals = model.namedModules();
    const copies = copy.namedModules();
    expect(copies.map(([name]) => name)).toEqual(originals.map(([name]) => name));
    copies.forEach(([name, module], i) => {
      expect(Object.getPrototypeOf(module) === Object.getPrototypeOf(originals[i][1]) ? name : `${name}: another class`).toBe(name);
      expect(module).not.toBe(originals[i][1]);
    });
    expect(String(copy)).toBe(String(model));
    const sd = model.stateDict();
    const copiedSd = copy.stateDict();
    expect(Object.keys(copiedSd)).toEqual(Object.keys(sd));
    for (const [key, tensor] of Object.entries(copiedSd)) {
      expect([key, tensor.dtype, tensor.shape, values(tensor)]).toEqual([key, sd[key].dtype, sd[key].shape, values(sd[key])]);
      expect(tensor.data.buffer).not.toBe(sd[key].data.buffer);
    }
    expect(copy.outputs()).toEqual(before);
    expect(model.outputs()).toEqual(before);
  });

  it('keeps configuration held privately: dropout, padding, dtype, containers’ items by name and index', () => {
    const model = new Zoo();
    (model.recurrent.at(1) as GRU).dropout = 0.25;
    const copy = deepCopy(model);
    expect(copy.recurrent.at(0).dropout).toBe(0.5);
    expect(copy.recurrent.at(1).dropout).toBe(0.25);
    expect(copy.recurrent.length).toBe(3);
    expect(copy.recurrent[2]).toBeInstanceOf(RNN);
    expect(copy.cells.keys()).toEqual(['lstm', 'gru', 'rnn']);
    expect(copy.head[0]).toBe(copy.head.at(0));
    expect(copy.head[0]).not.toBe(model.head[0]);
    // Setting an item of the copy goes to the copy's own list.
    copy.head[1] = new Linear(8, 8);
    expect(model.head[1]).toBeInstanceOf(ReLU);
    const double = deepCopy(new Linear(3, 2, { dtype: 'float64' }));
    expect(double.dtype).toBe('float64');
    expect(deepCopy(new LayerNorm([2, 3], { elementwiseAffine: false, dtype: 'float64' })).dtype).toBe('float64');
  });

  it('copies the training flag of every module, and train()/eval() of one never reach the other', () => {
    const model = new Zoo();
    model.cells.eval();
    const copy = deepCopy(model);
    expect(copy.modules().map((m) => m.training)).toEqual(model.modules().map((m) => m.training));
    expect(copy.cells.get('gru').training).toBe(false);
    copy.eval();
    expect(model.training).toBe(true);
    expect(model.recurrent.at(0).training).toBe(true);
    model.train();
    expect(copy.modules().every((m) => !m.training)).toBe(true);
  });
});

describe('independence, both ways', () => {
  it('an in-place edit of the copy’s weights, repacked, changes only the copy', () => {
    const model = new Zoo().eval();
    const copy = deepCopy(model);
    const before = model.outputs(); // every layer has packed its weights
    for (const param of copy.parameters()) (param.data as Float32Array).fill(0.125);
    for (const module of copy.modules()) (module as { flattenParameters?: () => void }).flattenParameters?.();
    const after = copy.outputs();
    for (const [name, result] of after) expect([name, result]).not.toEqual([name, before.get(name)]);
    for (const module of model.modules()) (module as { flattenParameters?: () => void }).flattenParameters?.();
    expect(model.outputs()).toEqual(before);
  });

  it('loading a state dict into the original leaves the copy as it was', () => {
    const model = new Zoo().eval();
    const copy = deepCopy(model);
    const before = copy.outputs();
    model.outputs(); // packed before the load
    const other = new Zoo();
    model.loadStateDict(other.stateDict());
    expect(copy.outputs()).toEqual(before);
    const changed = model.outputs();
    expect(changed.get('recurrent.0')).not.toEqual(before.get('recurrent.0'));
    expect(changed.get('cells.lstm')).not.toEqual(before.get('cells.lstm'));
    expect(changed.get('head')).not.toEqual(before.get('head'));
    // And the other way: loading into the copy leaves the original.
    copy.loadStateDict(new Zoo().stateDict());
    expect(model.outputs()).toEqual(changed);
  });

  it('a training-mode forward updates the running statistics of the copy alone', () => {
    const bn = new BatchNorm1d(3);
    const copy = deepCopy(bn);
    copy.forward(filled([4, 3], 1));
    expect(values(copy.num_batches_tracked as Tensor<'int64'>)).toEqual([1n]);
    expect(values(bn.num_batches_tracked as Tensor<'int64'>)).toEqual([0n]);
    expect(values(bn.running_mean as Tensor)).toEqual([0, 0, 0]);
  });

  it('quantizing the copy in place leaves the original float32, with its results', () => {
    const model = new Zoo().eval();
    const before = model.outputs();
    const copy = deepCopy(model);
    quantizeDynamic(copy, { dtype: 'qint8', inplace: true });
    expect(copy.recurrent.at(0)).toBeInstanceOf(DynamicQuantizedLSTM);
    expect(copy.head.at(0)).toBeInstanceOf(DynamicQuantizedLinear);
    expect(model.recurrent.at(0)).toBeInstanceOf(LSTM);
    expect(model.head.at(0)).toBeInstanceOf(Linear);
    expect(model.parameters().every((p) => p.dtype === 'float32')).toBe(true);
    expect(model.outputs()).toEqual(before);
  });
});

describe('what is shared stays shared, inside the copy', () => {
  it('a module held in two places is copied once', () => {
    const shared = new LSTM(3, 3);
    const model = new Sequential(shared, new ModuleList([shared]));
    const copy = deepCopy(model);
    expect(copy.at(0)).not.toBe(shared);
    expect((copy.at(1) as ModuleList).at(0)).toBe(copy.at(0));
    expect(copy.namedModules().map(([name]) => name)).toEqual(model.namedModules().map(([name]) => name));
  });

  it('tied weights stay tied, to a new tensor', () => {
    class TiedLM extends Module {
      embed = new Embedding(10, 4);
      decoder = new Linear(4, 10);
      constructor() {
        super();
        this.decoder.registerParameter('weight', this.embed.weight);
      }
    }
    const model = new TiedLM();
    const copy = deepCopy(model);
    expect(copy.decoder.weight).toBe(copy.embed.weight);
    expect(copy.embed.weight).not.toBe(model.embed.weight);
    expect(copy.parameters().length).toBe(model.parameters().length);
    expect(Object.keys(copy.stateDict())).toEqual(Object.keys(model.stateDict()));
    const input = filled([2, 4], 3);
    expect(values(copy.decoder.forward(input))).toEqual(values(model.decoder.forward(input)));
  });

  it('a tensor held by a plain property and as a parameter is one tensor in the copy', () => {
    class Holder extends Module {
      layer = new Linear(2, 2);
      alias = this.layer.weight;
    }
    const copy = deepCopy(new Holder());
    expect(copy.alias).toBe(copy.layer.weight);
  });
});

describe('plain properties and buffers', () => {
  class Extras {
    constructor(readonly name: string) {}
  }

  class Rich extends Module {
    sizes = [1, [2, 3]];
    frozen = Object.freeze([4, 5]);
    options = { scale: 2, nested: { on: true } };
    table = new Map<string, number[]>([['a', [1]]]);
    tags = new Set(['x']);
    codes = Int32Array.of(1, 2, 3);
    mask = filled([2], 1);
    tokenizer = new Extras('bpe');
    act = (x: number): number => x * 2;
    layers = [new Linear(2, 2)];
    constructor() {
      super();
      this.registerBuffer('steps', Tensor.zeros([1]), { persistent: false });
      this.registerBuffer('count', Tensor.zeros([], 'int64'));
    }
  }

  it('copies arrays, plain objects, Maps, Sets, typed arrays and tensors deeply, and keeps others', () => {
    const model = new Rich();
    const copy = deepCopy(model);
    expect(copy.sizes).toEqual(model.sizes);
    expect(copy.sizes).not.toBe(model.sizes);
    expect(copy.sizes[1]).not.toBe(model.sizes[1]);
    expect(copy.frozen).toEqual([4, 5]);
    expect(Object.isFrozen(copy.frozen)).toBe(true);
    expect(copy.options).toEqual(model.options);
    expect(copy.options.nested).not.toBe(model.options.nested);
    expect(copy.table.get('a')).toEqual([1]);
    expect(copy.table.get('a')).not.toBe(model.table.get('a'));
    expect(copy.tags).not.toBe(model.tags);
    expect([...copy.tags]).toEqual(['x']);
    expect(Array.from(copy.codes)).toEqual([1, 2, 3]);
    expect(copy.codes.buffer).not.toBe(model.codes.buffer);
    expect(values(copy.mask)).toEqual(values(model.mask));
    expect(copy.mask).not.toBe(model.mask);
    expect(copy.tokenizer).toBe(model.tokenizer);
    expect(copy.act).toBe(model.act);
    // A module in a plain array is copied too (it is no child, as in PyTorch).
    expect(copy.layers[0]).toBeInstanceOf(Linear);
    expect(copy.layers[0]).not.toBe(model.layers[0]);
    expect(copy.children()).toEqual([]);
  });

  it('keeps buffers, persistent or not, as registered', () => {
    const model = new Rich();
    const copy = deepCopy(model);
    expect(copy.namedBuffers().map(([name]) => name)).toEqual(['steps', 'count']);
    expect(Object.keys(copy.stateDict())).toEqual(['count']);
    const steps = (copy as unknown as { steps: Tensor }).steps;
    expect(steps).not.toBe((model as unknown as { steps: Tensor }).steps);
    // The member properties are the copy's own: assigning one reaches the copy's buffers.
    (copy as unknown as { steps: Tensor }).steps = Tensor.ones([1]);
    expect(values(copy.namedBuffers()[0][1])).toEqual([1]);
    expect(values(model.namedBuffers()[0][1])).toEqual([0]);
  });

  it('a subclass of a layer keeps its prototype and its own fields', () => {
    class Encoder extends LSTM {
      static resets = 0;
      label = 'enc';
      constructor() {
        super(4, 3, { batchFirst: true });
      }
      override resetParameters(): void {
        Encoder.resets++;
        super.resetParameters();
      }
      encode(x: Tensor): Tensor {
        return this.forward(x)[0];
      }
    }
    const model = new Encoder();
    const resets = Encoder.resets;
    const copy = deepCopy(model);
    expect(Encoder.resets).toBe(resets); // the copy's weights are copied, never initialised first
    expect(copy).toBeInstanceOf(Encoder);
    expect(copy.label).toBe('enc');
    expect(copy.batchFirst).toBe(true);
    const x = filled([2, 5, 4], 1);
    expect(values(copy.encode(x))).toEqual(values(model.encode(x)));
  });

  it('never calls the constructor of a class of yours (it may need arguments, or build a whole model)', () => {
    let constructed = 0;
    class Sized extends Module {
      layer: Linear;
      constructor(size: number) {
        super();
        if (typeof size !== 'number') throw new TypeError('size is required');
        constructed++;
        this.layer = new Linear(size, size);
      }
    }
    const model = new Sized(3);
    const copy = deepCopy(model);
    expect(constructed).toBe(1);
    expect(copy).toBeInstanceOf(Sized);
    expect(copy.layer.inFeatures).toBe(3);
  });

  it('a class with #private state carries it by overriding copyShell', () => {
    class Scaled extends Module {
      #factor: number;
      inner = new Linear(2, 2);
      constructor(factor: number) {
        super();
        this.#factor = factor;
      }
      get factor(): number {
        return this.#factor;
      }
      protected override copyShell(_copy: DeepCopy): Module {
        return Reflect.construct(Scaled, [this.#factor], this.constructor) as Module;
      }
    }
    const copy = deepCopy(new Scaled(3));
    expect(copy.factor).toBe(3);
    expect(copy.inner).toBeInstanceOf(Linear);
  });

  it('draws nothing from the global generator', () => {
    manualSeed(7);
    const expected = values(new Linear(3, 3).weight);
    manualSeed(7);
    deepCopy(new Zoo());
    expect(values(new Linear(3, 3).weight)).not.toEqual(expected); // Zoo's construction drew
    manualSeed(7);
    const model = new Linear(3, 3);
    const next = values(new Linear(3, 3).weight);
    manualSeed(7);
    new Linear(3, 3);
    deepCopy(model);
    expect(values(new Linear(3, 3).weight)).toEqual(next);
  });
});

describe('deepCopy of quantized modules', () => {
  it('computes what the original computes, with its own stored weights', () => {
    const x = filled([5, 2, 4], 2);
    const lstm = quantizeDynamic(new LSTM(4, 3, 2), { dtype: 'qint8' });
    const gru = quantizeDynamic(new GRU(4, 3, { bidirectional: true }), { dtype: 'bfloat16' });
    const cell = quantizeDynamic(new RNNCell(4, 3, { nonlinearity: 'relu' }), { dtype: 'float16' });
    const linear = quantizeDynamic(new Linear(4, 3), { dtype: 'qint8' });
    const originals: [typeof lstm, typeof gru, typeof cell, typeof linear] = [lstm, gru, cell, linear];
    const copies = [deepCopy(lstm), deepCopy(gru), deepCopy(cell), deepCopy(linear)] as typeof originals;
    expect(copies[0]).toBeInstanceOf(DynamicQuantizedLSTM);
    expect(copies[1]).toBeInstanceOf(DynamicQuantizedGRU);
    expect(copies[2]).toBeInstanceOf(DynamicQuantizedRNNCell);
    expect(copies[3]).toBeInstanceOf(DynamicQuantizedLinear);
    expect(copies.map(String)).toEqual(originals.map(String));
    expect(copies.map((m) => m.weightBytes)).toEqual(originals.map((m) => m.weightBytes));
    const results = ([l, g, c, f]: [typeof lstm, typeof gru, typeof cell, typeof linear]): unknown[] =>
      [l.forward(x)[0], g.forward(x)[0], c.forward(filled([2, 4], 3)), f.forward(filled([2, 4], 4))].map(values);
    const before = results(originals);
    const stored = (modules: typeof originals): unknown[][] => modules.map((m) => Object.values(m.stateDict()).flatMap(values));
    const storedBefore = stored(originals);
    expect(results(copies)).toEqual(before);
    expect(stored(copies)).toEqual(storedBefore);
    // Loading other weights into the copies leaves the originals' results.
    for (const [i, float] of [new LSTM(4, 3, 2), new GRU(4, 3, { bidirectional: true }), new RNNCell(4, 3), new Linear(4, 3)].entries()) {
      copies[i].loadStateDict(float.stateDict());
    }
    const after = results(copies);
    after.forEach((result, i) => expect([i, result]).not.toEqual([i, before[i]]));
    expect(results(originals)).toEqual(before);
    expect(stored(originals)).toEqual(storedBefore);
  });
});

describe('errors', () => {
  it('names what is not a Module', () => {
    expect(() => deepCopy({} as never)).toThrow('deepCopy: module must be a Module, got: ');
    expect(() => deepCopy(null as never)).toThrow('deepCopy: module must be a Module, got: null');
  });

  it('refuses a container reachable from its own items, instead of recursing forever', () => {
    const list = new ModuleList([new Linear(2, 2)]);
    Object.defineProperty(list.at(0), 'owner', { value: list, enumerable: false });
    expect(() => deepCopy(list)).toThrow('deepCopy: a ModuleList is reachable from its own items, which it needs copied first');
    // A plain module reached back from its child is fine: its copy exists before its children are copied.
    class Parent extends Module {
      child = new Linear(2, 2);
    }
    const parent = new Parent();
    Object.defineProperty(parent.child, 'owner', { value: parent, enumerable: false });
    const copy = deepCopy(parent);
    expect((copy.child as unknown as { owner: Parent }).owner).toBe(copy);
  });
});
