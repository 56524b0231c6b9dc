/**
 * Reduced precision at realistic sizes (fixtures/large/, the cases that take each of the engine's fast
 * paths: wide tiles, a streamed W_hh, rows or units split across threads, projection, packed sequences):
 * a quantized module gives what the float32 module gives with its dequantized weights, at 1 and 2 threads,
 * and stays within the measured bounds (docs/PRECISION.md, ~2x headroom) of PyTorch's float32 results.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  GRU,
  LSTM,
  RNN,
  Tensor,
  getNumThreads,
  packPaddedSequence,
  padPackedSequence,
  parseSafetensors,
  quantizeDynamic,
  readSafetensorsMetadata,
  setNumThreads,
  type QuantizedDType,
  type RNNBase,
} from '../lib';
import { mismatches } from './helpers/close';
import { roundsActivations, sameWeightsBound, worst } from './helpers/quant_cases';

const dir = path.join(__dirname, 'fixtures', 'large');
const BOUND: Record<QuantizedDType, number> = { qint8: 1.6e-2, float16: 6e-4, bfloat16: 9e-3 };
const DTYPES = Object.keys(BOUND) as QuantizedDType[];

const fixtures = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.safetensors'))
  .sort()
  .map((file) => {
    const bytes = fs.readFileSync(path.join(dir, file));
    return { metadata: readSafetensorsMetadata(bytes), tensors: parseSafetensors(bytes) };
  })
  .filter(({ tensors }) => tensors.input.dtype === 'float32');

type Fixture = (typeof fixtures)[number];

function floatModule({ metadata, tensors }: Fixture): RNNBase {
  const options = JSON.parse(metadata.options) as ConstructorParameters<typeof LSTM>[0];
  const module: RNNBase = metadata.mode === 'LSTM' ? new LSTM(options) : metadata.mode === 'GRU' ? new GRU(options) : new RNN(options);
  module.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([n]) => /^(weight|bias)_/.test(n))));
  return module.eval();
}

function run(module: RNNBase, { metadata, tensors }: Fixture): Tensor[] {
  const batchFirst = (JSON.parse(metadata.options) as { batchFirst?: boolean }).batchFirst ?? false;
  const hx = tensors.h0 === undefined ? undefined : metadata.mode === 'LSTM' ? ([tensors.h0, tensors.c0] as [Tensor, Tensor]) : tensors.h0;
  let output: Tensor;
  let state: Tensor | [Tensor, Tensor];
  if (metadata.lengths === undefined) {
    [output, state] = module.forward(tensors.input, hx);
  } else {
    const packed = packPaddedSequence(tensors.input, JSON.parse(metadata.lengths) as number[], { batchFirst, enforceSorted: metadata.enforceSorted === 'true' });
    const [packedOutput, packedState] = module.forward(packed, hx);
    output = padPackedSequence(packedOutput, { batchFirst })[0];
    state = packedState;
  }
  return Array.isArray(state) ? [output, ...state] : [output, state];
}

const threadsBefore = getNumThreads();
afterAll(() => setNumThreads(threadsBefore));

describe.each(DTYPES)('%s at realistic sizes', (dtype) => {
  it('has the float32 cases', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtures.map((f) => [f.metadata.name, f] as const))('%s', (_name, f) => {
    const float = floatModule(f);
    const quantized = quantizeDynamic(float, { dtype });
    // The float32 engine with the dequantized weights: the same products, accumulated the same way.
    const dequantized = floatModule(f);
    dequantized.loadStateDict(quantized.stateDict());
    const expected = run(dequantized, f);
    const torchFloat = ['output', 'h_n', 'c_n'].filter((n) => f.tensors[n] !== undefined).map((n) => f.tensors[n]);
    let oneThread: Tensor[] = [];
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const got = run(quantized, f);
      if (roundsActivations(dtype)) {
        // Activations rounded too: within the measured bound of those products, and the same at every thread count.
        expect(worst(got.map((t, i) => [t, expected[i]])).rel).toBeLessThanOrEqual(sameWeightsBound(dtype, 'large'));
        if (threads === 1) oneThread = got;
        else expect(mismatches(got.map((t, i) => [t, oneThread[i], `2 threads against 1, ${i}`]))).toEqual([]);
      } else {
        expect(mismatches(got.map((t, i) => [t, expected[i], `${threads} thread(s) ${i}`]))).toEqual([]);
      }
      expect(worst(got.map((t, i) => [t, torchFloat[i]])).rel).toBeLessThanOrEqual(BOUND[dtype]);
    }
  });
});
