// A residual stack in float64: a ModuleList of LSTMs, each adding its output to what it reads, and a
// Sequential head. Ported line by line from PyTorch, loading the checkpoint a training loop saved.
//
//   node examples/models/residual_lstm.mjs          (in a clone: after `npm install`)
import { Linear, LSTM, Module, ModuleList, Sequential, Tanh, loadTorch, tensor } from 'torchrnn';
import { checkpointPath, isMain, readRecord, reportAgainstPyTorch } from './record.mjs';

// class ResidualLSTM(nn.Module):
//     def __init__(self, features=8, depth=3, hidden=16, outputs=2):
//         super().__init__()
//         self.layers = nn.ModuleList([nn.LSTM(features, features, batch_first=True) for _ in range(depth)])
//         self.head = nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, outputs))
//
//     def forward(self, x):
//         for lstm in self.layers:
//             x = x + lstm(x)[0]
//         return self.head(x)
//
// model = ResidualLSTM().double()
export class ResidualLSTM extends Module {
  constructor(features = 8, depth = 3, hidden = 16, outputs = 2) {
    super();
    this.layers = new ModuleList(Array.from({ length: depth }, () => new LSTM(features, features, { batchFirst: true })));
    this.head = new Sequential(new Linear(features, hidden), new Tanh(), new Linear(hidden, outputs));
  }

  forward(x) {
    for (const lstm of this.layers) {
      x = x.add(lstm.forward(x)[0]);
    }
    return this.head.forward(x);
  }
}

/** Loads the checkpoint into a new, float64 ResidualLSTM and runs it over the recorded input. */
export async function run() {
  const record = readRecord('residual_lstm');
  const checkpoint = await loadTorch(checkpointPath('residual_lstm'));
  const model = new ResidualLSTM().double();
  model.loadStateDict(checkpoint.model);
  model.eval();

  const x = tensor(record.inputs.x, 'float64'); // (2, 12, 8)
  const y = model.forward(x); // (2, 12, 2)
  return { model, checkpoint, record, outputs: { y } };
}

if (isMain(import.meta.url)) {
  const { model, checkpoint, record, outputs } = await run();
  console.log(String(model));
  console.log(`checkpoint of epoch ${checkpoint.epoch}`);
  if (!reportAgainstPyTorch(outputs, record.outputs)) process.exitCode = 1;
}
