// Request validation: turns a body into the Tensors of one forward, or throws a 400 HttpError saying
// what is wrong. Every request is checked in full here, before it reaches a forward — with batching a
// request shares its forward with others, and one bad request must not fail the batch.
//
// A request is `{ input, states, packed }`: the input as sent, its hx as a list of states (or undefined),
// and, for a padded batch with `lengths`, the PackedSequence that runs (packPaddedSequence's own checks
// and messages, unsorted lengths allowed). The answer comes back in the input's own layout.
//
// Conversions reuse the library's own errors (tensor()'s for ragged or non-numeric arrays, parseNpy's
// for .npy files); the shape rules are the ones the library's forward enforces, in the same PyTorch
// words, so a client sees the message `lstm.forward` would have given it.

import { isFloatDType, packPaddedSequence, parseNpy, tensor } from 'torchrnn';
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

/** JSON numbers meant as integers (token ids) must be integers: tensor() would truncate 2.5 to 2. */
function checkIntegers(name, value, shape, dtype) {
  const flat = shape.length === 0 ? [value] : shape.length > 1 ? value.flat(shape.length - 1) : value;
  const at = flat.findIndex((v) => !Number.isSafeInteger(v));
  if (at >= 0) throw new HttpError(400, `${name}${position(at, shape)} is ${flat[at]}: the model takes ${dtype} values, which must be integers`);
}

/** A JSON value as a finite Tensor of `dtype`; tensor() names ragged or non-numeric data. */
function toTensor(name, value, dtype) {
  let t;
  try {
    t = tensor(value, dtype);
  } catch (error) {
    throw new HttpError(400, `${name}: ${error.message}`);
  }
  if (isFloatDType(dtype)) checkFinite(name, t);
  else checkIntegers(name, value, t.shape, dtype);
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

const JSON_FIELDS = ['input', 'hx', 'lengths'];

/** `lengths` from the body or the query string (`?lengths=5,3`), never both; integers or a 400. */
function lengthsOf(fromBody, fromQuery) {
  if (fromBody !== undefined && fromQuery !== undefined) throw new HttpError(400, 'lengths is given twice: in the body and in the query string');
  if (fromQuery !== undefined) {
    const parts = fromQuery.split(',');
    if (!parts.every((p) => /^\s*\d+\s*$/.test(p))) throw new HttpError(400, `lengths in the query string must be integers separated by commas, e.g. ?lengths=5,3, got '${fromQuery}'`);
    return parts.map(Number);
  }
  if (fromBody === undefined || fromBody === null) return undefined;
  if (!Array.isArray(fromBody) || !fromBody.every((v) => typeof v === 'number')) {
    throw new HttpError(400, 'lengths must be an array of numbers, one per sequence of the batch, e.g. [5, 3]');
  }
  return fromBody;
}

/**
 * The PackedSequence of a padded batch `(L, N, *)` and its lengths, by packPaddedSequence (its checks and
 * words: a count other than N, a length over L, a length of 0); undefined without lengths.
 */
function packed(input, lengths, batched) {
  if (lengths === undefined) return undefined;
  if (!batched) throw new HttpError(400, `lengths is for a padded batch (L, N, ...), one length per sequence; this input is one sequence of ${input.shape[0]} steps`);
  try {
    return packPaddedSequence(input, lengths, { enforceSorted: false });
  } catch (error) {
    throw new HttpError(400, error.message);
  }
}

/** The body as a JSON object with only the known fields. */
function parseJsonObject(body) {
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
    throw new HttpError(400, `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected "input" and optionally "hx", "lengths"`);
  }
  if (!('input' in request)) throw new HttpError(400, 'the body has no "input"');
  return request;
}

/** An `.npy` body as a Tensor of `dtype` (as PyTorch, no conversion). */
function parseNpyInput(body, dtype) {
  let input;
  try {
    input = parseNpy(body);
  } catch (error) {
    throw new HttpError(400, error.message);
  }
  if (input.dtype !== dtype) {
    throw new HttpError(400, `input must have the type ${dtype}, got type ${input.dtype} (save the array with .astype(np.${dtype}))`);
  }
  if (isFloatDType(dtype)) checkFinite('input', input);
  return input;
}

/** A layer's request: its checks in the library forward's words, then lengths. */
function layerRequest(served, input, states, lengths) {
  checkShapes(served, input, states);
  return { input, states, packed: packed(input, lengths, input.dim() === 3) };
}

/**
 * A whole model's request: one sequence `(L, *stepShape)`, or a padded batch `(L, N, *stepShape)`
 * (with lengths, or all of length L), and hx as the model's first run showed its states.
 */
function modelRequest(served, input, states, lengths) {
  const { stepShape, dtype } = served.input;
  const rank = input.dim();
  const one = `(L${stepShape.map((s) => `, ${s}`).join('')})`;
  const batch = `(L, N${stepShape.map((s) => `, ${s}`).join('')})`;
  if ((rank !== stepShape.length + 1 && rank !== stepShape.length + 2) || shapeList(input.shape.slice(rank - stepShape.length)) !== shapeList(stepShape)) {
    throw new HttpError(400, `input must be one sequence ${one} or a padded batch ${batch} of ${dtype}, got shape ${shapeList(input.shape)}`);
  }
  if (input.shape[0] === 0) throw new HttpError(400, 'Expected sequence length to be larger than 0 in RNN');
  const batched = rank === stepShape.length + 2;
  const sequences = batched ? input.shape[1] : 1;
  if (batched && sequences === 0) throw new HttpError(400, 'input holds no sequence: N is 0');
  if (states !== undefined) {
    const expected = served.result.states;
    if (expected.length === 0) throw new HttpError(400, 'this model returns no state, so it takes no hx');
    if (states.length !== expected.length) {
      throw new HttpError(400, `hx must be ${expected.length === 1 ? 'h_0, one state' : `[${expected.map((_, i) => `state ${i}`).join(', ')}], a list of ${expected.length} states`}`);
    }
    states.forEach((s, i) => {
      const [layers, features] = expected[i];
      const want = batched ? [layers, sequences, features] : [layers, features];
      if (shapeList(s.shape) !== shapeList(want)) {
        throw new HttpError(400, `Expected ${states.length === 1 ? 'hidden' : `hidden[${i}]`} size ${shapeTuple(want)}, got ${shapeList(s.shape)}`);
      }
    });
  }
  const lengthsOrAll = lengths ?? (batched ? new Array(sequences).fill(input.shape[0]) : undefined);
  return { input, states, packed: packed(input, lengthsOrAll, batched) };
}

/** The dtype of a request's input: the layer's, or what the module file's `input` says. */
const inputDtype = (served) => (served.kind === 'layer' ? served.config.dtype : served.input.dtype);

/** hx as a list of states: the layer's rule ([h, c] for an LSTM), or the model's (as many as its states). */
function statesFor(served, hx) {
  if (served.kind === 'layer') return statesOf(served, hx);
  if (hx === undefined || hx === null) return undefined;
  const dtype = served.result.stateDtype ?? 'float32';
  if (served.result.states.length > 1) {
    if (!Array.isArray(hx) || hx.length !== served.result.states.length) {
      throw new HttpError(400, `hx must be a list of ${served.result.states.length} states, one per state the model returns`);
    }
    return hx.map((s, i) => toTensor(`hx[${i}]`, s, dtype));
  }
  return [toTensor('hx', hx, dtype)];
}

/**
 * The costly half of reading a JSON body: the text parsed, "input" and "hx" converted to Tensors and
 * checked (finite, or integers), "lengths" as sent. It depends on `served` only through plain data
 * (`kind`, `config.class`, `config.dtype`, `input`, `result.states`, `result.stateDtype`), so it can run in
 * a worker thread (parse-pool.mjs) with a copy of them.
 */
export function jsonTensors(served, body) {
  const request = parseJsonObject(body);
  const input = toTensor('input', request.input, inputDtype(served));
  const states = statesFor(served, request.hx);
  return { input, states, lengths: request.lengths };
}

/** The cheap half: lengths, the forward's shape checks and the packed batch, from jsonTensors' result. */
export function jsonRequest(served, { input, states, lengths: bodyLengths }, queryLengths) {
  const lengths = lengthsOf(bodyLengths, queryLengths);
  return served.kind === 'layer' ? layerRequest(served, input, states, lengths) : modelRequest(served, input, states, lengths);
}

/**
 * A JSON body `{ "input": ..., "hx"?: h_0 or [h_0, c_0], "lengths"?: [...] }` as a request for `served`
 * (the layer or the model). Unknown fields are refused: a misspelt "hx" would otherwise be ignored and
 * the state silently zero.
 */
export function fromJson(served, body, queryLengths) {
  return jsonRequest(served, jsonTensors(served, body), queryLengths);
}

/**
 * An `application/x-npy` body: the input array alone, in the input's dtype; `lengths` only from the
 * query string.
 */
export function fromNpy(served, body, queryLengths) {
  const input = parseNpyInput(body, inputDtype(served));
  const lengths = lengthsOf(undefined, queryLengths);
  return served.kind === 'layer' ? layerRequest(served, input, undefined, lengths) : modelRequest(served, input, undefined, lengths);
}
