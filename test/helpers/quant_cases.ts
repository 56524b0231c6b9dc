/** The cases of fixtures/quant.json (written by fixtures/generate_quant.py) and how tests measure a
 * quantized module against them. */
import { RNNBase, Tensor, quantizeDynamic, quantizedBackends, type QuantizedDType } from '../../lib';
import { buildModule, toHidden, type ModuleCase } from './fixture_cases';
import { FixtureParam, FixtureTensor, loadCases, toTensor } from './fixtures';
import * as fs from 'fs';
import * as path from 'path';

/** A module's results as the generator writes them. */
export interface FixtureResults {
  output: FixtureTensor;
  h_n: FixtureTensor;
  c_n?: FixtureTensor;
}

/** A module case of quant.json: PyTorch's results with each precision's weights (biases float32, float32
 * arithmetic), and for LSTM/GRU what PyTorch's own quantize_dynamic (qint8, per-channel) gives. */
export interface QuantModuleCase {
  name: string;
  weightOnly: Record<QuantizedDType, FixtureResults>;
  torchDynamic: Partial<Record<'qint8', FixtureResults>>;
}

/** A cell case of quant.json: PyTorch's h (and c) with each precision's weights. */
export interface QuantCellCase {
  name: string;
  weightOnly: Record<QuantizedDType, { h: FixtureTensor; c?: FixtureTensor }>;
}

/** A Linear case of quant.json. */
export interface QuantLinearCase {
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  params: FixtureParam[];
  input: FixtureTensor;
  output: FixtureTensor;
  weightOnly: Record<QuantizedDType, FixtureTensor>;
  torchDynamic: Partial<Record<'qint8', FixtureTensor>>;
}

/** An int8 matrix of quant.json with PyTorch's per-channel scales and values. */
export interface Int8Case {
  name: string;
  weight: FixtureTensor;
  scales: number[];
  values: number[];
}

/** The whole of quant.json. */
export interface QuantFixture {
  conversions: { values: (number | string)[]; bfloat16: number[]; float16: number[] };
  int8: Int8Case[];
  modules: QuantModuleCase[];
  cells: QuantCellCase[];
  linear: QuantLinearCase[];
}

/** quant.json, parsed. */
export function loadQuantFixture(): QuantFixture {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'quant.json'), 'utf8')) as QuantFixture;
}

/** Every module case of quant.json with its modules.json case (weights, input, PyTorch's float results). */
export function quantModuleCases(fixture: QuantFixture): Array<{ quant: QuantModuleCase; base: ModuleCase }> {
  const byName = new Map(loadCases<ModuleCase>('modules.json').map((c) => [c.name, c]));
  return fixture.modules.map((quant) => {
    const base = byName.get(quant.name);
    if (base === undefined) throw new Error(`quant.json names ${quant.name}, which modules.json lacks`);
    return { quant, base };
  });
}

/** A forward's results as a list of [name, tensor]: output, h_n, then c_n for LSTMs. */
export function resultTensors(output: Tensor, state: Tensor | [Tensor, Tensor]): Array<[string, Tensor]> {
  const [h, c] = Array.isArray(state) ? state : [state, undefined];
  return c === undefined ? [['output', output], ['h_n', h]] : [['output', output], ['h_n', h], ['c_n', c]];
}

/** The fixture's results in the same order. */
export function fixtureTensors(r: FixtureResults): Array<[string, Tensor]> {
  const out: Array<[string, Tensor]> = [['output', toTensor(r.output)], ['h_n', toTensor(r.h_n)]];
  if (r.c_n) out.push(['c_n', toTensor(r.c_n)]);
  return out;
}

/**
 * Largest |a - e| over several pairs of equally shaped tensors (output, h_n, c_n), and that over the largest
 * |e| among them (0 when all are empty): the measure of scripts/precision-report.mjs and docs/PRECISION.md.
 */
export function worst(pairs: Array<[Tensor, Tensor]>): { abs: number; rel: number } {
  let abs = 0;
  let scale = 0;
  for (const [actual, expected] of pairs) {
    for (let i = 0; i < expected.data.length; i++) {
      abs = Math.max(abs, Math.abs(Number(actual.data[i]) - Number(expected.data[i])));
      scale = Math.max(scale, Math.abs(Number(expected.data[i])));
    }
  }
  return { abs, rel: scale > 0 ? abs / scale : 0 };
}

/** The case's float module, and its quantized conversion, both in eval mode. */
export function buildQuantized(base: ModuleCase, dtype: QuantizedDType): { float: RNNBase; quantized: RNNBase } {
  const float = buildModule(base);
  return { float, quantized: quantizeDynamic(float, { dtype }) as unknown as RNNBase };
}

/** Runs `module` on the case's input and hx. */
export function runCase(module: RNNBase, base: ModuleCase): Array<[string, Tensor]> {
  const [output, state] = module.forward(toTensor(base.input), toHidden(base.hx));
  return resultTensors(output, state as Tensor | [Tensor, Tensor]);
}

/**
 * What quantizedBackends() reports under a family: recurrent steps that read the reduced panels on AVX-512
 * and AVX2 (float16 there through F16C, which every AVX2 CPU made has), decoding everywhere else.
 */
/**
 * Whether `dtype` runs here on dot-product kernels, which round activations too (qint8 on VNNI, bfloat16
 * on AVX-512 BF16), as quantizedBackends() reports: their results are the same weights' float32 forward
 * only within the bounds of {@link SAME_WEIGHTS_BOUND}, not to float32 rounding.
 */
export function roundsActivations(dtype: QuantizedDType): boolean {
  return /-(vnni|bf16)$/.test(quantizedBackends()[dtype]);
}

/**
 * With activations rounded: the largest error relative to the same weights' float32 forward's largest
 * |value|, by layer family (cells take theirs) and for the large fixtures: measured by
 * scripts/precision-report.mjs (docs/PRECISION.md), then ~2x.
 */
export const SAME_WEIGHTS_BOUND: Partial<Record<QuantizedDType, Record<'RNN' | 'LSTM' | 'GRU' | 'Linear' | 'large', number>>> = {
  qint8: { RNN: 8e-2, LSTM: 2.5e-2, GRU: 2e-2, Linear: 2e-2, large: 1.3e-2 },
  bfloat16: { RNN: 3.5e-2, LSTM: 2e-2, GRU: 1.2e-2, Linear: 6e-3, large: 5e-3 },
};

/** The bound of {@link SAME_WEIGHTS_BOUND} for `dtype` and `family`. */
export function sameWeightsBound(dtype: QuantizedDType, family: 'RNN' | 'LSTM' | 'GRU' | 'Linear' | 'large'): number {
  const bounds = SAME_WEIGHTS_BOUND[dtype];
  if (bounds === undefined) throw new Error(`no measured bound for ${dtype} with rounded activations`);
  return bounds[family];
}

/** This CPU's feature flags from /proc/cpuinfo (Linux), or undefined where there is none. */
export function cpuFlags(): Set<string> | undefined {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    return line ? new Set(line[1].trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether qint8 should run on the VNNI kernels in a process of kernel family `family` loaded with
 * TORCHRNN_ISA = `forcedIsa`: the AVX-512 family, a CPU with VNNI, and no TORCHRNN_ISA naming avx512
 * (which forces the family's plain kernels).
 */
export function expectsVnni(family: string, forcedIsa: string | undefined): boolean {
  return family === 'avx512' && forcedIsa !== 'avx512' && cpuFlags()?.has('avx512_vnni') === true;
}

/** As {@link expectsVnni}, for bfloat16 on the AVX-512 BF16 kernels. */
export function expectsBf16Dot(family: string, forcedIsa: string | undefined): boolean {
  return family === 'avx512' && forcedIsa !== 'avx512' && cpuFlags()?.has('avx512_bf16') === true;
}

/** What quantizedBackends() reports in a process of kernel family `family` loaded with TORCHRNN_ISA = `forcedIsa`. */
export function expectedQuantizedBackends(family: string, forcedIsa: string | undefined): Record<QuantizedDType, string> {
  const direct = (): boolean => family === 'avx512' || family === 'avx2';
  const name = (): string => `${family}-${direct() ? 'direct' : 'decode'}`;
  return {
    bfloat16: expectsBf16Dot(family, forcedIsa) ? `${family}-bf16` : name(),
    float16: name(),
    qint8: expectsVnni(family, forcedIsa) ? `${family}-vnni` : name(),
  };
}
