/**
 * What test/fixtures/layers_around.json holds (written by generate_layers_around.py with PyTorch), for the
 * tests of the layers around recurrent ones.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Conv1dOptions } from '../../lib';
import type { FixtureTensor } from './fixtures';

export interface AnyFixtureTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64';
  data: (number | string)[];
}

export interface Named extends AnyFixtureTensor {
  name: string;
}

export interface ConvCase {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  options: Conv1dOptions;
  dtype: 'float32' | 'float64';
  params: Named[];
  stateDictKeys: string[];
  input: FixtureTensor;
  output: FixtureTensor;
}

export interface LayerNormCase {
  name: string;
  normalizedShape: number | number[];
  options: { eps?: number; elementwiseAffine?: boolean };
  dtype: 'float32' | 'float64';
  params: Named[];
  stateDictKeys: string[];
  input: FixtureTensor;
  output: FixtureTensor;
}

export interface BatchNormCase {
  name: string;
  numFeatures: number;
  options: { eps?: number; momentum?: number | null; affine?: boolean; trackRunningStats?: boolean };
  dtype: 'float32' | 'float64';
  params: Named[];
  buffers: Named[];
  stateDictKeys: string[];
  steps: Array<{ training: boolean; input: FixtureTensor; output: FixtureTensor; buffers: Named[] }>;
}

export interface ActivationCase {
  name: string;
  module: 'ReLU' | 'Tanh' | 'Sigmoid' | 'GELU' | 'Softmax' | 'LogSoftmax';
  options: { approximate?: 'none' | 'tanh'; dim?: number };
  input: FixtureTensor;
  output: FixtureTensor;
}

export interface Fixture {
  conv1d: ConvCase[];
  layerNorm: LayerNormCase[];
  batchNorm1d: BatchNormCase[];
  activations: ActivationCase[];
  flatten: Array<{ inputShape: number[]; startDim: number; endDim: number; outputShape: number[] }>;
  dropout: { input: FixtureTensor; p1: FixtureTensor };
  stateDictKeys: Record<string, string[]>;
  messages: Record<string, string>;
}

/** test/fixtures/layers_around.json, as PyTorch wrote it. */
export const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'layers_around.json'), 'utf8')) as Fixture;
