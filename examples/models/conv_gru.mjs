// A CNN front end over multichannel time series (Conv1d, BatchNorm1d, ReLU), then a bidirectional GRU and a
// Linear head on its last forward and backward states. Ported line by line from PyTorch, loading the
// checkpoint a training loop saved: BatchNorm's running statistics and num_batches_tracked come with it.
//
//   node examples/models/conv_gru.mjs          (in a clone: after `npm install`)
import { BatchNorm1d, Conv1d, GRU, Linear, Module, ReLU, cat, loadTorch, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class ConvGRU(nn.Module):
//     def __init__(self, in_channels=3, channels=8, hidden_size=16, num_classes=4):
//         super().__init__()
//         self.conv = nn.Conv1d(in_channels, channels, kernel_size=5, stride=2, padding=2)
//         self.norm = nn.BatchNorm1d(channels)
//         self.act = nn.ReLU()
//         self.rnn = nn.GRU(channels, hidden_size, batch_first=True, bidirectional=True)
//         self.head = nn.Linear(2 * hidden_size, num_classes)
//
//     def forward(self, x):
//         features = self.act(self.norm(self.conv(x)))  # (N, channels, L / 2)
//         _, h_n = self.rnn(features.transpose(1, 2))  # the GRU reads (N, L / 2, channels)
//         return self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))  # last forward and last backward state
export class ConvGRU extends Module {
  constructor(inChannels = 3, channels = 8, hiddenSize = 16, numClasses = 4) {
    super();
    this.conv = new Conv1d(inChannels, channels, 5, { stride: 2, padding: 2 });
    this.norm = new BatchNorm1d(channels);
    this.act = new ReLU();
    this.rnn = new GRU(channels, hiddenSize, { batchFirst: true, bidirectional: true });
    this.head = new Linear(2 * hiddenSize, numClasses);
  }

  forward(x) {
    const features = this.act.forward(this.norm.forward(this.conv.forward(x))); // (N, channels, L / 2)
    const [, hN] = this.rnn.forward(features.transpose(1, 2)); // the GRU reads (N, L / 2, channels)
    return this.head.forward(cat([hN.select(0, -2), hN.select(0, -1)], 1)); // last forward and last backward state
  }
}

/** Loads the checkpoint into a new ConvGRU and classifies the recorded series. */
export async function run() {
  const record = readRecord('conv_gru');
  const checkpoint = await loadTorch(checkpointPath('conv_gru'));
  const model = new ConvGRU();
  model.loadStateDict(checkpoint.model);
  model.eval(); // BatchNorm normalises with its running statistics

  const x = tensor(record.inputs.x, 'float32'); // (3, 3, 32): 3 series, 3 channels, 32 steps
  const logits = model.forward(x);
  // h_n on its own, for the comparison.
  const [, hN] = model.rnn.forward(model.act.forward(model.norm.forward(model.conv.forward(x))).transpose(1, 2));
  return { model, checkpoint, record, outputs: { logits, h_n: hN } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}, after ${model.norm.num_batches_tracked.item()} batches`);
  console.log(`  classes: ${outputs.logits.argmax(-1).toArray().join(' ')}`);
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
