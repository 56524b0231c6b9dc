/**
 * What each reduced precision does to the parity fixtures, against real PyTorch (fixtures/quant.json and
 * modules.json): with the same rounded weights PyTorch's float32 forward gives our results to the parity
 * tolerance, and against the float32 module and PyTorch's float32 results the error stays within bounds
 * measured by scripts/precision-report.mjs (docs/PRECISION.md) with about 2x headroom. A broken rounding or
 * scale, fed to the engine directly, is caught by the first check.
 */
import { Linear, QuantizedWeight, quantizeDynamic, type QuantizedDType, type RNNBase, type Tensor } from '../lib';
import { native, type NativeModelSpec } from '../lib/native';
import { mismatches } from './helpers/close';
import { buildCell, buildModule, toHidden, type CellCase } from './helpers/fixture_cases';
import { loadCases, toStateDict, toTensor } from './helpers/fixtures';
import {
  buildQuantized,
  fixtureTensors,
  loadQuantFixture,
  quantModuleCases,
  roundsActivations,
  runCase,
  sameWeightsBound,
  worst,
} from './helpers/quant_cases';

const fixture = loadQuantFixture();
const cases = quantModuleCases(fixture);
const DTYPES: QuantizedDType[] = ['qint8', 'float16', 'bfloat16'];

/** Largest error relative to the reference's largest |value|, by dtype and layer family: measured, then ~2x. */
const BOUND_VS_FLOAT: Record<QuantizedDType, Record<'RNN' | 'LSTM' | 'GRU' | 'Linear', number>> = {
  qint8: { RNN: 1e-1, LSTM: 4e-2, GRU: 3.5e-2, Linear: 3e-2 },
  float16: { RNN: 6e-3, LSTM: 2e-3, GRU: 2e-3, Linear: 5e-4 },
  bfloat16: { RNN: 5e-2, LSTM: 1.6e-2, GRU: 1.7e-2, Linear: 9e-3 },
};
/** Against PyTorch's own quantize_dynamic (qint8, which also rounds activations to 8 bits): measured, then ~2x. */
const BOUND_VS_TORCH_DYNAMIC = { LSTM: 1e-1, GRU: 7e-2, Linear: 4e-2 };

describe.each(DTYPES)('%s modules', (dtype) => {
  it.each(cases.map(({ quant, base }) => [quant.name, quant, base] as const))('%s', (_name, quant, base) => {
    const { float, quantized } = buildQuantized(base, dtype);
    const got = runCase(quantized, base);
    // The same rounded weights in PyTorch's float32 forward: our engine's arithmetic is float32 throughout,
    // unless the kernels round activations too (then within their measured bound).
    const sameWeights = fixtureTensors(quant.weightOnly[dtype]);
    if (roundsActivations(dtype)) {
      expect(worst(got.map(([, t], i) => [t, sameWeights[i][1]])).rel).toBeLessThanOrEqual(sameWeightsBound(dtype, base.mode));
    } else {
      expect(mismatches(got.map(([name, t], i) => [t, sameWeights[i][1], name]))).toEqual([]);
    }
    // Against the float32 module and PyTorch's float32 results: the cost of the precision, bounded.
    const ours = runCase(float, base);
    const torchFloat = fixtureTensors({ output: base.output, h_n: base.h_n, c_n: base.c_n });
    const bound = BOUND_VS_FLOAT[dtype][base.mode];
    expect(worst(got.map(([, t], i) => [t, ours[i][1]])).rel).toBeLessThanOrEqual(bound);
    expect(worst(got.map(([, t], i) => [t, torchFloat[i][1]])).rel).toBeLessThanOrEqual(bound);
    const dynamic = quant.torchDynamic.qint8;
    if (dtype === 'qint8' && dynamic !== undefined) {
      const reference = fixtureTensors(dynamic);
      expect(worst(got.map(([, t], i) => [t, reference[i][1]])).rel).toBeLessThanOrEqual(BOUND_VS_TORCH_DYNAMIC[base.mode as 'LSTM' | 'GRU']);
    }
  });
});

const cellCases = new Map(loadCases<CellCase>('cells.json').map((c) => [c.name, c]));

describe.each(DTYPES)('%s cells', (dtype) => {
  it.each(fixture.cells.map((c) => [c.name, c] as const))('%s', (_name, quant) => {
    const base = cellCases.get(quant.name)!;
    const float = buildCell(base);
    const quantized = quantizeDynamic(float, { dtype });
    const got = quantized.forward(toTensor(base.input), toHidden(base.hx));
    const [h, c] = Array.isArray(got) ? got : [got, undefined];
    const expected = quant.weightOnly[dtype];
    const pairs: [Tensor, Tensor, string][] = [[h, toTensor(expected.h), 'h']];
    if (expected.c) pairs.push([c!, toTensor(expected.c), 'c']);
    const family = base.mode.replace('Cell', '') as 'RNN' | 'LSTM' | 'GRU';
    if (roundsActivations(dtype)) expect(worst(pairs.map(([t, e]) => [t, e])).rel).toBeLessThanOrEqual(sameWeightsBound(dtype, family));
    else expect(mismatches(pairs)).toEqual([]);
    const floatState = float.forward(toTensor(base.input), toHidden(base.hx));
    const floatPairs = Array.isArray(floatState) ? floatState : [floatState];
    expect(worst(pairs.map(([t], i) => [t, floatPairs[i]])).rel).toBeLessThanOrEqual(BOUND_VS_FLOAT[dtype][family]);
  });
});

describe.each(DTYPES)('%s Linear', (dtype) => {
  it.each(fixture.linear.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const float = new Linear(c.inFeatures, c.outFeatures, { bias: c.bias });
    float.loadStateDict(toStateDict(c.params));
    const input = toTensor(c.input);
    const got = quantizeDynamic(float, { dtype }).forward(input);
    if (roundsActivations(dtype)) expect(worst([[got, toTensor(c.weightOnly[dtype])]]).rel).toBeLessThanOrEqual(sameWeightsBound(dtype, 'Linear'));
    else expect(mismatches([[got, toTensor(c.weightOnly[dtype]), 'output']])).toEqual([]);
    expect(worst([[got, float.forward(input)]]).rel).toBeLessThanOrEqual(BOUND_VS_FLOAT[dtype].Linear);
    expect(worst([[got, toTensor(c.output)]]).rel).toBeLessThanOrEqual(BOUND_VS_FLOAT[dtype].Linear);
    if (dtype === 'qint8') {
      expect(worst([[got, toTensor(c.torchDynamic.qint8!)]]).rel).toBeLessThanOrEqual(BOUND_VS_TORCH_DYNAMIC.Linear);
    }
  });
});

describe('a broken rounding or scale is caught', () => {
  // An LSTM case with both directions, two layers and an initial state: every weight matrix matters.
  const { quant, base } = cases.find(({ base: b }) => b.name === 'seed-000-lstm-bidirectional-2layer')!;

  /** The case run on the engine with each weight matrix stored as `store` says. */
  function runStored(dtype: QuantizedDType, store: (w: Tensor) => { values: Uint16Array | Int8Array; scales: Float32Array | null }): Tensor[] {
    const module = buildModule(base);
    const params = module.namedParameters().map(([, p]) => p);
    const stored = params.map((p) => (p.dim() === 2 ? store(p) : { values: p.data as Float32Array, scales: null }));
    const o = base.options as { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; bias: boolean; batchFirst: boolean; projSize?: number };
    const spec: NativeModelSpec = {
      mode: 'LSTM',
      inputSize: o.inputSize,
      hiddenSize: o.hiddenSize,
      projSize: o.projSize ?? 0,
      numLayers: o.numLayers,
      bidirectional: o.bidirectional,
      bias: o.bias,
      dtype: 'float32',
    };
    const packed = new native.PackedModel(spec, stored.map((s) => s.values), { format: dtype, scales: stored.map((s) => s.scales) });
    const input = toTensor(base.input);
    const hx = toHidden(base.hx) as [Tensor, Tensor];
    const [L, N] = o.batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
    const r = packed.forward({
      input: input.data as Float32Array,
      seqLen: L,
      batch: N,
      batchFirst: o.batchFirst,
      h0: hx[0].data as Float32Array,
      c0: hx[1].data as Float32Array,
      dropout: 0,
      dropoutSeed: 0,
    });
    return [r.output, r.hN, r.cN!].map((data, i) => toTensor({ ...[base.output, base.h_n, base.c_n!][i], data: Array.from(data) }));
  }

  /**
   * Where `got` differs from what a correct conversion gives: PyTorch with the same rounded weights at the
   * parity tolerance; or, where the kernels round activations too (those products are PyTorch's only within
   * a bound), the correct conversion's run through quantizeDynamic, which the same path must give exactly.
   */
  function sameWeightsMismatches(dtype: QuantizedDType, got: Tensor[]): string[] {
    if (roundsActivations(dtype)) {
      const viaModule = runCase(quantizeDynamic(buildModule(base), { dtype }) as unknown as RNNBase, base).map(([, t]) => t);
      return mismatches(got.map((t, i) => [t, viaModule[i], `${dtype} ${i}`]));
    }
    const expected = fixtureTensors(quant.weightOnly[dtype]);
    return mismatches(got.map((t, i) => [t, expected[i][1], expected[i][0]]));
  }

  it.each<QuantizedDType>(['bfloat16', 'qint8'])('the correct %s conversion passes through the same path', (dtype) => {
    const got = runStored(dtype, (w) => QuantizedWeight.quantize(w, dtype));
    expect(sameWeightsMismatches(dtype, got)).toEqual([]);
  });

  it('bfloat16 truncated instead of rounded to nearest even', () => {
    const got = runStored('bfloat16', (w) => ({ values: Uint16Array.from(new Uint32Array(w.data.slice().buffer), (b) => b >>> 16), scales: null }));
    expect(sameWeightsMismatches('bfloat16', got)).not.toEqual([]);
  });

  it('int8 scales 1% off', () => {
    const got = runStored('qint8', (w) => {
      const q = QuantizedWeight.quantize(w, 'qint8');
      return { values: q.values, scales: (q.scales as Float32Array).map((s) => s * 1.01) };
    });
    expect(sameWeightsMismatches('qint8', got)).not.toEqual([]);
  });
});
