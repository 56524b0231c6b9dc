// Stateful streaming inference: a sequence that arrives in chunks is run chunk by chunk, carrying the
// LSTM's [h, c] from one chunk to the next, and gives what one forward over the whole sequence gives.
//
//   node examples/streaming.mjs          (after `npm run build:ts`)
import { LSTM, Tensor, manualSeed } from 'torchrnn';

manualSeed(0);
const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2 }).eval();

const [T, N, In] = [40, 2, 8]; // 40 steps, a batch of 2 streams, 8 features
const signal = Float32Array.from({ length: T * N * In }, (_, i) => Math.sin(0.37 * i));

// Reference: the whole sequence at once.
const [whole, [hWhole, cWhole]] = await lstm.forwardAsync(new Tensor(signal, [T, N, In]));

// Streaming: chunks of 7 steps (the last one shorter). Time-major input makes each chunk a contiguous slice.
const chunk = 7;
const outputs = [];
let state; // undefined at first: zeros, as in PyTorch
for (let start = 0; start < T; start += chunk) {
  const steps = Math.min(chunk, T - start);
  const piece = new Tensor(signal.slice(start * N * In, (start + steps) * N * In), [steps, N, In]);
  const [out, next] = await lstm.forwardAsync(piece, state);
  outputs.push(...out.data);
  state = next;
}

let largest = 0;
const compare = (a, b) => a.forEach((v, i) => (largest = Math.max(largest, Math.abs(v - b[i]))));
compare(outputs, whole.data);
compare(state[0].data, hWhole.data);
compare(state[1].data, cWhole.data);

console.log(`${Math.ceil(T / chunk)} chunks of up to ${chunk} steps vs one forward over ${T} steps`);
console.log(`largest difference in output, h_n, c_n: ${largest}`);
console.log(largest <= 1e-5 ? 'streaming matches the whole-sequence forward' : 'streaming DIFFERS from the whole-sequence forward');
