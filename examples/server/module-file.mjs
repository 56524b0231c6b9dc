// A whole model, from a module file (--module) and its trained weights (--weights, --key).
//
// The module file is an ES module that says how to build the model and how to run it on a packed batch:
//
//   export const input = { dtype: 'int64', stepShape: [] };     // one step of a request: a token id
//   export function createModel() { return new Tagger(); }      // a Module (or a Promise of one)
//   export async function run(model, packed, hx) { ... }        // DynamicBatcher's function runner
//   export function validate(model, input, hx) { ... }          // optional: throws for a bad request
//
// `run` receives the requests' sequences as one PackedSequence and resolves to what the batcher splits
// back per request: a PackedSequence row for row with its input, a Tensor with one row per sequence, or
// [PackedSequence, hidden]. demo-model.mjs is a complete example.
//
// createModel is a factory rather than an instance so that importing the file builds nothing: the server
// builds the model once, loads the weights into it (strict, as PyTorch's load_state_dict), and runs a
// one-step input of zeros through `run` before it listens. That first run checks the file end to end and
// tells the server the shape of an answer: what it bounds answers by, and checks hx against.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PackedSequence, Tensor, isDType, packPaddedSequence } from 'torchrnn';
import { readStateDict } from './weights.mjs';

const describe = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const product = (shape) => shape.reduce((n, s) => n * s, 1);

/** The module file's exports, checked: each missing or mistyped one is named. */
function checkExports(file, exports) {
  const problems = [];
  if (typeof exports.createModel !== 'function') problems.push(`createModel must be an exported function, got ${describe(exports.createModel)}`);
  if (typeof exports.run !== 'function') problems.push(`run must be an exported function (model, packed, hx) => Promise, got ${describe(exports.run)}`);
  const { input } = exports;
  const stepShapeOk = Array.isArray(input?.stepShape) && input.stepShape.every((s) => Number.isSafeInteger(s) && s > 0);
  if (typeof input !== 'object' || input === null || !isDType(input.dtype) || !stepShapeOk) {
    problems.push("input must be an exported object { dtype, stepShape }, e.g. { dtype: 'int64', stepShape: [] } for token ids or { dtype: 'float32', stepShape: [32] } for 32 features per step");
  }
  if (exports.validate !== undefined && typeof exports.validate !== 'function') problems.push(`validate, when exported, must be a function, got ${describe(exports.validate)}`);
  if (problems.length > 0) throw new Error(`${file}:\n  ${problems.join('\n  ')}`);
}

/** The form of `run`'s result and the sizes of one sequence's share, learnt from the first run. */
function describeResult(result) {
  const stepsOf = (packed) => packed.data.shape.slice(1);
  if (result instanceof PackedSequence) return { form: 'steps', stepShape: stepsOf(result), states: [] };
  if (result instanceof Tensor && result.dim() >= 1 && result.shape[0] === 1) return { form: 'rows', rowShape: result.shape.slice(1), states: [] };
  if (Array.isArray(result) && result.length === 2 && result[0] instanceof PackedSequence) {
    const [output, hidden] = result;
    const list = Array.isArray(hidden) ? hidden : [hidden];
    const states = list.map((s) => {
      if (!(s instanceof Tensor) || s.dim() !== 3 || s.shape[1] !== 1) throw new Error('run: each state of [output, hidden] must be a Tensor (S, B, H)');
      return [s.shape[0], s.shape[2]];
    });
    return { form: 'stepsAndState', stepShape: stepsOf(output), states, singleState: !Array.isArray(hidden), stateDtype: list[0].dtype };
  }
  throw new Error(`run must resolve to a PackedSequence, a Tensor with one row per sequence, or [PackedSequence, hidden], got ${describe(result)}`);
}

/** Loads the module file and the weights, and returns the model ready to serve with what the server needs to know. */
export async function loadModelFile(options) {
  const file = path.resolve(options.module);
  const exports = await import(pathToFileURL(file).href);
  checkExports(options.module, exports);
  const model = await exports.createModel();
  if (typeof model?.loadStateDict !== 'function' || typeof model.eval !== 'function') {
    throw new Error(`${options.module}: createModel must return a Module (with loadStateDict and eval), got ${describe(model)}`);
  }
  const sd = await readStateDict(options.weights, options.key, '--weights');
  try {
    model.loadStateDict(sd);
  } catch (error) {
    throw new Error(`${options.weights}: ${error.message}`);
  }
  model.eval();
  const input = { dtype: exports.input.dtype, stepShape: [...exports.input.stepShape] };
  const run = (packed, hx) => exports.run(model, packed, hx);
  let result;
  try {
    result = await run(packPaddedSequence(Tensor.zeros([1, 1, ...input.stepShape], input.dtype), [1]), undefined);
  } catch (error) {
    throw new Error(`${options.module}: run failed on a one-step input of zeros: ${error.message}`);
  }
  const shape = describeResult(result);
  const outputDtype = (result instanceof Tensor ? result : (Array.isArray(result) ? result[0] : result).data).dtype;
  return {
    kind: 'model',
    model,
    run,
    validate: exports.validate && ((x, hx) => exports.validate(model, x, hx)),
    input,
    result: shape,
    sizes: {
      stepOutput: shape.form === 'rows' ? 0 : product(shape.stepShape),
      sequenceOutput: shape.form === 'rows' ? product(shape.rowShape) : 0,
      sequenceStates: shape.states.reduce((n, [layers, features]) => n + layers * features, 0),
      bytesPerNumber: outputDtype === 'float64' || outputDtype === 'int64' ? 8 : 4,
    },
    config: {
      module: path.basename(options.module),
      weights: path.basename(options.weights),
      key: options.key ?? null,
      class: model.constructor.name,
      repr: String(model),
      input,
      output: shape.form,
      dtype: outputDtype,
    },
  };
}
