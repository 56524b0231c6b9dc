/**
 * What a {@link DynamicBatcher} runs a batch with — a recurrent module, or a function over a PackedSequence —
 * and what each kind gives back to one request.
 *
 * @packageDocumentation
 */
import type { PackedSequence } from '../packed/packed_sequence';
import type { Hidden, RNNBase } from '../modules/rnn_base';
import type { Tensor } from '../tensor';

/**
 * What a {@link PackedBatchRunner} resolves to, in one of three forms, each split back per request:
 *
 * - a `PackedSequence` with the input's `batchSizes`, row for row (a head applied to `out.data`, as PyTorch
 *   code does): each request gets its own steps, `(L, *)` (a PackedSequence request: a PackedSequence);
 * - a `Tensor` `(B, *)` with one row per sequence in the batch's original order (a head over `h_n[-1]`):
 *   each request gets its row, `(*)` (a PackedSequence request of N sequences: `(N, *)`);
 * - `[PackedSequence, hidden]` as a recurrent module returns them, hidden being a Tensor `(S, B, H)` or an
 *   array of them (`[h_n, c_n]`), batch in the original order: each request gets `[(L, *), (S, H)]` (or
 *   `[(L, *), [(S, H), (S, H)]]`), as the module gives for one unbatched sequence (a PackedSequence
 *   request: `[PackedSequence, (S, N, H)]`).
 */
export type PackedBatchResult = PackedSequence | Tensor | [PackedSequence, Hidden];

/**
 * A function that runs one packed batch: the requests' sequences as a PackedSequence (their original order
 * is the order the requests arrived in), and `hx` — undefined when no request in the batch gave one, else
 * each request's state stacked along dimension 1 into `(S, B, H)` (a Tensor, or an array when the requests
 * gave arrays), zeros for the requests that gave none. It resolves to a {@link PackedBatchResult}; say
 * which form as the type argument, and each request's Promise has the matching type.
 *
 * @example
 * ```ts
 * // A tagger: LSTM, then a Linear head over every step, as PyTorch code applies it to packed.data.
 * const run: PackedBatchRunner<[PackedSequence, [Tensor, Tensor]]> = async (packed, hx) => {
 *   const [out, hN] = await lstm.forwardAsync(packed, hx as [Tensor, Tensor] | undefined);
 *   const logits = head.forward(out.data);                      // (rows, classes)
 *   return [new PackedSequence(logits, out.batchSizes, out.sortedIndices, out.unsortedIndices), hN];
 * };
 * const batcher = new DynamicBatcher(run);
 * const [tags, [hN, cN]] = await batcher.forward(x);               // tags (L, classes)
 * ```
 */
export type PackedBatchRunner<O extends PackedBatchResult = PackedBatchResult> = (packed: PackedSequence, hx?: Hidden) => Promise<O>;

/** A recurrent module (RNN, LSTM, GRU) or a {@link PackedBatchRunner}. */
export type BatchRunner = RNNBase | PackedBatchRunner;

/** The `hx` one request may give: the module's hidden type, or h / `[h, c]` for a function. */
export type BatcherHidden<R extends BatchRunner> = R extends RNNBase<infer H> ? H : Hidden;

/**
 * What one request resolves to, for a request `I` (a Tensor or a PackedSequence): `[output, h_n]` (LSTM:
 * `[output, [h_n, c_n]]`) for a module, as its forward gives for that request alone, `output` of the
 * request's kind; for a function, its share of the function's result.
 */
export type BatcherResult<R extends BatchRunner, I extends Tensor | PackedSequence = Tensor> = R extends RNNBase<infer H>
  ? [I, H]
  : R extends (...args: never[]) => Promise<infer O>
    ? O extends [PackedSequence, infer H]
      ? [I, H]
      : O extends PackedSequence
        ? I
        : Tensor
    : never;
