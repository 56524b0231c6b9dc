/**
 * fromStateDict: every configuration of the PyTorch fixtures is read back from its state dict alone and
 * gives PyTorch's outputs; inconsistent dicts are refused by the key that is wrong. Also loadStateDict's
 * `prefix`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase, Tensor, loadTorch, type StateDict } from '../lib';
import { mismatches } from './helpers/close';
import { CellCase, ModuleCase, cellMismatches, moduleMismatches, toHidden } from './helpers/fixture_cases';
import { FixtureTensor, loadCases, toStateDict, toTensor } from './helpers/fixtures';

/** The fixture options fromStateDict is told, as the state dict cannot hold them. */
type ModuleOptions = { batchFirst: boolean; nonlinearity?: 'tanh' | 'relu' };
type CellOptions = { nonlinearity?: 'tanh' | 'relu' };

const MODULES = { RNN, LSTM, GRU };
const CELLS = { RNNCell, LSTMCell, GRUCell };

function configOf(m: LSTM | GRU | RNN): Record<string, unknown> {
  const config: Record<string, unknown> = {
    inputSize: m.inputSize,
    hiddenSize: m.hiddenSize,
    numLayers: m.numLayers,
    bias: m.bias,
    batchFirst: m.batchFirst,
    bidirectional: m.bidirectional,
    dtype: m.dtype,
  };
  if (m instanceof LSTM) config.projSize = m.projSize;
  if (m instanceof RNN) config.nonlinearity = m.nonlinearity;
  return config;
}

describe('fromStateDict reads the configuration of every PyTorch fixture from its state dict', () => {
  const cases = loadCases<ModuleCase>('modules.json');
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { batchFirst, nonlinearity } = c.options as ModuleOptions;
    const sd = toStateDict(c.params);
    const module =
      c.mode === 'RNN' ? RNN.fromStateDict(sd, { batchFirst, nonlinearity }) : MODULES[c.mode].fromStateDict(sd, { batchFirst });
    expect(module).toBeInstanceOf(MODULES[c.mode]);
    // dropout is not in a state dict: every other option is
    const { dropout: _dropout, ...expected } = c.options;
    expect(configOf(module)).toEqual(expected);
    const [output, hidden] = (module.eval() as RNNBase).forward(toTensor(c.input), toHidden(c.hx));
    expect(moduleMismatches(c, output, hidden)).toEqual([]);
  });
});

describe('fromStateDict on cells', () => {
  const cases = loadCases<CellCase>('cells.json');
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const sd = toStateDict(c.params);
    const cell = c.mode === 'RNNCell' ? RNNCell.fromStateDict(sd, { nonlinearity: (c.options as CellOptions).nonlinearity }) : CELLS[c.mode].fromStateDict(sd);
    expect(cell).toBeInstanceOf(CELLS[c.mode]);
    const config: Record<string, unknown> = { inputSize: cell.inputSize, hiddenSize: cell.hiddenSize, bias: cell.bias, dtype: cell.dtype };
    if (cell instanceof RNNCell) config.nonlinearity = cell.nonlinearity;
    expect(config).toEqual(c.options);
    const state = (cell as RNNCellBase<Tensor | [Tensor, Tensor]>).forward(toTensor(c.input), toHidden(c.hx));
    expect(cellMismatches(c, state)).toEqual([]);
  });
});

describe('fromStateDict on a file written by torch.save', () => {
  test("a projected bidirectional 2-layer LSTM gives PyTorch's output", async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'io', 'expected.json'), 'utf8')) as {
      files: Record<string, { module: { input: FixtureTensor; output: FixtureTensor; h_n: FixtureTensor; c_n: FixtureTensor } }>;
    };
    const { module: recorded } = expected.files['lstm_proj_bi.pt'];
    const lstm = LSTM.fromStateDict(await loadTorch(path.join(__dirname, 'fixtures', 'io', 'lstm_proj_bi.pt'))).eval();
    expect(String(lstm)).toBe('LSTM(3, 5, projSize=2, numLayers=2, bidirectional=true)');
    const [output, [hN, cN]] = lstm.forward(toTensor(recorded.input));
    expect(
      mismatches([
        [output, toTensor(recorded.output), 'output'],
        [hN, toTensor(recorded.h_n), 'h_n'],
        [cN, toTensor(recorded.c_n), 'c_n'],
      ]),
    ).toEqual([]);
  });

  test('prefix picks the layer out of a whole model; the trailing dot is optional', async () => {
    const sd = await loadTorch(path.join(__dirname, 'fixtures', 'io', 'model.pt'));
    const a = LSTM.fromStateDict(sd, { prefix: 'encoder.rnn.' });
    const b = LSTM.fromStateDict(sd, { prefix: 'encoder.rnn' });
    expect([a.inputSize, a.hiddenSize]).toEqual([3, 4]);
    expect(b.weight_hh_l0.data).toEqual(sd['encoder.rnn.weight_hh_l0'].data);
  });
});

describe('the dtype, the training flag and the options', () => {
  const sd64 = (): Record<string, Tensor> => new GRU(3, 4, { dtype: 'float64' }).stateDict();

  test("the state dict's dtype by default; dtype converts", () => {
    const sd = sd64();
    expect(GRU.fromStateDict(sd).dtype).toBe('float64');
    const converted = GRU.fromStateDict(sd, { dtype: 'float32' });
    expect(converted.dtype).toBe('float32');
    expect(Array.from(converted.weight_ih_l0.data)).toEqual(Array.from(Float32Array.from(sd.weight_ih_l0.data)));
  });

  test('modules start in training mode, as every new PyTorch module does', () => {
    expect(GRU.fromStateDict(sd64()).training).toBe(true);
    expect(GRU.fromStateDict(sd64()).dropout).toBe(0);
  });

  test('unknown options are refused by name', () => {
    expect(() => LSTM.fromStateDict(new LSTM(2, 3).stateDict(), { batch_first: true } as never)).toThrow(
      "Unknown option 'batch_first' for LSTM.fromStateDict: did you mean 'batchFirst'?",
    );
    expect(() => GRU.fromStateDict(new GRU(2, 3).stateDict(), { nonlinearity: 'relu' } as never)).toThrow(
      "Unknown option 'nonlinearity' for GRU.fromStateDict",
    );
    expect(() => RNN.fromStateDict(new RNN(2, 3).stateDict(), { nonlinearity: 'gelu' as never })).toThrow(
      "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'.",
    );
  });
});

describe('inconsistent state dicts are refused by the key that is wrong', () => {
  const lstm2 = (): Record<string, Tensor> => new LSTM(5, 12, 2).stateDict();
  const without = (sd: Record<string, Tensor>, ...keys: string[]): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(sd).filter(([k]) => !keys.includes(k)));

  test.each<[string, () => StateDict, { fromStateDict(sd: StateDict): unknown }, string]>([
    [
      'a shape that contradicts weight_ih_l0',
      () => ({ ...lstm2(), weight_hh_l1: Tensor.zeros([48, 10]) }),
      LSTM,
      'LSTM.fromStateDict: weight_hh_l1 has shape [48, 10] but weight_ih_l0 implies hidden_size 12 with 4 gates: expected [48, 12]',
    ],
    [
      'a second layer that reads the wrong width',
      () => ({ ...new LSTM(5, 12, 2, { bidirectional: true }).stateDict(), weight_ih_l1: Tensor.zeros([48, 12]) }),
      LSTM,
      'weight_ih_l1 has shape [48, 12] but weight_ih_l0 implies hidden_size 12 with 4 gates, 2 directions: expected [48, 24]',
    ],
    [
      'a missing reverse direction',
      () => without(new GRU(5, 12, { bidirectional: true }).stateDict(), 'weight_hh_l0_reverse'),
      GRU,
      'GRU.fromStateDict: weight_hh_l0_reverse is missing, but weight_ih_l0_reverse exists, so the GRU is bidirectional',
    ],
    [
      'a gap in the layers',
      () => without(new LSTM(5, 12, 3).stateDict(), 'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1'),
      LSTM,
      'LSTM.fromStateDict: weight_ih_l1 is missing but weight_ih_l2 exists: layer 1 is a gap in layers 0 to 2',
    ],
    [
      'GRU weights whose gates LSTM cannot divide',
      () => new GRU(3, 5).stateDict(),
      LSTM,
      'LSTM.fromStateDict: weight_ih_l0 has 15 rows, not a multiple of the 4 gates of LSTM (i, f, g, o): are these the weights of another kind of module?',
    ],
    [
      'GRU weights whose rows LSTM divides',
      () => new GRU(3, 4).stateDict(),
      LSTM,
      'weight_hh_l0 has shape [12, 4] but weight_ih_l0 implies hidden_size 3 with 4 gates (the shape of GRU weights: use GRU.fromStateDict): expected [12, 3]',
    ],
    [
      'LSTM weights given to RNN',
      () => new LSTM(3, 4).stateDict(),
      RNN,
      'weight_hh_l0 has shape [16, 4] but weight_ih_l0 implies hidden_size 16 with 1 gate (the shape of LSTM weights: use LSTM.fromStateDict): expected [16, 16]',
    ],
    [
      'a bias without its pair',
      () => without(lstm2(), 'bias_hh_l0'),
      LSTM,
      'LSTM.fromStateDict: bias_hh_l0 is missing, but bias_ih_l0 exists, so the LSTM has biases',
    ],
    [
      'a reverse key in a unidirectional module',
      () => ({ ...new GRU(5, 12).stateDict(), bias_ih_l0_reverse: Tensor.zeros([36]) }),
      GRU,
      'GRU.fromStateDict: unexpected key(s) "bias_ih_l0_reverse": weight_ih_l0_reverse is missing, so the GRU is not bidirectional',
    ],
    [
      'a projection on a GRU',
      () => ({ ...new GRU(5, 12).stateDict(), weight_hr_l0: Tensor.zeros([3, 12]) }),
      GRU,
      'GRU.fromStateDict: unexpected key(s) "weight_hr_l0": projections (weight_hr) exist only in LSTM, not GRU',
    ],
    [
      'a key no recurrent module has',
      () => ({ ...new RNN(5, 12).stateDict(), 'weight_ih_l0.extra': Tensor.zeros([1]) }),
      RNN,
      'RNN.fromStateDict: unexpected key(s) under prefix \'\': "weight_ih_l0.extra"',
    ],
    [
      'a whole model without a prefix',
      () => ({ 'embedding.weight': Tensor.zeros([10, 3]), ...prefixed('encoder.rnn.', new LSTM(3, 4).stateDict()) }),
      LSTM,
      "LSTM.fromStateDict: unexpected key(s) under prefix '': \"embedding.weight\", \"encoder.rnn.weight_ih_l0\"",
    ],
    [
      'a value that is not a Tensor',
      () => ({ ...new RNN(5, 12).stateDict(), bias_hh_l0: [1, 2] as unknown as Tensor }),
      RNN,
      'RNN.fromStateDict: bias_hh_l0 is Array, not a Tensor',
    ],
    ['an empty state dict', () => ({}), LSTM, 'LSTM.fromStateDict: the state dict is empty'],
    [
      'a layer without weight_ih_l0',
      () => without(new GRU(5, 12).stateDict(), 'weight_ih_l0'),
      GRU,
      'GRU.fromStateDict: weight_ih_l0 is missing, so the sizes of the first layer cannot be inferred',
    ],
  ])('%s', (_what, sd, Class, message) => {
    expect(() => Class.fromStateDict(sd())).toThrow(message);
  });

  test('a whole model without a prefix: the message says which prefix holds the layer', () => {
    const sd = { 'embedding.weight': Tensor.zeros([10, 3]), ...prefixed('encoder.rnn.', new LSTM(3, 4).stateDict()) };
    expect(() => LSTM.fromStateDict(sd)).toThrow("pick the recurrent layer with the prefix option, e.g. { prefix: 'encoder.rnn.' }");
  });

  test('a prefix nothing is under: the message says what is there', () => {
    const sd = { 'embedding.weight': Tensor.zeros([10, 3]), ...prefixed('encoder.rnn.', new LSTM(3, 4).stateDict()) };
    expect(() => LSTM.fromStateDict(sd, { prefix: 'decoder.rnn.' })).toThrow(
      "LSTM.fromStateDict: no key starts with 'decoder.rnn.'; the state dict's keys start with 'embedding.', 'encoder.'",
    );
  });

  test('keys under the prefix are reported with it', () => {
    const sd = prefixed('encoder.rnn.', { ...new LSTM(5, 12, 2).stateDict(), weight_hh_l1: Tensor.zeros([48, 10]) });
    expect(() => LSTM.fromStateDict(sd, { prefix: 'encoder.rnn.' })).toThrow(
      'encoder.rnn.weight_hh_l1 has shape [48, 10] but encoder.rnn.weight_ih_l0 implies hidden_size 12',
    );
  });

  test('cells: a mode mismatch and a missing weight', () => {
    expect(() => LSTMCell.fromStateDict(new GRUCell(3, 5).stateDict())).toThrow(
      'LSTMCell.fromStateDict: weight_ih has 15 rows, not a multiple of the 4 gates of LSTMCell',
    );
    expect(() => GRUCell.fromStateDict(new LSTMCell(3, 3).stateDict())).toThrow(
      'GRUCell.fromStateDict: weight_hh has shape [12, 3] but weight_ih implies hidden_size 4 with 3 gates (the shape of LSTM weights: use LSTMCell.fromStateDict): expected [12, 4]',
    );
    const { weight_hh: _dropped, ...noHh } = new RNNCell(3, 5).stateDict();
    expect(() => RNNCell.fromStateDict(noHh)).toThrow('RNNCell.fromStateDict: weight_hh is missing, but every RNNCell has one');
    expect(() => RNNCell.fromStateDict(new RNN(3, 5).stateDict())).toThrow(
      'RNNCell.fromStateDict: unexpected key(s) under prefix \'\': "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"',
    );
  });
});

function prefixed(prefix: string, sd: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [prefix + k, v]));
}

describe('loadStateDict with a prefix', () => {
  const whole = (): Record<string, Tensor> => ({
    'embedding.weight': Tensor.zeros([10, 3]),
    ...prefixed('encoder.rnn.', new LSTM(3, 4).stateDict()),
    'head.weight': Tensor.zeros([2, 4]),
  });

  test('loads the keys under the prefix and ignores the rest', () => {
    const sd = whole();
    const lstm = new LSTM(3, 4);
    expect(lstm.loadStateDict(sd, { prefix: 'encoder.rnn.' })).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(lstm.weight_ih_l0.data).toEqual(sd['encoder.rnn.weight_ih_l0'].data);
    expect(new LSTM(3, 4).loadStateDict(sd, { prefix: 'encoder.rnn' })).toEqual({ missingKeys: [], unexpectedKeys: [] });
  });

  test('missing, unexpected and mismatched keys are reported with the prefix', () => {
    const sd: Record<string, Tensor> = { ...whole(), 'encoder.rnn.weight_hr_l0': Tensor.zeros([1, 4]) };
    delete sd['encoder.rnn.bias_hh_l0'];
    expect(new LSTM(3, 4).loadStateDict(sd, { prefix: 'encoder.rnn.', strict: false })).toEqual({
      missingKeys: ['encoder.rnn.bias_hh_l0'],
      unexpectedKeys: ['encoder.rnn.weight_hr_l0'],
    });
    expect(() => new LSTM(3, 4).loadStateDict(sd, { prefix: 'encoder.rnn.' })).toThrow(
      'Error(s) in loading state_dict for LSTM:\n\tMissing key(s) in state_dict: "encoder.rnn.bias_hh_l0". \n\tUnexpected key(s) in state_dict: "encoder.rnn.weight_hr_l0". ',
    );
    expect(() => new LSTM(3, 5).loadStateDict(whole(), { prefix: 'encoder.rnn.' })).toThrow(
      'size mismatch for encoder.rnn.weight_ih_l0: copying a param with shape torch.Size([16, 3]) from checkpoint, the shape in current model is torch.Size([20, 3]).',
    );
  });

  test('a prefix that is not a string is refused', () => {
    expect(() => new LSTM(3, 4).loadStateDict(whole(), { prefix: 3 as never })).toThrow('prefix should be a string, got: number 3');
  });
});
