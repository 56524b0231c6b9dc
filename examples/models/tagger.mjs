// A sequence tagger (Embedding with a padding id, a 2-layer bidirectional LSTM with projections, LayerNorm,
// Dropout, Linear, log-softmax), ported line by line from PyTorch, loading the checkpoint a training loop saved.
//
//   node examples/models/tagger.mjs          (in a clone: after `npm install`)
import { Dropout, Embedding, LayerNorm, Linear, LSTM, Module, loadTorch, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class Tagger(nn.Module):
//     def __init__(self, vocab_size=40, embedding_dim=12, hidden_size=16, proj_size=8, num_tags=5):
//         super().__init__()
//         self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
//         self.encoder = nn.LSTM(
//             embedding_dim, hidden_size, num_layers=2, batch_first=True, bidirectional=True, proj_size=proj_size
//         )
//         self.norm = nn.LayerNorm(2 * proj_size)
//         self.drop = nn.Dropout(0.1)
//         self.head = nn.Linear(2 * proj_size, num_tags)
//
//     def forward(self, ids):
//         output, _ = self.encoder(self.embedding(ids))
//         return self.head(self.drop(self.norm(output))).log_softmax(-1)
export class Tagger extends Module {
  constructor(vocabSize = 40, embeddingDim = 12, hiddenSize = 16, projSize = 8, numTags = 5) {
    super();
    this.embedding = new Embedding(vocabSize, embeddingDim, { paddingIdx: 0 });
    this.encoder = new LSTM(embeddingDim, hiddenSize, { numLayers: 2, batchFirst: true, bidirectional: true, projSize });
    this.norm = new LayerNorm(2 * projSize);
    this.drop = new Dropout(0.1);
    this.head = new Linear(2 * projSize, numTags);
  }

  forward(ids) {
    const [output] = this.encoder.forward(this.embedding.forward(ids));
    return this.head.forward(this.drop.forward(this.norm.forward(output))).logSoftmax(-1);
  }
}

/** Loads the checkpoint into a new Tagger and tags the recorded sentences. */
export async function run() {
  const record = readRecord('tagger');
  const checkpoint = await loadTorch(checkpointPath('tagger'));
  const model = new Tagger();
  model.loadStateDict(checkpoint.model);
  model.eval(); // Dropout becomes the identity

  const ids = tensor(record.inputs.ids, 'int64'); // (3, 10), 0 = padding
  const logProbs = model.forward(ids); // (3, 10, 5)
  const tags = logProbs.argmax(-1);
  return { model, checkpoint, record, outputs: { logProbs, tags } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}`);
  const ids = record.inputs.ids;
  outputs.tags.toArray().forEach((row, i) => {
    const words = ids[i].flatMap((id, t) => (id === 0 ? [] : [`${id}/${row[t]}`]));
    console.log(`  ${words.join(' ')}`);
  });
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
