/**
 * A recurrent step split across threads whose members are not all there: a member that a busy machine
 * deschedules has its shares of the step run by the others, who then run the steps alone for a while and
 * offer the split again. The addon's test-only stepGroupLateness keeps one member away from every 32nd
 * round (a step, or the state moved in) until the other has run it, and has the late member there when the
 * split is offered again; all of it follows from round numbers, so one forward shows every part whatever
 * the machine's load. Results must stay bit-identical to one thread, whichever member is late (member 0
 * also moves the state in and out, which then falls to the other).
 */
import { LSTM, PackedSequence, RNN, Tensor, getNumThreads, manualSeed, packPaddedSequence, setNumThreads } from '../lib';
import { native } from '../lib/native';
import { randomTensor } from './helpers/random';

const initial = getNumThreads();
afterEach(() => native.stepGroupLateness(0, 0));
afterAll(() => setNumThreads(initial));

/** Inputs in (-0.5, 0.5): only their equality across thread counts matters here. */
const randomInput = (shape: number[]): Tensor => randomTensor(shape, 4321, 0.5);

/** Every element of the output and the final state, flattened. */
function results(out: Tensor | PackedSequence, h: Tensor | [Tensor, Tensor]): number[] {
  const o = out instanceof PackedSequence ? Array.from(out.data.data) : Array.from(out.data);
  return [...o, ...(Array.isArray(h) ? h : [h]).flatMap((t) => Array.from(t.data))];
}

describe('a late member of a split step', () => {
  manualSeed(11);
  // Each has a W_hh too big for one core's L2 at a small batch: two threads split every step's units. The
  // last number is the split's rounds in one forward: a step each (two with a projection), and the state
  // moved in (once for a forward direction, where sequences join for a reverse one).
  const cases: [string, () => LSTM | RNN, () => Tensor | PackedSequence, number][] = [
    ['LSTM batch 1', () => new LSTM({ inputSize: 16, hiddenSize: 320 }), () => randomInput([160, 1, 16]), 1 + 160],
    [
      // Sequences end (forward) and join (reverse) mid-way: state moved in and out by share 0 of a round.
      'packed bidirectional LSTM batch 2',
      () => new LSTM({ inputSize: 16, hiddenSize: 320, bidirectional: true }),
      () => packPaddedSequence(randomInput([150, 2, 16]), [150, 90]),
      1 + 150 + 2 + 150,
    ],
    // Two rounds a step: the cell's units, then the projection's columns.
    [
      'LSTM with projection',
      () => new LSTM({ inputSize: 16, hiddenSize: 1024, projSize: 128 }),
      () => randomInput([100, 1, 16]),
      1 + 2 * 100,
    ],
    ['RNN tanh batch 1', () => new RNN({ inputSize: 16, hiddenSize: 640 }), () => randomInput([160, 1, 16]), 1 + 160],
  ];

  /** Rounds alone and rejoins that absences from every 32nd of `rounds` rounds must lead to. */
  function expectedCounts(rounds: number): { solo: number; rejoins: number; absences: number } {
    let solo = 0;
    let rejoins = 0;
    let absences = 0;
    for (let r = 0; r < rounds; r += 32) {
      absences += 1;
      solo += Math.min(2, rounds - 1 - r); // the other runs the next 2 rounds alone
      if (r + 3 < rounds) rejoins += 1; // and offers the split at the round after them
    }
    return { solo, rejoins, absences };
  }

  describe.each([0, 1])('member %d late', (lateMember) => {
    it.each(cases)('%s: the same bits as one thread, shares taken over and the split rejoined', (_name, make, input, rounds) => {
      const module = make().eval();
      const x = input();
      setNumThreads(1);
      const [one, hOne] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];

      setNumThreads(2);
      native.stepGroupLateness(lateMember, 32);
      const before = native.stepGroupCounts();
      const [two, hTwo] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];
      const after = native.stepGroupCounts();
      native.stepGroupLateness(0, 0);
      expect(results(two, hTwo)).toEqual(results(one, hOne));

      // Each absence is a share taken over (more can come from a member really late, which under the hook
      // starts no stretch), then rounds alone, then an offer of the split that the late member takes.
      const expected = expectedCounts(rounds);
      expect(after.stolenShares - before.stolenShares).toBeGreaterThanOrEqual(expected.absences);
      expect(after.soloRounds - before.soloRounds).toBe(expected.solo);
      expect(after.rejoins - before.rejoins).toBe(expected.rejoins);
      // And with everyone punctual again.
      const [again, hAgain] = module.forward(x) as [Tensor | PackedSequence, Tensor | [Tensor, Tensor]];
      expect(results(again, hAgain)).toEqual(results(one, hOne));
    });
  });
});
