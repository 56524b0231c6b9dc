/** The cases of fixtures/quant.json (written by fixtures/generate_quant.py) and how tests measure a
 * quantized module against them. */
import { RNNBase, Tensor, quantizeDynamic, type QuantizedDType } from '../../lib';
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
export function expectedQuantizedBackends(family: string): Record<QuantizedDType, string> {
  const direct = (): boolean => family === 'avx512' || family === 'avx2';
  const name = (): string => `${family}-${direct() ? 'direct' : 'decode'}`;
  return { bfloat16: name(), float16: name(), qint8: name() };
}
