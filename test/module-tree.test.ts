/**
 * Modules that hold modules, against real PyTorch (test/fixtures/module_tree.json, written by
 * generate_modules_tree.py): names and order of children, modules, parameters, buffers and state-dict keys;
 * the nested repr; load_state_dict's messages; the containers' names and errors. Then what the tree does
 * that the fixture cannot show by names alone: values loaded through it, ties kept, training mode and
 * dtype conversion reaching every module.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  Embedding,
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  RNN,
  RNNCell,
  Sequential,
  Tensor,
  tensor,
  type DType,
  type RNNBase,
} from '../lib';
import { mismatch } from './helpers/close';
import { toTensor, type FixtureTensor } from './helpers/fixtures';

interface MemberRecord {
  name: string;
  shape: number[];
  dtype: string;
  data?: number[];
}

interface ModelRecord {
  class: string;
  namedChildren: Array<[string, string]>;
  namedModules: Array<[string, string]>;
  namedParameters: MemberRecord[];
  namedBuffers: MemberRecord[];
  stateDict: MemberRecord[];
  repr: string;
  reprTs: string;
}

interface LoadCase {
  name: string;
  edit: { drop?: string[]; add?: Record<string, number[]>; replace?: Record<string, number[]> };
  message: string;
  nonStrict?: { missingKeys: string[]; unexpectedKeys: string[] };
}

interface TreeFixture {
  models: Record<string, ModelRecord>;
  forward: {
    TiedLM: { input: number[][]; output: FixtureTensor };
    Chain: { input: FixtureTensor; output: FixtureTensor };
  };
  load: LoadCase[];
  containers: {
    names: Record<string, Array<string | [string, string]>>;
    messages: Record<string, string>;
    reprs: Record<string, string>;
  };
  registration: Record<string, string>;
  scalarFromOneElement: { shape: number[]; value: number };
  addModule: { namedChildren: Array<[string, string]>; stateDict: Array<[string, number[]]> };
  getSubmodule: Array<{ target: string; class?: string; message?: string }>;
  loadConversions: Record<'numBatchesTracked', { dtype: string; value: number }> &
    Record<'weight' | 'runningMean', { dtype: string; values: number[] }>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'module_tree.json'), 'utf8')) as TreeFixture;

// The models of generate_modules_tree.py, written again as a user would port them.

class Act extends Module {
  forward(x: Tensor): Tensor {
    return new Tensor(x.data.map(Math.tanh), x.shape);
  }
}

class Tagger extends Module {
  embedding = new Embedding(100, 16, { paddingIdx: 0 });
  encoder = new LSTM(16, 32, { numLayers: 2, batchFirst: true, bidirectional: true });
  head = new Linear(64, 5);
  declare class_weights: Tensor;
  declare mask_cache: Tensor;

  constructor() {
    super();
    this.registerBuffer('class_weights', Tensor.ones([5]));
    this.registerBuffer('mask_cache', Tensor.zeros([4]), { persistent: false });
  }
}

class Block extends Module {
  proj = new Linear(6, 6);
  declare gain: Tensor;

  constructor() {
    super();
    this.registerParameter('gain', Tensor.ones([6]));
  }

  forward(x: Tensor): Tensor {
    return this.proj.forward(x);
  }
}

class Stack extends Module {
  layers = new ModuleList<RNNBase>([new LSTM(6, 6), new GRU(6, 6, { bias: false }), new RNN(6, 6, { nonlinearity: 'relu' })]);
  heads = new ModuleDict({ tags: new Linear(6, 3), score: new Linear(6, 1) });
  block = new Block();
  cell = new LSTMCell(6, 4, { bias: false });
}

class TiedLM extends Module {
  embedding = new Embedding(10, 6);
  rnn = new GRU(6, 6, { batchFirst: true });
  proj = new Linear(6, 6);
  decoder = new Linear(6, 10);
  proj_again: Linear;

  constructor() {
    super();
    this.decoder.weight = this.embedding.weight;
    this.proj_again = this.proj;
  }

  forward(ids: number[][]): Tensor {
    const [out] = this.rnn.forward(this.embedding.forward(ids));
    return this.decoder.forward(this.proj.forward(out));
  }
}

class Residual extends Module {
  layers = new ModuleList([new LSTM(3, 3), new LSTM(3, 3, 2)]);
  head = new Sequential(new Linear(3, 3), new Linear(3, 2));
}

class Tracker extends Module {
  declare weight: Tensor;
  declare running_mean: Tensor;
  declare num_batches_tracked: Tensor<'int64'>;
  proj = new Linear(3, 3);

  constructor() {
    super();
    this.registerParameter('weight', Tensor.ones([3]));
    this.registerBuffer('running_mean', Tensor.zeros([3]));
    this.registerBuffer('num_batches_tracked', tensor(0n, 'int64'));
  }
}

const namedSeq = (): Sequential =>
  new Sequential(
    new Map<string, Module>([
      ['proj', new Linear(4, 4)],
      ['inner', new Sequential(new Linear(4, 4, { bias: false }), new GRUCell(4, 3))],
      ['out', new RNNCell(3, 2, { nonlinearity: 'relu' })],
    ]),
  );

const chain = (): Sequential => new Sequential(new Linear(4, 8), new Act(), new Linear(8, 2));

const builders: Record<string, () => Module> = {
  Tagger: () => new Tagger(),
  Stack: () => new Stack(),
  NamedSeq: namedSeq,
  TiedLM: () => new TiedLM(),
  Chain: chain,
  Residual: () => new Residual().double(),
  Tracker: () => new Tracker().double(),
};

const members = (pairs: Array<[string, Tensor<DType>]>): Array<{ name: string; shape: number[]; dtype: string }> =>
  pairs.map(([name, t]) => ({ name, shape: [...t.shape], dtype: t.dtype }));
const withoutData = (records: MemberRecord[]): Array<{ name: string; shape: number[]; dtype: string }> =>
  records.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
const childNames = (m: Module): string[] => m.namedChildren().map(([n]) => n);
const classes = (pairs: Array<[string, Module]>): Array<[string, string]> => pairs.map(([name, m]) => [name, m.constructor.name]);

/** A fixture state dict with values as Tensors, in PyTorch's key order. */
function fixtureStateDict(records: MemberRecord[]): Record<string, Tensor<DType>> {
  return Object.fromEntries(records.map((r) => [r.name, toTensor(r as FixtureTensor)]));
}

describe.each(Object.keys(fixture.models))('%s: the tree as PyTorch walks it', (name) => {
  const expected = fixture.models[name];
  const model = builders[name]();

  test('namedChildren and namedModules: names, classes, preorder, a shared module once', () => {
    expect(classes(model.namedChildren())).toEqual(expected.namedChildren);
    expect(model.children()).toEqual(model.namedChildren().map(([, m]) => m));
    expect(classes(model.namedModules())).toEqual(expected.namedModules);
    expect(model.modules()).toEqual(model.namedModules().map(([, m]) => m));
  });

  test('namedParameters and namedBuffers: own first, then each child, tied tensors once', () => {
    expect(members(model.namedParameters())).toEqual(withoutData(expected.namedParameters));
    expect(members(model.namedBuffers())).toEqual(withoutData(expected.namedBuffers));
    expect(model.parameters()).toEqual(model.namedParameters().map(([, t]) => t));
  });

  test('stateDict: parameters, persistent buffers, children with dotted prefixes, tied tensors under every key', () => {
    expect(members(Object.entries(model.stateDict()))).toEqual(withoutData(expected.stateDict));
  });

  test("toString: PyTorch's nested repr with our option names", () => {
    expect(String(model)).toBe(expected.reprTs);
  });

  test('its own state dict loads back with no incompatible keys', () => {
    expect(model.loadStateDict(model.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
  });
});

describe('values loaded through the tree give PyTorch\'s outputs', () => {
  test('TiedLM: tied decoder and embedding, a GRU, a shared Linear', () => {
    const model = new TiedLM();
    model.loadStateDict(fixtureStateDict(fixture.models.TiedLM.stateDict));
    expect(model.decoder.weight).toBe(model.embedding.weight);
    const out = model.forward(fixture.forward.TiedLM.input);
    expect(mismatch(out, toTensor(fixture.forward.TiedLM.output), 'logits')).toBeNull();
  });

  test('Chain: Sequential.forward feeds each output to the next module', () => {
    const model = chain();
    model.loadStateDict(fixtureStateDict(fixture.models.Chain.stateDict));
    const out = model.forward(toTensor(fixture.forward.Chain.input)) as Tensor;
    expect(mismatch(out, toTensor(fixture.forward.Chain.output), 'output')).toBeNull();
  });

  test('a sub-model loads from a larger checkpoint with prefix, keys outside it ignored', () => {
    const model = new TiedLM();
    const sd: Record<string, Tensor<DType>> = { 'optimizer.step': Tensor.zeros([1]) };
    for (const [key, t] of Object.entries(fixtureStateDict(fixture.models.TiedLM.stateDict))) sd[`model.${key}`] = t;
    expect(model.loadStateDict(sd, { prefix: 'model' })).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const out = model.forward(fixture.forward.TiedLM.input);
    expect(mismatch(out, toTensor(fixture.forward.TiedLM.output), 'logits')).toBeNull();
  });

  test('a tensor tied to two parameters of one LSTM is packed for both', () => {
    const untied = new LSTM(3, 4, { bidirectional: true });
    untied.weight_hh_l0_reverse.data.set(untied.weight_hh_l0.data);
    const tied = new LSTM(3, 4, { bidirectional: true });
    tied.loadStateDict(untied.stateDict());
    tied.weight_hh_l0_reverse = tied.weight_hh_l0;
    expect(tied.parameters()).toHaveLength(7);
    const x = tensor([[[0.5, -1, 2]], [[1, 0.25, -0.5]]]);
    expect([...tied.forward(x)[0].data]).toEqual([...untied.forward(x)[0].data]);
  });

  test('after double(), every module repacks and computes in float64', () => {
    const model = new TiedLM();
    model.loadStateDict(fixtureStateDict(fixture.models.TiedLM.stateDict));
    model.forward(fixture.forward.TiedLM.input); // packs the float32 weights first
    model.double();
    expect(model.rnn.dtype).toBe('float64');
    expect(model.embedding.dtype).toBe('float64');
    const out = model.forward(fixture.forward.TiedLM.input);
    expect(out.dtype).toBe('float64');
    expect(mismatch(out.to('float32'), toTensor(fixture.forward.TiedLM.output), 'logits')).toBeNull();
  });
});

describe("loadStateDict: PyTorch's messages with full dotted keys, nothing copied when it throws", () => {
  function edited(model: Tagger, edit: LoadCase['edit']): Record<string, Tensor<DType>> {
    const sd: Record<string, Tensor<DType>> = { ...model.stateDict() };
    for (const key of edit.drop ?? []) delete sd[key];
    for (const [key, shape] of Object.entries(edit.add ?? {})) sd[key] = Tensor.zeros(shape);
    for (const [key, shape] of Object.entries(edit.replace ?? {})) sd[key] = Tensor.zeros(shape);
    return sd;
  }

  test.each(fixture.load.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const model = new Tagger();
    const source = new Tagger();
    const before = model.parameters().map((p) => [...p.data]);
    const sd = edited(source, c.edit);
    expect(() => model.loadStateDict(sd)).toThrow(new Error(c.message));
    expect(model.parameters().map((p) => [...p.data])).toEqual(before);
    if (c.nonStrict !== undefined) {
      expect(model.loadStateDict(sd, { strict: false })).toEqual(c.nonStrict);
      expect([...model.head.weight.data]).toEqual([...source.head.weight.data]);
    }
  });

  test('a 0-d buffer loads from a one-element vector, as from PyTorch 0.3 checkpoints', () => {
    const m = new Module();
    m.registerBuffer('steps', Tensor.zeros([]));
    m.loadStateDict({ steps: new Tensor(Float32Array.of(5), [1]) });
    const steps = m.buffers()[0];
    expect(steps.shape).toEqual(fixture.scalarFromOneElement.shape);
    expect(steps.data[0]).toBe(fixture.scalarFromOneElement.value);
  });

  test("values are copied with conversion into each member's dtype, integer buffers included, as PyTorch's copy_", () => {
    const expected = fixture.loadConversions;
    const m = new Tracker();
    m.loadStateDict({
      ...m.stateDict(),
      num_batches_tracked: tensor(2.7),
      weight: tensor([1n, -2n, 3n]),
      running_mean: tensor([true, false, true]),
    });
    expect(m.num_batches_tracked.dtype).toBe(expected.numBatchesTracked.dtype);
    expect(m.num_batches_tracked.item()).toBe(expected.numBatchesTracked.value);
    expect(m.weight.dtype).toBe(expected.weight.dtype);
    expect(m.weight.toArray()).toEqual(expected.weight.values);
    expect(m.running_mean.dtype).toBe(expected.runningMean.dtype);
    expect(m.running_mean.toArray()).toEqual(expected.runningMean.values);
  });

  test('an int64 buffer keeps its dtype through to() and loads from a checkpoint', () => {
    const m = new Tracker().double();
    expect(m.num_batches_tracked.dtype).toBe('int64');
    m.loadStateDict({ ...m.stateDict(), num_batches_tracked: tensor(7n, 'int64') });
    expect(m.num_batches_tracked.data[0]).toBe(7n);
    expect(() => m.to('int64' as never)).toThrow(new TypeError(fixture.registration.toInt64));
  });

  test('values are converted to each member\'s dtype', () => {
    const model = new TiedLM().double();
    model.loadStateDict(fixtureStateDict(fixture.models.TiedLM.stateDict));
    expect(model.proj.weight.dtype).toBe('float64');
    expect(mismatch(model.forward(fixture.forward.TiedLM.input).to('float32'), toTensor(fixture.forward.TiedLM.output), 'logits')).toBeNull();
  });
});

describe('containers: names and errors as PyTorch gives them', () => {
  const names = fixture.containers.names;
  const messages = fixture.containers.messages;
  const lin = (): Linear => new Linear(2, 2);

  test('Sequential: children named by position; slices keep the names', () => {
    const seq = new Sequential(lin(), lin(), lin());
    expect(childNames(seq)).toEqual(names.sequential);
    expect(childNames(seq.slice(1))).toEqual(names.sequentialSlice1);
    expect(childNames(seq.slice(-2))).toEqual(names.sequentialSliceMinus2);
    expect(childNames(namedSeq().slice(1, 3))).toEqual(names.namedSlice1to3);
  });

  test('Sequential: pop renumbers, insert and append name by position', () => {
    const popped = namedSeq();
    const inner = popped.at(1);
    expect(popped.pop(1)).toBe(inner);
    expect(childNames(popped)).toEqual(names.namedPop1);
    const inserted = new Sequential(lin(), lin(), lin()).insert(-1, new Act());
    expect(classes(inserted.namedChildren())).toEqual(names.insertMinus1);
    expect(childNames(namedSeq().append(new Act()))).toEqual(names.namedAppend);
    expect(() => namedSeq().insert(1, new Act())).toThrow("insert() needs children named by position ('0', '1', ...), but this Sequential has 'proj'");
  });

  test('Sequential: indices, negative ones, numeric properties, iteration', () => {
    const [a, b, c] = [lin(), lin(), lin()];
    const seq = new Sequential(a, b, c);
    expect(seq.length).toBe(3);
    expect([seq.at(0), seq.at(-1), seq.at(-3)]).toEqual([a, c, a]);
    expect(seq[0]).toBe(a);
    expect(seq[2]).toBe(c);
    expect([...seq]).toEqual([a, b, c]);
    expect(() => seq.at(-4)).toThrow(new RangeError(messages.sequentialIndexMinus4));
    expect(() => seq.at(3)).toThrow(new RangeError(messages.sequentialIndex3));
    expect(() => seq.insert(5, lin())).toThrow(new RangeError(messages.sequentialInsert5));
    const d = lin();
    seq[1] = d;
    expect(seq.at(1)).toBe(d);
    expect(childNames(seq)).toEqual(['0', '1', '2']);
    seq.pop(0);
    expect(seq[2]).toBeUndefined();
    expect(seq[1]).toBe(c);
    expect(Object.keys(seq)).not.toContain('0'); // index properties are not taken for children
  });

  test('ModuleList: slices renumber, pop renumbers, indices and errors', () => {
    const ml = new ModuleList([lin(), new Act(), lin()]);
    expect(childNames(ml.slice(1))).toEqual(names.moduleListSlice1);
    ml.pop(0);
    expect(classes(ml.namedChildren())).toEqual(names.moduleListPop0);
    const full = new ModuleList([lin(), new Act(), lin()]);
    expect(() => full.at(3)).toThrow(new RangeError(messages.moduleListIndex3));
    expect(() => full.at(-5)).toThrow(new RangeError(messages.moduleListIndexMinus5));
    expect(() => new ModuleList().extend(5 as never)).toThrow(/^ModuleList.extend should be called with an iterable, but got /);
  });

  test('ModuleList: append, extend, insert, numeric properties, typed items', () => {
    const x = Tensor.zeros([2, 3]);
    const list = new ModuleList<Linear>();
    list.append(new Linear(3, 3)).extend([new Linear(3, 4)]);
    list.insert(0, new Linear(3, 3));
    list.insert(-10, new Linear(3, 3));
    expect(list.length).toBe(4);
    expect(list.at(-1).forward(x).shape).toEqual([2, 4]);
    expect(list[3]).toBe(list.at(-1));
    expect([...list].map((l) => l.outFeatures)).toEqual([3, 3, 3, 4]);
    expect(childNames(list)).toEqual(['0', '1', '2', '3']);
  });

  test('ModuleDict: insertion order, replacing keeps the place, keys as iteration', () => {
    const md = new ModuleDict({ b: lin(), a: new Act() });
    const c = lin();
    md.set('c', c);
    md.set('b', new Act());
    expect(classes(md.namedChildren())).toEqual(names.moduleDict);
    expect(md.keys()).toEqual(['b', 'a', 'c']);
    expect([...md]).toEqual(['b', 'a', 'c']);
    expect(md.get('c')).toBe(c);
    expect(md.values()[2]).toBe(c);
    expect(md.items().map(([k]) => k)).toEqual(['b', 'a', 'c']);
    expect(md.has('a')).toBe(true);
    expect(md.length).toBe(3);
    expect(() => md.get('z')).toThrow(new RangeError("ModuleDict has no key 'z'"));
    expect(String(md)).toBe(fixture.containers.reprs.moduleDict);
    const fromMap = new ModuleDict(new Map([['2', lin()], ['1', lin()]]));
    expect(fromMap.keys()).toEqual(['2', '1']);
  });

  test('names and values checked as add_module checks them', () => {
    expect(() => new Sequential(new Map([['a.b', lin()]]))).toThrow(new Error(messages.moduleNameDot));
    expect(() => new ModuleDict({ '': lin() })).toThrow(new Error(messages.moduleNameEmpty));
    expect(() => new ModuleDict().update([['a', lin(), 1]] as never)).toThrow(new Error(messages.moduleDictUpdateLength));
    expect(() => new Sequential(lin(), 3 as never)).toThrow(new TypeError('number 3 is not a Module subclass'));
  });

  test('a child without forward fails in Sequential.forward as in PyTorch', () => {
    expect(() => new Sequential(lin(), new Module()).forward(Tensor.zeros([2]))).toThrow(new Error(messages.forwardMissing));
  });

  test('ModuleList folds runs of items that print alike, as current PyTorch does', () => {
    // PyTorch >= 2.1 (ModuleList.__repr__); the 1.13 of the fixtures prints every item, which the models
    // above agree with because their lists have no two equal neighbours.
    const list = new ModuleList([new LSTM(8, 8), new LSTM(8, 8), new LSTM(8, 8), new Linear(8, 2), new Sequential(lin(), lin()), new Sequential(lin(), lin())]);
    const linearRepr = 'Linear(inFeatures=2, outFeatures=2, bias=true)';
    expect(String(list)).toBe(
      'ModuleList(\n' +
        '  (0-2): 3 x LSTM(8, 8)\n' +
        '  (3): Linear(inFeatures=8, outFeatures=2, bias=true)\n' +
        `  (4-5): 2 x Sequential(\n    (0): ${linearRepr}\n    (1): ${linearRepr}\n  )\n` +
        ')',
    );
    expect(String(new ModuleList())).toBe('ModuleList()');
  });

  test('reprs of empty and parameterless modules', () => {
    expect(String(new Sequential())).toBe(fixture.containers.reprs.emptySequential);
    expect(String(new Act())).toBe(fixture.containers.reprs.act);
  });
});

describe('registerParameter and registerBuffer', () => {
  const messages = fixture.registration;

  test.each([
    ['parameterDot', (m: Block) => m.registerParameter('a.b', null)],
    ['parameterEmpty', (m: Block) => m.registerParameter('', null)],
    ['parameterExists', (m: Block) => m.registerParameter('proj', null)],
    ['bufferDot', (m: Block) => m.registerBuffer('a.b', null)],
    ['bufferEmpty', (m: Block) => m.registerBuffer('', null)],
    ['bufferExists', (m: Block) => m.registerBuffer('gain', Tensor.zeros([1]))],
    ['bufferExistsMethod', (m: Block) => m.registerBuffer('forward', Tensor.zeros([1]))],
    ['addModuleDot', (m: Block) => m.addModule('x.y', new Linear(2, 2))],
    ['addModuleEmpty', (m: Block) => m.addModule('', new Linear(2, 2))],
    ['addModuleExists', (m: Block) => m.addModule('gain', new Linear(2, 2))],
  ] as const)("%s: PyTorch's message", (key, register) => {
    expect(() => register(new Block())).toThrow(new Error(messages[key]));
  });

  test('parameters are floating point, as only they can require gradients in PyTorch', () => {
    expect(() => new Module().registerParameter('steps', tensor([1n]) as never)).toThrow(
      new TypeError('Only Tensors of floating point and complex dtype can require gradients'),
    );
  });

  test('a value that is not a Tensor or null is a TypeError', () => {
    expect(() => new Module().registerBuffer('b', 3 as never)).toThrow(new TypeError("cannot assign 'number 3' object to buffer 'b' (Tensor or null required)"));
    expect(() => new Module().registerParameter('p', [1] as never)).toThrow(
      new TypeError("cannot assign 'Array' object to parameter 'p' (Tensor or null required)"),
    );
  });

  test('an empty slot is skipped until a Tensor is assigned, then takes its place', () => {
    const m = new Module() as Module & { a: Tensor | null; b: Tensor | null };
    m.registerParameter('a', null);
    m.registerParameter('b', Tensor.zeros([2]));
    expect(m.a).toBeUndefined();
    expect(Object.keys(m.stateDict())).toEqual(['b']);
    m.a = Tensor.ones([3]);
    expect(Object.keys(m.stateDict())).toEqual(['a', 'b']);
  });

  test('buffers: persistent ones in the state dict after the parameters, any Tensor assignable', () => {
    const m = new Module() as Module & { running: Tensor };
    m.registerBuffer('running', Tensor.zeros([2]));
    m.registerBuffer('scratch', Tensor.zeros([2]), { persistent: false });
    m.registerParameter('w', Tensor.zeros([2]));
    expect(Object.keys(m.stateDict())).toEqual(['w', 'running']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['running', 'scratch']);
    const replacement = Tensor.ones([5], 'float64');
    m.running = replacement;
    expect(m.stateDict().running).toBe(replacement);
    expect(() => (m.running = 1 as never)).toThrow(new TypeError("cannot assign 'number 1' as buffer 'running' (Tensor or null expected)"));
  });

  test('a class field declared without a value may become a parameter', () => {
    class Scale extends Module {
      weight!: Tensor;
      constructor() {
        super();
        this.registerParameter('weight', Tensor.ones([2]));
      }
    }
    expect(new Scale().namedParameters().map(([n]) => n)).toEqual(['weight']);
  });
});

describe('addModule', () => {
  test('children under names made at run time, after the assigned ones; a replaced one keeps its place', () => {
    const m = new Block();
    for (let i = 0; i < 2; i++) m.addModule(`conv${i}`, new Linear(6, 6, { bias: false }));
    m.addModule('proj', new Linear(6, 2));
    expect(classes(m.namedChildren())).toEqual(fixture.addModule.namedChildren);
    expect(Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape]])).toEqual(fixture.addModule.stateDict);
    expect(() => m.addModule('p', 5 as never)).toThrow(new TypeError('number 5 is not a Module subclass'));
    m.addModule('conv0', null);
    expect(m.namedChildren().map(([n]) => n)).toEqual(['proj', 'conv1']);
  });

  test('containers add to their own children', () => {
    const seq = new Sequential(new Linear(2, 2));
    seq.addModule('act', new Act());
    expect(childNames(seq)).toEqual(['0', 'act']);
    expect(seq[1]).toBeInstanceOf(Act);
    const list = new ModuleList([new Linear(2, 2)]);
    list.addModule('1', new Linear(2, 3));
    list.addModule('0', new Linear(2, 4));
    expect([...list].map((l) => l.outFeatures)).toEqual([4, 3]);
    expect(() => list.addModule('x', new Linear(2, 2))).toThrow(new RangeError("ModuleList children are named by position ('0' to '2' here), got 'x'"));
    const dict = new ModuleDict();
    dict.addModule('a', new Act());
    expect(dict.keys()).toEqual(['a']);
    expect(() => dict.addModule('a.b', new Act())).toThrow(new Error(fixture.registration.addModuleDot.replace('x.y', 'a.b')));
  });
});

describe('getSubmodule', () => {
  test.each(fixture.getSubmodule.map((c) => [c.target, c] as const))("'%s' as PyTorch's get_submodule", (target, c) => {
    const model = new Stack();
    if (c.message === undefined) expect(model.getSubmodule(target).constructor.name).toBe(c.class);
    else expect(() => model.getSubmodule(target)).toThrow(new Error(c.message));
  });
});

describe('children are the properties holding modules, found when the tree is walked', () => {
  test('assignment order, reassignment keeps the place, null holds no child, later properties count', () => {
    class Net extends Module {
      a: Module | null = new Linear(2, 2);
      b = new Linear(2, 2);
      notAModule = [new Linear(2, 2)];
    }
    const net = new Net() as Net & { c?: Module };
    expect(net.namedChildren().map(([n]) => n)).toEqual(['a', 'b']);
    net.a = new Act();
    expect(classes(net.namedChildren())).toEqual([
      ['a', 'Act'],
      ['b', 'Linear'],
    ]);
    net.c = new Act();
    net.a = null;
    expect(net.namedChildren().map(([n]) => n)).toEqual(['b', 'c']);
    expect(Object.keys(net.stateDict())).toEqual(['b.weight', 'b.bias']);
  });

  test('a module held under two names: one child, two sets of state-dict keys', () => {
    const m = new TiedLM();
    expect(m.children()).toHaveLength(4);
    expect(m.namedModules({ removeDuplicate: false }).map(([n]) => n)).toContain('proj_again');
    expect(m.namedModules({ prefix: 'model' }).map(([n]) => n)).toEqual(['model', 'model.embedding', 'model.rnn', 'model.proj', 'model.decoder']);
    expect(m.namedParameters({ recurse: false })).toEqual([]);
    expect(m.namedParameters({ removeDuplicate: false }).map(([n]) => n)).toEqual(fixture.models.TiedLM.stateDict.map((r) => r.name));
  });

  test('a cycle is an error where every path is followed, and visited once where duplicates are removed', () => {
    class Node extends Module {
      next: Module | null = null;
    }
    const a = new Node();
    const b = new Node();
    a.next = b;
    b.next = a;
    expect(a.modules()).toEqual([a, b]);
    expect(() => a.stateDict()).toThrow("the module tree contains a cycle: the module at 'next.next' is its own ancestor at the root");
    expect(() => String(a)).toThrow('the module tree contains a cycle');
    a.eval();
    expect([a.training, b.training]).toEqual([false, false]);
  });
});

describe('train, eval, apply and dtype conversion reach every module', () => {
  test('train(false) and eval() set every module; train() sets them back', () => {
    const m = new Stack();
    expect(m.eval()).toBe(m);
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(() => m.train('no' as never)).toThrow(new TypeError("training mode is expected to be boolean, got: string 'no'"));
  });

  test("a child's own train() is called, as PyTorch recurses through train()", () => {
    class Frozen extends Linear {
      override train(): this {
        return super.train(false);
      }
    }
    class Net extends Module {
      frozen = new Frozen(2, 2);
      free = new Linear(2, 2);
    }
    const net = new Net().train();
    expect([net.training, net.frozen.training, net.free.training]).toEqual([true, false, true]);
  });

  test('apply visits children before their parent', () => {
    const seen: string[] = [];
    namedSeq().apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'Linear', 'GRUCell', 'Sequential', 'RNNCell', 'Sequential']);
  });

  test('to(), float(), double(): every floating tensor, ties kept, dtype of each module follows', () => {
    const m = new Stack();
    m.to('float64');
    expect(m.parameters().every((p) => p.dtype === 'float64')).toBe(true);
    expect(m.layers.at(0).dtype).toBe('float64');
    expect(m.cell.dtype).toBe('float64');
    expect(m.heads.get('tags').dtype).toBe('float64');
    const tied = new TiedLM().double();
    expect(tied.decoder.weight).toBe(tied.embedding.weight);
    expect(tied.float().decoder.weight.dtype).toBe('float32');
    expect(() => m.to('float16' as never)).toThrow(new TypeError("dtype should be 'float32' or 'float64', got: string 'float16'"));
  });

  test('after to(), a parameter is replaced by one of the new dtype', () => {
    const lin = new Linear(2, 2).double();
    expect(() => (lin.weight = Tensor.zeros([2, 2]))).toThrow(new TypeError("cannot assign a float32 parameter to 'weight' of a float64 Linear"));
    lin.weight = Tensor.zeros([2, 2], 'float64');
    expect([...lin.forward(Tensor.ones([1, 2], 'float64')).data]).toEqual([...lin.bias!.data]);
  });
});
