/**
 * A recurrent step split across threads whose members are not all there: a member that a busy machine
 * deschedules has its shares of the step run by the others, who then run the steps alone for a while and
 * offer the split again. The addon's test-only stepGroupLateness keeps one member away from every 32nd
 * round and the 3 after it, so both happen in every forward below; results must stay bit-identical to one
 * thread, before and after the late member rejoins, whichever member is late (member 0 also moves the
 * state in and out, which then falls to the other).
 */
import { LSTM, PackedSequence, RNN, Tensor, getNumThreads, manualSeed, packPaddedSequence, setNumThreads } from '../lib';
import { native } from '../lib/native';

const initial = getNumThreads();
afterEach(() => native.stepGroupLateness(0, 0));
afterAll(() => setNumThreads(initial));

function randomInput(shape: number[]): Tensor {
  let state = 4321;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  });
  return new Tensor(data, shape);
}

/** Every element of the output and the final state, flattened. */
function results(out: Tensor | PackedSequence, h: Tensor | [Tensor, Tensor]): number[] {
  const o = out instanceof PackedSequence ? Array.from(out.data.data) : Array.from(out.data);
  return [...o, ...(Array.isArray(h) ? h : [h]).flatMap((t) => Array.from(t.data))];
}

describe('a late member of a split step', () => {
  manualSeed(11);
  // Each has a W_hh too big for one core's L2 at a small batch: two threads split every step's units.
  const cases: [string, () => LSTM | RNN, () => Tensor | PackedSequence][] = [
    ['LSTM batch 1', () => new LSTM({ inputSize: 16, hiddenSize: 320 }), () => randomInput([160, 1, 16])],
    [
      // Sequences end (forward) and join (reverse) mid-way: state moved in and out by share 0 of a round.
      'packed bidirectional LSTM batch 2',
      () => new LSTM({ inputSize: 16, hiddenSize: 320, bidirectional: true }),
      () => packPaddedSequence(randomInput([150, 2, 16]), [150, 90]),
    ],
    // Two rounds a step: the cell's units, then the projection's columns.
    ['LSTM with projection', () => new LSTM({ inputSize: 16, hiddenSize: 1024, projSize: 128 }), () => randomInput([100, 1, 16])],
    ['RNN tanh batch 1', () => new RNN({ inputSize: 16, hiddenSize: 640 }), () => randomInput([160, 1, 16])],
  ];

  describe.each([0, 1])('member %d late', (lateMember) => {
    it.each(cases)('%s: the same bits as one thread, shares taken over and the split rejoined', (_name, make, input) => {
      const module = make().eval();
      const x = input();
      setNumThreads(1);
      const [one, hOne] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];

      setNumThreads(2);
      native.stepGroupLateness(lateMember, 5000);
      const before = native.stepGroupCounts();
      // A rejoin needs the late member scheduled when the split is offered again: on a loaded machine a
      // forward can miss every offer, so a few forwards are given the chance, each checked.
      for (let run = 0; run < 20 && native.stepGroupCounts().rejoins === before.rejoins; ++run) {
        const [two, hTwo] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];
        expect(results(two, hTwo)).toEqual(results(one, hOne));
      }
      const after = native.stepGroupCounts();
      native.stepGroupLateness(0, 0);

      expect(after.stolenShares).toBeGreaterThan(before.stolenShares);
      expect(after.soloRounds).toBeGreaterThan(before.soloRounds);
      expect(after.rejoins).toBeGreaterThan(before.rejoins);
      // And with everyone punctual again.
      const [again, hAgain] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];
      expect(results(again, hAgain)).toEqual(results(one, hOne));
    });
  });
});
