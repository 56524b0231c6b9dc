// An encoder-decoder: an LSTM reads the source, an LSTMCell writes the target one token at a time, fed the
// embedding of its own argmax. Trained to reverse digit sequences. Ported line by line from PyTorch, loading
// the checkpoint a training loop saved.
//
//   node examples/models/seq2seq.mjs          (in a clone: after `npm install`)
import { Embedding, Linear, LSTM, LSTMCell, Module, Tensor, loadTorch, stack, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class Seq2Seq(nn.Module):
//     def __init__(self, vocab_size=11, embedding_dim=12, hidden_size=24, bos=10):
//         super().__init__()
//         self.bos = bos
//         self.embedding = nn.Embedding(vocab_size, embedding_dim)
//         self.encoder = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
//         self.decoder = nn.LSTMCell(embedding_dim, hidden_size)
//         self.out = nn.Linear(hidden_size, vocab_size)
//
//     def encode(self, src):
//         _, (h_n, c_n) = self.encoder(self.embedding(src))
//         return h_n[-1], c_n[-1]
//
//     @torch.no_grad()
//     def forward(self, src, steps):
//         h, c = self.encode(src)
//         token = torch.full((src.size(0),), self.bos, dtype=torch.long)
//         tokens, logits = [], []
//         for _ in range(steps):
//             h, c = self.decoder(self.embedding(token), (h, c))
//             step_logits = self.out(h)
//             token = step_logits.argmax(-1)
//             tokens.append(token)
//             logits.append(step_logits)
//         return torch.stack(tokens, 1), torch.stack(logits, 1), (h, c)
export class Seq2Seq extends Module {
  constructor(vocabSize = 11, embeddingDim = 12, hiddenSize = 24, bos = 10) {
    super();
    this.bos = bos;
    this.embedding = new Embedding(vocabSize, embeddingDim);
    this.encoder = new LSTM(embeddingDim, hiddenSize, { batchFirst: true });
    this.decoder = new LSTMCell(embeddingDim, hiddenSize);
    this.out = new Linear(hiddenSize, vocabSize);
  }

  encode(src) {
    const [, [hN, cN]] = this.encoder.forward(this.embedding.forward(src));
    return [hN.select(0, -1), cN.select(0, -1)];
  }

  forward(src, steps) {
    let [h, c] = this.encode(src);
    let token = Tensor.full([src.size(0)], this.bos, 'int64');
    const tokens = [];
    const logits = [];
    for (let i = 0; i < steps; i++) {
      [h, c] = this.decoder.forward(this.embedding.forward(token), [h, c]);
      const stepLogits = this.out.forward(h);
      token = stepLogits.argmax(-1);
      tokens.push(token);
      logits.push(stepLogits);
    }
    return [stack(tokens, 1), stack(logits, 1), [h, c]];
  }
}

/** Loads the checkpoint into a new Seq2Seq and decodes the recorded sources greedily. */
export async function run() {
  const record = readRecord('seq2seq');
  const checkpoint = await loadTorch(checkpointPath('seq2seq'));
  const model = new Seq2Seq();
  model.loadStateDict(checkpoint.model);
  model.eval();

  const src = tensor(record.inputs.src, 'int64'); // (3, 6) digits
  const [tokens, logits, [h, c]] = model.forward(src, record.inputs.steps);
  return { model, checkpoint, record, outputs: { tokens, logits, h, c } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}`);
  outputs.tokens.toArray().forEach((row, i) => console.log(`  ${record.inputs.src[i].join('')} -> ${row.join('')}`));
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
