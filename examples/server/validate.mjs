// Request validation: turns a body into the Tensors of one forward, or throws a 400 HttpError saying
// what is wrong. Every request is checked in full here, before it reaches a forward — with --coalesce a
// request shares its forward with others, and one bad request must not fail the batch.
//
// Conversions reuse the library's own errors (tensor()'s for ragged or non-numeric arrays, parseNpy's
// for .npy files); the shape rules are the ones the library's forward enforces, in the same PyTorch
// words, so a client sees the message `lstm.forward` would have given it.

import { parseNpy, tensor } from 'torchrnn';
import { HttpError } from './http-error.mjs';

const shapeTuple = (shape) => `(${shape.join(', ')})`;
const shapeList = (shape) => `[${shape.join(', ')}]`;

/** `[3][0][7]` for the flat index of an element in a row-major `shape`. */
function position(index, shape) {
  const at = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(index % shape[d]);
    index = Math.floor(index / shape[d]);
  }
  return at.map((i) => `[${i}]`).join('');
}

/**
 * NaN or an infinity would run through the forward and come back as NaN: refused instead. Checked after
 * conversion, so a number beyond float32's range (1e39, which becomes Infinity) is caught as well.
 */
function checkFinite(name, t) {
  const { data } = t;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new HttpError(
        400,
        `${name}${position(i, t.shape)} is ${data[i]} as ${t.dtype}: values must be finite numbers within ${t.dtype}'s range`,
      );
    }
  }
}

/** A JSON value as a finite Tensor of the model's dtype; tensor() names ragged or non-numeric data. */
function toTensor(name, value, dtype) {
  let t;
  try {
    t = tensor(value, dtype);
  } catch (error) {
    throw new HttpError(400, `${name}: ${error.message}`);
  }
  checkFinite(name, t);
  return t;
}

/** The checks of the library's forward on a padded input and its states, in its order and words. */
function checkShapes(model, input, states) {
  const c = model.config;
  const rank = input.dim();
  if (rank !== 2 && rank !== 3) {
    // PyTorch's RNN says "tensor instead"; its LSTM and GRU say "instead".
    throw new HttpError(400, `${c.class}: Expected input to be 2D or 3D, got ${rank}D${c.class === 'RNN' ? ' tensor' : ''} instead`);
  }
  const batched = rank === 3;
  if (states !== undefined) {
    const want = batched ? 3 : 2;
    if (!states.every((s) => s.dim() === want)) {
      const form = batched ? 'For batched 3-D input' : 'For unbatched 2-D input';
      throw new HttpError(
        400,
        states.length === 1
          ? `${form}, hx should also be ${want}-D but got ${states[0].dim()}-D tensor`
          : `${form}, hx and cx should also be ${want}-D but got (${states[0].dim()}-D, ${states[1].dim()}-D) tensors`,
      );
    }
  }
  if (input.size(-1) !== c.inputSize) {
    throw new HttpError(400, `input.size(-1) must be equal to input_size. Expected ${c.inputSize}, got ${input.size(-1)}`);
  }
  if (states !== undefined) {
    const batch = batched ? input.shape[1] : 1;
    const layers = c.numLayers * (c.bidirectional ? 2 : 1);
    const sizes = c.class === 'LSTM' ? [c.projSize || c.hiddenSize, c.hiddenSize] : [c.hiddenSize];
    states.forEach((s, i) => {
      const expected = [layers, batch, sizes[i]];
      // An unbatched state counts as batch 1, as PyTorch unsqueezes it.
      const actual = batched ? s.shape : [s.shape[0], 1, s.shape[1]];
      if (shapeList(actual) !== shapeList(expected)) {
        const what = states.length === 1 ? 'hidden' : `hidden[${i}]`;
        throw new HttpError(400, `Expected ${what} size ${shapeTuple(expected)}, got ${shapeList(actual)}`);
      }
    });
  }
  if (input.shape[0] === 0) throw new HttpError(400, 'Expected sequence length to be larger than 0 in RNN');
}

/** hx as the list of state Tensors the module takes: [h] for RNN and GRU, [h, c] for LSTM. */
function statesOf(model, hx) {
  if (hx === undefined || hx === null) return undefined;
  const { class: className, dtype } = model.config;
  if (className !== 'LSTM') return [toTensor('hx', hx, dtype)];
  if (!Array.isArray(hx) || hx.length !== 2) {
    throw new HttpError(400, 'LSTM: hx must be [h_0, c_0], a pair of nested arrays');
  }
  return [toTensor('hx[0]', hx[0], dtype), toTensor('hx[1]', hx[1], dtype)];
}

const JSON_FIELDS = ['input', 'hx'];

/**
 * A JSON body `{ "input": (L, N, In) or (L, In), "hx"?: h_0 or [h_0, c_0] }` as `{ input, states }`.
 * Unknown fields are refused: a misspelt "hx" would otherwise be ignored and the state silently zero.
 */
export function fromJson(model, body) {
  let request;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${error.message}`);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new HttpError(400, 'the body must be a JSON object: { "input": [...], "hx"?: [...] }');
  }
  const unknown = Object.keys(request).filter((key) => !JSON_FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected "input" and optionally "hx"`);
  }
  if (!('input' in request)) throw new HttpError(400, 'the body has no "input"');
  const input = toTensor('input', request.input, model.config.dtype);
  const states = statesOf(model, request.hx);
  checkShapes(model, input, states);
  return { input, states };
}

/** An `application/x-npy` body: the input array alone, in the model's dtype (as PyTorch, no conversion). */
export function fromNpy(model, body) {
  let input;
  try {
    input = parseNpy(body);
  } catch (error) {
    throw new HttpError(400, error.message);
  }
  const { dtype } = model.config;
  if (input.dtype !== dtype) {
    throw new HttpError(400, `input must have the type ${dtype}, got type ${input.dtype} (save the array with .astype(np.${dtype}))`);
  }
  checkFinite('input', input);
  checkShapes(model, input, undefined);
  return { input, states: undefined };
}
