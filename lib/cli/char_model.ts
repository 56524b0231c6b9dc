/**
 * The demo's character-level language model: Embedding → LSTM → Linear, trained in PyTorch by
 * examples/demo/train.py and shipped as a safetensors file with its vocabulary.
 *
 * @packageDocumentation
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { loadSafetensors } from '../io/safetensors';
import { Embedding } from '../modules/embedding';
import { Linear } from '../modules/linear';
import { LSTM } from '../modules/lstm';
import { random } from '../random';
import { Tensor, type TensorData } from '../tensor';

/** Where the shipped model lives, from lib/cli/ and from dist/cli/ alike. */
export const DEMO_DIR = path.join(__dirname, '..', '..', 'examples', 'demo');

/** Options of {@link CharModel.generate}. */
export interface GenerateOptions {
  /** Characters to generate after the prompt. */
  length: number;
  /** 0 for greedy decoding (argmax); above 0, sampling from softmax(logits / temperature). Default 0. */
  temperature?: number;
  /** How many steps' logits to return (the first ones). Default 0. */
  recordLogits?: number;
}

/** What {@link CharModel.generate} gives: the new text and the logits of the first steps. */
export interface Generation {
  text: string;
  logits: TensorData[];
}

/** The index of the largest value (the first of equal ones, as torch.argmax). */
function argmax(values: TensorData): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** A draw from softmax(values / temperature), with the library's generator (seeded by manualSeed). */
function sample(values: TensorData, temperature: number): number {
  const top = values[argmax(values)];
  const weights = Array.from(values, (v) => Math.exp((v - top) / temperature)); // shifted: no overflow
  let threshold = random() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < weights.length; i++) {
    threshold -= weights[i];
    if (threshold < 0) return i;
  }
  return weights.length - 1;
}

/**
 * A character-level model: `embedding.*`, `lstm.*` (batch-first) and `head.*` from one state dict, and the
 * characters its rows stand for.
 *
 * @example
 * ```ts
 * const model = await CharModel.load();
 * model.generate('Shall I compare thee', { length: 100 }).text;
 * ```
 */
export class CharModel {
  private constructor(
    /** The vocabulary: `chars[i]` is the character of embedding row i and logit i. */
    readonly chars: readonly string[],
    /** `embedding.*`: a character id to its vector. */
    readonly embedding: Embedding,
    /** `lstm.*`, batch-first, in eval mode. */
    readonly lstm: LSTM,
    /** `head.*`: the LSTM's output to one logit per character. */
    readonly head: Linear,
  ) {}

  /** Loads `model.safetensors` and `vocab.json` from `dir` (default: the shipped demo model). */
  static async load(dir = DEMO_DIR): Promise<CharModel> {
    const sd = await loadSafetensors(path.join(dir, 'model.safetensors'));
    const { chars } = JSON.parse(await fs.readFile(path.join(dir, 'vocab.json'), 'utf8')) as { chars: string[] };
    const embedding = Embedding.fromStateDict(sd, { prefix: 'embedding.' });
    const lstm = LSTM.fromStateDict(sd, { prefix: 'lstm.', batchFirst: true }).eval();
    const head = Linear.fromStateDict(sd, { prefix: 'head.' });
    if (chars.length !== embedding.numEmbeddings || chars.length !== head.outFeatures) {
      throw new Error(`${dir}: vocab.json has ${chars.length} characters but the model ${embedding.numEmbeddings} embeddings`);
    }
    return new CharModel(chars, embedding, lstm, head);
  }

  /** The ids of `text`'s characters; a character outside the vocabulary is an error naming it. */
  encode(text: string): Int32Array {
    const ids = [...text].map((ch) => {
      const id = this.chars.indexOf(ch);
      if (id < 0) {
        const code = `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
        throw new Error(`the character ${JSON.stringify(ch)} (${code}) is not in the model's vocabulary: ${JSON.stringify(this.chars.join(''))}`);
      }
      return id;
    });
    return Int32Array.from(ids);
  }

  /**
   * Reads `prompt` in one forward, then generates `length` characters one at a time, carrying the LSTM's
   * state: each is the argmax of the logits (temperature 0) or a draw from them.
   */
  generate(prompt: string, options: GenerateOptions): Generation {
    const { length, temperature = 0, recordLogits = 0 } = options;
    const ids = this.encode(prompt);
    if (ids.length === 0) throw new Error('the prompt must hold at least one character');
    let [output, state] = this.lstm.forward(this.embedding.forward(ids, [1, ids.length]));
    let text = '';
    const logits: TensorData[] = [];
    for (let step = 0; step < length; step++) {
      // Only the last position's logits matter: the head runs on that row alone.
      const hidden = this.lstm.hiddenSize;
      const last = new Tensor(output.data.slice(output.data.length - hidden), [1, hidden]);
      const scores = this.head.forward(last).data;
      if (step < recordLogits) logits.push(scores);
      const next = temperature > 0 ? sample(scores, temperature) : argmax(scores);
      text += this.chars[next];
      [output, state] = this.lstm.forward(this.embedding.forward(Int32Array.of(next), [1, 1]), state);
    }
    return { text, logits };
  }
}
