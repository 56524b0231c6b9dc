/**
 * `torchrnn demo`: text from the shipped sonnet model.
 *
 * @packageDocumentation
 */
import { manualSeed } from '../random';
import { CharModel } from './char_model';

/** Options of {@link demo}, as the command line gives them. */
export interface DemoOptions {
  prompt: string;
  length: number;
  temperature: number;
  seed: number;
}

/** The prompt followed by the model's continuation. */
export async function demo(options: DemoOptions): Promise<string> {
  const { prompt, length, temperature, seed } = options;
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`--length must be a non-negative integer, got ${length}`);
  if (!(temperature >= 0)) throw new Error(`--temperature must be 0 (greedy) or more, got ${temperature}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${seed}`);
  const model = await CharModel.load();
  manualSeed(seed);
  return prompt + model.generate(prompt, { length, temperature }).text;
}
