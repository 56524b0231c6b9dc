import { GRU, LSTM, RNN, Tensor, type RNNBase } from '../lib/index';

type AnyModule = RNNBase;
const make = {
  RNN: (o: object) => new RNN(o as never),
  LSTM: (o: object) => new LSTM(o as never),
  GRU: (o: object) => new GRU(o as never),
};
const ALL = Object.entries(make);

const DROPOUT_MESSAGE =
  'dropout should be a number in range [0, 1] representing the probability of an element being zeroed';

describe('defaults are PyTorch defaults', () => {
  test.each(ALL)('%s', (_, create) => {
    const m: AnyModule = create({ inputSize: 10, hiddenSize: 20 });
    expect(m.inputSize).toBe(10);
    expect(m.hiddenSize).toBe(20);
    expect(m.numLayers).toBe(1);
    expect(m.bias).toBe(true);
    expect(m.batchFirst).toBe(false);
    expect(m.dropout).toBe(0);
    expect(m.bidirectional).toBe(false);
    expect(m.projSize).toBe(0);
    expect(m.dtype).toBe('float32');
    expect(m.training).toBe(true);
  });

  test('mode and nonlinearity', () => {
    expect(new LSTM(1, 2).mode).toBe('LSTM');
    expect(new GRU(1, 2).mode).toBe('GRU');
    const rnn = new RNN(1, 2);
    expect(rnn.mode).toBe('RNN_TANH');
    expect(rnn.nonlinearity).toBe('tanh');
    const relu = new RNN(1, 2, { nonlinearity: 'relu' });
    expect(relu.mode).toBe('RNN_RELU');
    expect(relu.nonlinearity).toBe('relu');
  });
});

describe('positional forms', () => {
  test('(inputSize, hiddenSize)', () => {
    const m = new LSTM(100, 20);
    expect([m.inputSize, m.hiddenSize, m.numLayers]).toEqual([100, 20, 1]);
  });

  test('(inputSize, hiddenSize, numLayers) as nn.LSTM(100, 20, 4)', () => {
    const m = new LSTM(100, 20, 4);
    expect([m.inputSize, m.hiddenSize, m.numLayers]).toEqual([100, 20, 4]);
  });

  test('(inputSize, hiddenSize, options) and (inputSize, hiddenSize, numLayers, options)', () => {
    const a = new GRU(3, 4, { numLayers: 2, batchFirst: true });
    expect([a.numLayers, a.batchFirst]).toEqual([2, true]);
    const b = new RNN(3, 4, 3, { nonlinearity: 'relu', bidirectional: true, dtype: 'float64' });
    expect([b.numLayers, b.nonlinearity, b.bidirectional, b.dtype]).toEqual([3, 'relu', true, 'float64']);
    const c = new LSTM(3, 4, 2, { projSize: 2 });
    expect([c.numLayers, c.projSize]).toEqual([2, 2]);
  });

  test('a value given both positionally and as an option is an error', () => {
    expect(() => new LSTM(3, 4, { hiddenSize: 5 } as never)).toThrow("LSTM() got multiple values for argument 'hiddenSize'");
    expect(() => new LSTM(3, 4, 2, { numLayers: 3 } as never)).toThrow("LSTM() got multiple values for argument 'numLayers'");
  });

  test('missing sizes', () => {
    expect(() => new LSTM({ hiddenSize: 4 } as never)).toThrow("LSTM() missing required argument: 'inputSize'");
    expect(() => new GRU({ inputSize: 4 } as never)).toThrow("GRU() missing required argument: 'hiddenSize'");
    expect(() => new (RNN as unknown as new () => RNN)()).toThrow(TypeError);
  });

  test('too many arguments', () => {
    expect(() => new (LSTM as unknown as new (...a: unknown[]) => LSTM)(1, 2, 3, {}, {})).toThrow(
      'LSTM() takes at most 4 arguments (inputSize, hiddenSize, numLayers, options) but 5 were given',
    );
  });

  test('options must be a plain object', () => {
    expect(() => new LSTM(1, 2, 1, 'x' as never)).toThrow("LSTM options must be a plain object, got: string 'x'");
    expect(() => new LSTM(null as never)).toThrow('LSTM options must be a plain object, got: null');
  });
});

describe('unknown options', () => {
  test('a snake_case PyTorch name suggests the camelCase one', () => {
    expect(() => new LSTM({ inputSize: 1, hidden_size: 2 } as never)).toThrow(
      "Unknown option 'hidden_size' for LSTM: did you mean 'hiddenSize'?",
    );
    expect(() => new GRU(1, 2, { batch_first: true } as never)).toThrow(
      "Unknown option 'batch_first' for GRU: did you mean 'batchFirst'?",
    );
  });

  test('a typo suggests the closest option', () => {
    expect(() => new LSTM(1, 2, { numLayer: 2 } as never)).toThrow("Unknown option 'numLayer' for LSTM: did you mean 'numLayers'?");
    expect(() => new RNN(1, 2, { nonlinearty: 'relu' } as never)).toThrow(
      "Unknown option 'nonlinearty' for RNN: did you mean 'nonlinearity'?",
    );
    expect(() => new LSTM(1, 2, { bidirectonal: true } as never)).toThrow(
      "Unknown option 'bidirectonal' for LSTM: did you mean 'bidirectional'?",
    );
  });

  test('otherwise the known options are listed', () => {
    expect(() => new GRU(1, 2, { device: 'cuda' } as never)).toThrow(
      "Unknown option 'device' for GRU. Known options: inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype",
    );
  });

  test('nonlinearity is not an LSTM or GRU option', () => {
    expect(() => new LSTM(1, 2, { nonlinearity: 'relu' } as never)).toThrow("Unknown option 'nonlinearity' for LSTM");
    expect(() => new GRU(1, 2, { nonlinearity: 'relu' } as never)).toThrow("Unknown option 'nonlinearity' for GRU");
  });
});

describe('checks in PyTorch order with PyTorch messages', () => {
  test.each(ALL)('%s: dropout type and range', (_, create) => {
    for (const dropout of [-0.1, 1.1, NaN, Infinity, '0.5', true, null]) {
      expect(() => create({ inputSize: 1, hiddenSize: 2, numLayers: 2, dropout })).toThrow(DROPOUT_MESSAGE);
    }
    expect(create({ inputSize: 1, hiddenSize: 2, numLayers: 2, dropout: 1 }).dropout).toBe(1);
  });

  test.each(ALL)('%s: hidden_size', (_, create) => {
    expect(() => create({ inputSize: 1, hiddenSize: 2.5 })).toThrow(new TypeError('hidden_size should be of type int, got: number 2.5'));
    expect(() => create({ inputSize: 1, hiddenSize: '2' })).toThrow(new TypeError("hidden_size should be of type int, got: string '2'"));
    expect(() => create({ inputSize: 1, hiddenSize: true })).toThrow('hidden_size should be of type int, got: boolean true');
    expect(() => create({ inputSize: 1, hiddenSize: 0 })).toThrow('hidden_size must be greater than zero');
    expect(() => create({ inputSize: 1, hiddenSize: -3 })).toThrow('hidden_size must be greater than zero');
  });

  test.each(ALL)('%s: num_layers', (_, create) => {
    expect(() => create({ inputSize: 1, hiddenSize: 2, numLayers: 0 })).toThrow('num_layers must be greater than zero');
    expect(() => create({ inputSize: 1, hiddenSize: 2, numLayers: -1 })).toThrow('num_layers must be greater than zero');
    expect(() => create({ inputSize: 1, hiddenSize: 2, numLayers: 1.5 })).toThrow(
      new TypeError('num_layers should be of type int, got: number 1.5'),
    );
  });

  test('LSTM proj_size', () => {
    const msg = 'proj_size should be a positive integer or zero to disable projections';
    expect(() => new LSTM(1, 4, { projSize: -1 })).toThrow(msg);
    expect(() => new LSTM(1, 4, { projSize: 1.5 })).toThrow(msg);
    expect(() => new LSTM(1, 4, { projSize: 4 })).toThrow('proj_size has to be smaller than hidden_size');
    expect(() => new LSTM(1, 4, { projSize: 5 })).toThrow('proj_size has to be smaller than hidden_size');
    expect(new LSTM(1, 4, { projSize: 3 }).projSize).toBe(3);
  });

  test.each([
    ['RNN', make.RNN],
    ['GRU', make.GRU],
  ])('%s rejects proj_size in either spelling, before anything else', (_, create) => {
    const msg = 'proj_size argument is only supported for LSTM, not RNN or GRU';
    expect(() => create({ inputSize: 1, hiddenSize: 2, projSize: 1 })).toThrow(msg);
    expect(() => create({ inputSize: 1, hiddenSize: 2, proj_size: 1 })).toThrow(msg);
    expect(() => create({ inputSize: 1, hiddenSize: 2, projSize: 0 })).toThrow(msg);
    expect(() => create({ hiddenSize: 'x', dropout: 5, projSize: 1, nonlinearity: 'x' })).toThrow(msg);
  });

  test('RNN nonlinearity', () => {
    expect(() => new RNN(1, 2, { nonlinearity: 'sigmoid' as never })).toThrow(
      "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.",
    );
  });

  test('RNN checks nonlinearity before the shared checks, as PyTorch does', () => {
    expect(() => new RNN({ inputSize: 1, hiddenSize: 0, dropout: 2, nonlinearity: 'x' as never })).toThrow(
      "Unknown nonlinearity 'x'. Select from 'tanh' or 'relu'.",
    );
  });

  test('the shared checks run in order: dropout, hidden_size, num_layers, proj_size', () => {
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 'x' as never, dropout: 2 })).toThrow(DROPOUT_MESSAGE);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 0, numLayers: 0 })).toThrow('hidden_size must be greater than zero');
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 2, numLayers: 0, projSize: -1 })).toThrow(
      'num_layers must be greater than zero',
    );
    expect(() => new LSTM({ inputSize: -1, hiddenSize: 2, projSize: -1 })).toThrow(
      'proj_size should be a positive integer or zero to disable projections',
    );
  });

  test.each(ALL)('%s: input_size must be a non-negative integer; 0 is allowed', (_, create) => {
    expect(() => create({ inputSize: -1, hiddenSize: 2 })).toThrow('input_size should be a non-negative integer, got: number -1');
    expect(() => create({ inputSize: 2.5, hiddenSize: 2 })).toThrow('input_size should be a non-negative integer, got: number 2.5');
    expect(() => create({ inputSize: '3', hiddenSize: 2 })).toThrow(TypeError);
    expect(create({ inputSize: 0, hiddenSize: 2 }).inputSize).toBe(0);
  });

  test.each(ALL)('%s: booleans must be booleans', (_, create) => {
    expect(() => create({ inputSize: 1, hiddenSize: 2, bias: 0 })).toThrow('bias should be of type bool, got: number 0');
    expect(() => create({ inputSize: 1, hiddenSize: 2, batchFirst: 'yes' })).toThrow(
      "batch_first should be of type bool, got: string 'yes'",
    );
    expect(() => create({ inputSize: 1, hiddenSize: 2, bidirectional: 1 })).toThrow(
      'bidirectional should be of type bool, got: number 1',
    );
  });

  test.each(ALL)('%s: dtype', (_, create) => {
    expect(() => create({ inputSize: 1, hiddenSize: 2, dtype: 'float16' })).toThrow(
      "dtype should be 'float32' or 'float64', got: string 'float16'",
    );
    expect(create({ inputSize: 1, hiddenSize: 2, dtype: 'float64' }).dtype).toBe('float64');
  });

  test('options set to undefined take their defaults', () => {
    const m = new LSTM({ inputSize: 1, hiddenSize: 2, numLayers: undefined, dropout: undefined });
    expect([m.numLayers, m.dropout]).toEqual([1, 0]);
  });
});

describe('the dropout warning with one layer', () => {
  const message = (p: number): string =>
    'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects ' +
    `num_layers greater than 1, but got dropout=${p} and num_layers=1`;

  test('is a UserWarning emitted once per distinct message, before later checks fail', () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      new LSTM(10, 20, { dropout: 0.5 });
      new GRU(10, 20, { dropout: 0.5 });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy).toHaveBeenLastCalledWith(message(0.5), 'UserWarning');

      expect(() => new RNN({ inputSize: 1, hiddenSize: 0, dropout: 0.25 })).toThrow('hidden_size must be greater than zero');
      expect(spy).toHaveBeenCalledTimes(2);
      expect(spy).toHaveBeenLastCalledWith(message(0.25), 'UserWarning');

      new LSTM(10, 20, 2, { dropout: 0.75 });
      new LSTM(10, 20, { dropout: 0 });
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('dropout is settable, as in PyTorch', () => {
  test('a valid value is kept; an invalid one is refused with the constructor message', () => {
    const m = new RNN(1, 2, 2);
    m.dropout = 0.3;
    expect(m.dropout).toBe(0.3);
    expect(() => {
      m.dropout = 1.5;
    }).toThrow(DROPOUT_MESSAGE);
    expect(m.dropout).toBe(0.3);
  });
});

describe('training mode', () => {
  test('train() and eval() switch it and return the module', () => {
    const m = new GRU(1, 2);
    expect(m.eval()).toBe(m);
    expect(m.training).toBe(false);
    expect(m.train()).toBe(m);
    expect(m.training).toBe(true);
    m.train(false);
    expect(m.training).toBe(false);
    expect(() => m.train('no' as never)).toThrow("training mode is expected to be boolean, got: string 'no'");
  });
});

describe('parameters as properties', () => {
  test('each parameter is a property under its PyTorch name', () => {
    const m = new LSTM(3, 4, { bidirectional: true });
    const named = Object.fromEntries(m.namedParameters());
    expect(m.weight_ih_l0).toBe(named.weight_ih_l0);
    expect(m.bias_hh_l0_reverse).toBe(named.bias_hh_l0_reverse);
    expect(m.weight_ih_l0.shape).toEqual([16, 3]);
  });

  test('assigning a parameter checks shape and dtype', () => {
    const m = new GRU(3, 4);
    const replacement = Tensor.ones([12, 3]);
    m.weight_ih_l0 = replacement;
    expect(m.weight_ih_l0).toBe(replacement);
    expect(m.stateDict().weight_ih_l0).toBe(replacement);
    expect(() => {
      m.weight_ih_l0 = Tensor.ones([12, 4]);
    }).toThrow("cannot assign a parameter of shape torch.Size([12, 4]) to 'weight_ih_l0' of shape torch.Size([12, 3])");
    expect(() => {
      m.weight_ih_l0 = Tensor.ones([12, 3], 'float64');
    }).toThrow("cannot assign a float64 parameter to 'weight_ih_l0' of a float32 GRU");
    expect(() => {
      (m as unknown as Record<string, unknown>).weight_ih_l0 = [1, 2];
    }).toThrow("cannot assign 'Array' as parameter 'weight_ih_l0' (Tensor expected)");
  });
});

describe('toString', () => {
  test("PyTorch's repr with our option names", () => {
    expect(String(new LSTM(10, 20))).toBe('LSTM(10, 20)');
    expect(String(new LSTM(10, 20, 2, { projSize: 5, batchFirst: true, bidirectional: true }))).toBe(
      'LSTM(10, 20, projSize=5, numLayers=2, batchFirst=true, bidirectional=true)',
    );
    expect(String(new GRU(1, 2, { bias: false }))).toBe('GRU(1, 2, bias=false)');
  });
});
