// Type-checked, not run, by test/package.test.ts: an ES module sees torchrnn's types through the `import`
// condition of package.json's `exports`, named and default.
import { GRU, LSTM, Tensor, backend, packSequence } from 'torchrnn';
import torchrnn from 'torchrnn';

const lstm: LSTM = new LSTM(2, 3);
const [output, [hN, cN]]: [Tensor, [Tensor, Tensor]] = lstm.forward(Tensor.zeros([4, 1, 2]));
const kernels: string = backend();
const packed = packSequence([Tensor.zeros([2, 2]), Tensor.zeros([1, 2])]);
const sameClass: typeof GRU = torchrnn.GRU;

export { output, hN, cN, kernels, packed, sameClass };
