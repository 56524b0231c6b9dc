// Type-checked, not run, by test/package.test.ts: a CommonJS module sees torchrnn's types through the
// `require` condition of package.json's `exports`.
import torchrnn = require('torchrnn');

const gru: torchrnn.GRU = new torchrnn.GRU(2, 3, { batchFirst: true });
const [output, hN]: [torchrnn.Tensor, torchrnn.Tensor] = gru.forward(torchrnn.Tensor.zeros([1, 4, 2]));

export = { output, hN };
