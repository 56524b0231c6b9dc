// An ONNX model of a PyTorch recurrent stack, built from torchrnn's own parameters so that onnxruntime
// computes with the very same weights. Written by hand with protobuf.mjs: one ONNX LSTM/GRU/RNN node per
// layer, then a reshape of its output into the next layer's input.
//
// Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto). Operator semantics are the ONNX operator docs for LSTM, GRU, RNN (opset 14).
//
// What differs between PyTorch and ONNX, and is converted here:
// - Gate order. PyTorch LSTM rows are i,f,g,o; ONNX wants i,o,f,c (c = PyTorch's g).
//   PyTorch GRU rows are r,z,n; ONNX wants z,r,h (h = PyTorch's n).
// - GRU: PyTorch applies r after the recurrent matmul (r ⊙ (W_hn h + b_hn)): ONNX's linear_before_reset=1.
// - Biases: ONNX's B is [Wb, Rb] concatenated, per direction.
// - Directions: W, R, B are stacked [forward, reverse] along a leading num_directions axis.
// - Output: ONNX's Y is (T, num_directions, N, H); PyTorch's is (T, N, D·H), the features of the forward
//   direction first. So Y is transposed to (T, N, D, H) and reshaped, or just squeezed when D = 1.
// - No projection: ONNX's LSTM has nothing like proj_size, so such a model cannot be expressed.

import { Message } from './protobuf.mjs';
import { gatesPerUnit } from './roofline.mjs';

const OPSET = 14;
const IR_VERSION = 8; // the IR version that goes with opsets 14 and 15

const DataType = { FLOAT: 1, INT8: 3, INT64: 7 };
const AttributeType = { INT: 2, STRING: 3, INTS: 7, STRINGS: 8 };

/** For each ONNX gate block, which PyTorch gate block it comes from. */
const ONNX_GATES_FROM_PYTORCH = {
  LSTM: [0, 3, 1, 2], // i, o, f, c  <-  i, f, g, o
  GRU: [1, 0, 2], // z, r, h  <-  r, z, n
  RNN_TANH: [0],
  RNN_RELU: [0],
};

const OP_TYPE = { LSTM: 'LSTM', GRU: 'GRU', RNN_TANH: 'RNN', RNN_RELU: 'RNN' };

/** Whether onnxruntime can run this case at all (it cannot when the LSTM has a projection). */
export function onnxCanExpress(c) {
  return !(c.proj_size > 0);
}

// ---- small ONNX message builders ----------------------------------------------------------------

function floatTensor(name, dims, data) {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // little-endian, as ONNX's raw_data
  return new Message().ints(1, dims).int(2, DataType.FLOAT).string(8, name).raw(9, bytes.slice());
}

function int8Tensor(name, dims, data) {
  return new Message().ints(1, dims).int(2, DataType.INT8).string(8, name).raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
}

function int64Tensor(name, values) {
  const data = BigInt64Array.from(values.map(BigInt));
  return new Message()
    .ints(1, [values.length])
    .int(2, DataType.INT64)
    .string(8, name)
    .raw(9, new Uint8Array(data.buffer));
}

/** A float tensor's type; each dim is a number (fixed) or a string (symbolic, e.g. 'T'). */
function floatValueInfo(name, dims) {
  const shape = new Message().messages(
    1,
    dims.map((d) => (typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d))),
  );
  const tensorType = new Message().int(1, DataType.FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

function intAttribute(name, value) {
  return new Message().string(1, name).int(3, value).int(20, AttributeType.INT);
}

function stringAttribute(name, value) {
  return new Message().string(1, name).string(4, value).int(20, AttributeType.STRING);
}

function intsAttribute(name, values) {
  return new Message().string(1, name).ints(8, values).int(20, AttributeType.INTS);
}

function stringsAttribute(name, values) {
  return new Message().string(1, name).strings(9, values).int(20, AttributeType.STRINGS);
}

function node(opType, inputs, outputs, attributes = [], domain = undefined) {
  const n = new Message()
    .strings(1, inputs)
    .strings(2, outputs)
    .string(3, `${outputs[0]}_node`)
    .string(4, opType)
    .messages(5, attributes);
  return domain === undefined ? n : n.string(7, domain);
}

// ---- weights ------------------------------------------------------------------------------------

/** Rows of `data` (a `rows × cols` matrix of gate blocks of `unit` rows each) in ONNX's gate order. */
function reorderGates(data, unit, cols, fromPytorch) {
  const out = new Float32Array(data.length);
  const block = unit * cols;
  fromPytorch.forEach((src, dst) => out.set(data.subarray(src * block, (src + 1) * block), dst * block));
  return out;
}

/** Concatenates float arrays. */
function concat(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/**
 * Builds the ONNX model of case `c` (bench-cases.json's fields) with the parameters `params`, a Map from
 * PyTorch's names (weight_ih_l0, bias_hh_l1_reverse, ...) to `{ data: Float32Array, shape }`.
 * The graph takes X (T, N, input_size) and gives Y (T, N, D·hidden_size), T and N left symbolic.
 * Returns the serialized ModelProto.
 */
export function buildOnnxModel(c, params) {
  return buildModel(c, params, undefined);
}

/** Whether onnxruntime can run this case with int8 weights: an LSTM without projection (DynamicQuantizeLSTM). */
export function onnxInt8CanExpress(c) {
  return c.mode === 'LSTM' && onnxCanExpress(c);
}

/**
 * The same model with int8 weights: each layer a com.microsoft DynamicQuantizeLSTM, onnxruntime's int8 LSTM
 * (it quantizes activations per call itself), its W and R the int8 values and per-row scales that
 * `quantize(data, rows, cols)` gives ({ values: Int8Array, scales: Float32Array }: torchrnn's own
 * qint8 conversion), transposed to (In, 4H) per direction as the operator wants, zero points 0.
 */
export function buildOnnxInt8Model(c, params, quantize) {
  if (!onnxInt8CanExpress(c)) throw new Error('DynamicQuantizeLSTM is an LSTM without projection');
  return buildModel(c, params, quantize);
}

/** The float model, or with `quantize` the int8 one. */
function buildModel(c, params, quantize) {
  if (!onnxCanExpress(c)) throw new Error('ONNX LSTM has no projection (proj_size): no ONNX model');
  const H = c.hidden_size;
  const D = c.bidirectional ? 2 : 1;
  const order = ONNX_GATES_FROM_PYTORCH[c.mode];
  if (!order) throw new Error(`unknown mode ${c.mode}`);
  const G = gatesPerUnit(c.mode) * H;
  const suffixes = c.bidirectional ? ['', '_reverse'] : [''];

  const param = (name) => {
    const p = params.get(name);
    if (!p) throw new Error(`missing parameter ${name}`);
    return p.data;
  };

  const nodes = [];
  const initializers = [int64Tensor('merge_directions_shape', [0, 0, -1]), int64Tensor('direction_axis', [1])];
  let x = 'X';
  for (let l = 0; l < c.num_layers; l++) {
    const In = l === 0 ? c.input_size : D * H;
    const W = [];
    const R = [];
    const B = [];
    for (const s of suffixes) {
      W.push(reorderGates(param(`weight_ih_l${l}${s}`), H, In, order));
      R.push(reorderGates(param(`weight_hh_l${l}${s}`), H, H, order));
      B.push(reorderGates(param(`bias_ih_l${l}${s}`), H, 1, order));
      B.push(reorderGates(param(`bias_hh_l${l}${s}`), H, 1, order));
    }
    // B per direction is [Wb, Rb]: the pushes above interleave exactly so.
    initializers.push(floatTensor(`B_l${l}`, [D, 2 * G], concat(B)));
    let inputs = [x, `W_l${l}`, `R_l${l}`, `B_l${l}`];
    if (quantize) {
      // Per direction: int8 (cols, G) transposed from the (G, cols) rows, a scale per gate row.
      const int8 = (name, mats, cols) => {
        const values = new Int8Array(D * cols * G);
        const scales = new Float32Array(D * G);
        mats.forEach((m, d) => {
          const q = quantize(m, G, cols);
          scales.set(q.scales, d * G);
          for (let g = 0; g < G; g++) for (let k = 0; k < cols; k++) values[d * cols * G + k * G + g] = q.values[g * cols + k];
        });
        initializers.push(int8Tensor(name, [D, cols, G], values));
        initializers.push(floatTensor(`${name}_scale`, [D, G], scales));
        initializers.push(int8Tensor(`${name}_zero_point`, [D, G], new Int8Array(D * G)));
      };
      int8(`W_l${l}`, W, In);
      int8(`R_l${l}`, R, H);
      inputs = [...inputs, '', '', '', '', `W_l${l}_scale`, `W_l${l}_zero_point`, `R_l${l}_scale`, `R_l${l}_zero_point`];
    } else {
      initializers.push(floatTensor(`W_l${l}`, [D, G, In], concat(W)));
      initializers.push(floatTensor(`R_l${l}`, [D, G, H], concat(R)));
    }

    const attributes = [
      intAttribute('hidden_size', H),
      stringAttribute('direction', c.bidirectional ? 'bidirectional' : 'forward'),
    ];
    if (c.mode === 'GRU') attributes.push(intAttribute('linear_before_reset', 1));
    if (c.mode === 'RNN_TANH') attributes.push(stringsAttribute('activations', c.bidirectional ? ['Tanh', 'Tanh'] : ['Tanh']));
    if (c.mode === 'RNN_RELU') attributes.push(stringsAttribute('activations', c.bidirectional ? ['Relu', 'Relu'] : ['Relu']));

    const y = `Y_l${l}_by_direction`; // (T, D, N, H)
    if (quantize) nodes.push(node('DynamicQuantizeLSTM', inputs, [y], attributes, 'com.microsoft'));
    else nodes.push(node(OP_TYPE[c.mode], inputs, [y], attributes));
    const out = l === c.num_layers - 1 ? 'Y' : `Y_l${l}`; // (T, N, D·H)
    if (D === 1) {
      nodes.push(node('Squeeze', [y, 'direction_axis'], [out]));
    } else {
      nodes.push(node('Transpose', [y], [`${y}_T`], [intsAttribute('perm', [0, 2, 1, 3])])); // (T, N, D, H)
      nodes.push(node('Reshape', [`${y}_T`, 'merge_directions_shape'], [out]));
    }
    x = out;
  }

  const graph = new Message()
    .messages(1, nodes)
    .string(2, `torchrnn_bench_${c.mode}`)
    .messages(5, initializers)
    .message(11, floatValueInfo('X', ['T', 'N', c.input_size]))
    .message(12, floatValueInfo('Y', ['T', 'N', D * H]));

  return new Message()
    .int(1, IR_VERSION)
    .string(2, 'torchrnn-bench')
    .message(7, graph)
    .messages(8, [
      new Message().string(1, '').int(2, OPSET),
      ...(quantize ? [new Message().string(1, 'com.microsoft').int(2, 1)] : []),
    ])
    .bytes();
}
