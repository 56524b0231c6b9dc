// The demo model as a module file for --module: the character-level language model of examples/demo
// (Embedding(60, 32) → LSTM(32, 128) → Linear(128, 60), trained by examples/demo/train.py).
//
//   npm run serve -- --module examples/server/demo-model.mjs --weights examples/demo/model.safetensors --batch-size 32
//
// A request is a sequence of token ids (vocab.json maps characters to them); the answer is each step's
// logits over the next character, with the LSTM's final h_n and c_n, from which a client continues the
// text in its next request (hx). The module file's contract is in module-file.mjs and the README.

import { Embedding, LSTM, Linear, Module, PackedSequence } from 'torchrnn';

/** One step of a request: one token id. */
export const input = { dtype: 'int64', stepShape: [] };

/** The model, named as in PyTorch so that the state dict's keys (embedding.weight, lstm.*, head.*) load. */
export class CharModel extends Module {
  embedding = new Embedding(60, 32);
  lstm = new LSTM(32, 128);
  head = new Linear(128, 60);
}

/** A fresh model: the server loads --weights into it. */
export function createModel() {
  return new CharModel();
}

/**
 * One packed batch: the head applies to the LSTM's packed rows, as PyTorch code applies it to
 * `packed.data`, so no step is padded. Resolves to [logits, [h_n, c_n]] for the batcher to split.
 */
export async function run(model, packed, hx) {
  const embedded = model.embedding.forward(packed.data); // (rows, 32)
  const [out, state] = await model.lstm.forwardAsync(new PackedSequence(embedded, packed.batchSizes, packed.sortedIndices), hx);
  const logits = model.head.forward(out.data); // (rows, 60)
  return [new PackedSequence(logits, out.batchSizes, out.sortedIndices), state];
}

/** A token id outside the vocabulary is this request's error alone: the embedding's own message. */
export function validate(model, ids) {
  model.embedding.forward(ids instanceof PackedSequence ? ids.data : ids);
}
