// A classifier over sequences of different lengths: packed (unsorted lengths), a 2-layer GRU, the last
// layer's final state, Linear, softmax. Ported line by line from PyTorch, loading the checkpoint a training
// loop saved.
//
//   node examples/models/packed_classifier.mjs          (in a clone: after `npm install`)
import { Embedding, GRU, Linear, Module, loadTorch, packPaddedSequence, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class PackedClassifier(nn.Module):
//     def __init__(self, vocab_size=30, embedding_dim=12, hidden_size=24, num_classes=3):
//         super().__init__()
//         self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
//         self.rnn = nn.GRU(embedding_dim, hidden_size, num_layers=2, batch_first=True)
//         self.head = nn.Linear(hidden_size, num_classes)
//
//     def forward(self, ids, lengths):
//         packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
//         _, h_n = self.rnn(packed)
//         return self.head(h_n[-1])
export class PackedClassifier extends Module {
  constructor(vocabSize = 30, embeddingDim = 12, hiddenSize = 24, numClasses = 3) {
    super();
    this.embedding = new Embedding(vocabSize, embeddingDim, { paddingIdx: 0 });
    this.rnn = new GRU(embeddingDim, hiddenSize, { numLayers: 2, batchFirst: true });
    this.head = new Linear(hiddenSize, numClasses);
  }

  forward(ids, lengths) {
    const packed = packPaddedSequence(this.embedding.forward(ids), lengths, { batchFirst: true, enforceSorted: false });
    const [, hN] = this.rnn.forward(packed);
    return this.head.forward(hN.select(0, -1));
  }
}

/** Loads the checkpoint into a new PackedClassifier and classifies the recorded sequences. */
export async function run() {
  const record = readRecord('packed_classifier');
  const checkpoint = await loadTorch(checkpointPath('packed_classifier'));
  const model = new PackedClassifier();
  model.loadStateDict(checkpoint.model);
  model.eval();

  const ids = tensor(record.inputs.ids, 'int64'); // (4, 9), padded with 0
  const lengths = tensor(record.inputs.lengths, 'int64'); // [4, 9, 2, 6]: not sorted, as enforceSorted: false allows
  const logits = model.forward(ids, lengths);
  const probabilities = logits.softmax(-1);
  // h_n on its own, for the comparison: each sequence's state after its own last step, in the input's order.
  const [, hN] = model.rnn.forward(
    packPaddedSequence(model.embedding.forward(ids), lengths, { batchFirst: true, enforceSorted: false }),
  );
  return { model, checkpoint, record, outputs: { logits, probabilities, h_n: hN } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}`);
  outputs.probabilities.toArray().forEach((row, i) => {
    const length = record.inputs.lengths[i];
    console.log(`  ${record.inputs.ids[i].slice(0, length).join(' ')} -> ${row.map((p) => p.toFixed(3)).join(' ')}`);
  });
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
