// A character-level language model (Embedding, LSTM, Linear) with greedy generation, ported line by line
// from PyTorch, loading the checkpoint a training loop saved.
//
//   node examples/models/char_lm.mjs          (in a clone: after `npm install`)
import { Embedding, Linear, LSTM, Module, loadTorch, stack, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class CharLM(nn.Module):
//     def __init__(self, vocab_size, embedding_dim=12, hidden_size=32):
//         super().__init__()
//         self.embedding = nn.Embedding(vocab_size, embedding_dim)
//         self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
//         self.head = nn.Linear(hidden_size, vocab_size)
//
//     def forward(self, ids, state=None):
//         output, state = self.lstm(self.embedding(ids), state)
//         return self.head(output), state
//
//     @torch.no_grad()
//     def generate(self, prompt, steps):
//         logits, state = self(prompt)
//         tokens, step_logits = [], []
//         for _ in range(steps):
//             last = logits[:, -1]
//             step_logits.append(last)
//             token = last.argmax(-1)
//             tokens.append(token)
//             logits, state = self(token.unsqueeze(1), state)
//         return torch.stack(tokens, 1), torch.stack(step_logits, 1), state
export class CharLM extends Module {
  constructor(vocabSize, embeddingDim = 12, hiddenSize = 32) {
    super();
    this.embedding = new Embedding(vocabSize, embeddingDim);
    this.lstm = new LSTM(embeddingDim, hiddenSize, { batchFirst: true });
    this.head = new Linear(hiddenSize, vocabSize);
  }

  forward(ids, state = null) {
    const [output, next] = this.lstm.forward(this.embedding.forward(ids), state);
    return [this.head.forward(output), next];
  }

  /** Greedy decoding: the prompt in one forward, then each step's argmax fed back, one at a time. */
  generate(prompt, steps) {
    let [logits, state] = this.forward(prompt);
    const tokens = [];
    const stepLogits = [];
    for (let i = 0; i < steps; i++) {
      const last = logits.select(1, -1);
      stepLogits.push(last);
      const token = last.argmax(-1);
      tokens.push(token);
      [logits, state] = this.forward(token.unsqueeze(1), state);
    }
    return [stack(tokens, 1), stack(stepLogits, 1), state];
  }
}

/** Loads the checkpoint into a new CharLM and continues the recorded prompts greedily. */
export async function run() {
  const record = readRecord('char_lm');
  const chars = [...record.chars]; // the characters, in the order of the embedding's rows
  const checkpoint = await loadTorch(checkpointPath('char_lm'));
  const model = new CharLM(chars.length);
  model.loadStateDict(checkpoint.model);
  model.eval();

  const prompt = tensor(record.inputs.prompts.map((p) => [...p].map((c) => chars.indexOf(c))), 'int64');
  const [tokens, logits, [hN, cN]] = model.generate(prompt, record.inputs.steps);
  const texts = tokens.toArray().map((row) => row.map((id) => chars[id]).join(''));
  return { model, checkpoint, record, texts, outputs: { tokens, logits, h_n: hN, c_n: cN } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, texts, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}`);
  record.inputs.prompts.forEach((p, i) => console.log(`  ${JSON.stringify(p)} -> ${JSON.stringify(texts[i])}`));
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
