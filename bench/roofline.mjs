// The performance model of DESIGN.md §6, ported from shared/roofline.py (same constants, same formula) so
// that the benchmark's table needs no Python. Keep the two in step: roofline.py is the reference; if its
// constants change, change them here.
//
// roofline.py's constants were measured on the design machine (AMD EPYC Zen 5). The benchmark also runs the
// same formula on the limits it measures on the machine it runs on (bench/machine_limits.mjs): `bound(c, P,
// limits)`. One difference from roofline.py, which has one figure per limit: measured limits come as one
// core alone and all cores at once, and a bound with P > 1 cores uses the all-cores figures, since its
// cores all stream weights at the same time; and `bound` refines two parts of the step model for measured
// limits (see its comment). With DESIGN_LIMITS, `bound(c, P)` is roofline.py's bound exactly.
//
// A case is { mode: 'LSTM'|'GRU'|'RNN_TANH'|'RNN_RELU', input_size, hidden_size, proj_size?, num_layers,
// bidirectional, T, N } — the names of bench-cases.json, which are PyTorch's.

/** fp32 FMA peak per core (AVX-512), in FLOP/s. */
export const PEAK = 236e9;
/** Weight-read bandwidth per core when a thread's share of W_hh fits in L2 ... */
export const L2BW = 220e9;
/** ... and when it does not, from L3. */
export const L3BW = 110e9;
/** How much of L2 a thread's share of W_hh may use and still count as "fits". */
export const L2FIT = 768 * 1024;

/** The part of L2 a thread's share of W_hh may fill and still count as "fits": L2FIT of the design's 1 MB. */
export const L2FIT_SHARE = 3 / 4;

/**
 * A machine's limits, per core, in the shape bench/machine_limits.cpp prints: FLOP/s, bytes, bytes/s.
 * @typedef {object} MachineLimits
 * @property {string} isa                  the vector ISA the peak was measured with
 * @property {number} peakFlops            fp32 FMA peak of one core running alone
 * @property {number} peakFlopsAllCores    the same per core, with every core running at once
 * @property {number} l2Bytes              L2 per core
 * @property {number} l2Bandwidth          read bandwidth from L2 of one core alone
 * @property {number} l2BandwidthAllCores  the same per core, with every core reading at once
 * @property {number} l3Bandwidth          read bandwidth from L3 of one core alone
 * @property {number} l3BandwidthAllCores  the same per core, with every core reading at once
 * @property {number} cores                physical cores
 */

/** The design machine's limits (roofline.py's constants): the same figures with one core or all. */
export const DESIGN_LIMITS = Object.freeze({
  isa: 'avx512f',
  peakFlops: PEAK,
  peakFlopsAllCores: PEAK,
  l2Bytes: L2FIT / L2FIT_SHARE,
  l2Bandwidth: L2BW,
  l2BandwidthAllCores: L2BW,
  l3Bandwidth: L3BW,
  l3BandwidthAllCores: L3BW,
  cores: 2,
});

/** How much of L2 a thread's share of W_hh may use and still count as "fits", on a machine of `limits`. */
export function l2Fit(limits) {
  return L2FIT_SHARE * limits.l2Bytes;
}

/** The per-core figures a bound with P cores uses: one core's alone, or each core's when all run at once. */
export function perCoreLimits(limits, P) {
  const all = P > 1;
  return {
    peak: all ? limits.peakFlopsAllCores : limits.peakFlops,
    l2bw: all ? limits.l2BandwidthAllCores : limits.l2Bandwidth,
    l3bw: all ? limits.l3BandwidthAllCores : limits.l3Bandwidth,
    l2fit: l2Fit(limits),
  };
}

/**
 * The stored precisions of `quantizeDynamic` the bench times beside float32: bytes per stored weight, and
 * the measured unit peak (a MachineLimits field) whose instructions compute on that format, where the CPU
 * has one: int8 dot products (VNNI vpdpbusd) for qint8, bfloat16 dot products (vdpbf16ps) for bfloat16.
 * float16 has no such unit here (its weights widen to float32 FMAs), nor has any format without the
 * measured figure: those use the fp32 FMA peak.
 */
export const PRECISIONS = Object.freeze({
  float32: { bytesPerWeight: 4, peak: undefined },
  bfloat16: { bytesPerWeight: 2, peak: 'peakBf16Flops' },
  float16: { bytesPerWeight: 2, peak: undefined },
  qint8: { bytesPerWeight: 1, peak: 'peakInt8Ops' },
});

/** The per-core figures of perCoreLimits with the peak of the unit that computes on `precision`. */
export function precisionLimits(limits, P, precision = 'float32') {
  const lim = perCoreLimits(limits, P);
  const field = PRECISIONS[precision].peak;
  const unit = field && limits[P > 1 ? `${field}AllCores` : field];
  return { ...lim, peak: Number.isFinite(unit) && unit > lim.peak ? unit : lim.peak, bytesPerWeight: PRECISIONS[precision].bytesPerWeight };
}

/** Rows of the gate matrices per hidden unit: LSTM i,f,g,o; GRU r,z,n; Elman RNN one. */
export function gatesPerUnit(mode) {
  return { LSTM: 4, GRU: 3 }[mode] ?? 1;
}

/** The sizes the formulas use, named as in roofline.py. */
function sizes(c) {
  const H = c.hidden_size;
  const Hout = c.proj_size || H;
  return {
    G: gatesPerUnit(c.mode) * H, // gate rows
    H,
    Hout,
    D: c.bidirectional ? 2 : 1,
    T: c.T,
    N: c.N,
    // Bytes and FLOPs of W_hr (the LSTM projection), when there is one.
    projElems: Hout !== H ? Hout * H : 0,
  };
}

/** Input features of layer `l`: the input for layer 0, the previous layer's output after. */
function layerInput(c, l, { D, Hout }) {
  return l === 0 ? c.input_size : D * Hout;
}

/**
 * Lower bound on the forward time in ms with P cores: per layer, the input-projection GEMM (FLOP-bound,
 * split over P cores), then T recurrent steps, each bound by max(FLOPs, W_hh bytes) of the share one core
 * holds. Optimistic: per-step synchronisation is ignored. With the design machine's limits (the default)
 * this is roofline.py's figure exactly. With a machine's measured limits two refinements keep it a lower
 * bound there (roofline.py's form was beaten by both engines on lstm-b1 on such a machine):
 * - a share larger than L2 keeps what fits in L2 from one step to the next and streams only the rest
 *   from L3, instead of streaming all of it;
 * - a bidirectional layer takes the better of two schedules: the directions together (with P > 1, a
 *   direction per core), or one after the other with each direction's units split over all P cores.
 * @param {object} c a case
 * @param {number} P cores
 * With a `precision` other than float32 (PRECISIONS), W_hh and W_hr take its bytes per weight and every
 * FLOP runs at the peak of its unit: the bound of the same forward with weights stored at that precision.
 * @param {MachineLimits} [limits]
 * @param {keyof PRECISIONS} [precision]
 */
export function bound(c, P, limits = DESIGN_LIMITS, precision = 'float32') {
  const lim = precisionLimits(limits, P, precision);
  const measured = limits !== DESIGN_LIMITS;
  const s = sizes(c);
  // Seconds for one core to do `flops` while reading `bytes` of recurrent weights.
  const stepSeconds = (flops, bytes) => {
    const fromL2 = measured ? Math.min(bytes, lim.l2fit) : bytes <= lim.l2fit ? bytes : 0;
    return Math.max(flops / lim.peak, fromL2 / lim.l2bw + (bytes - fromL2) / lim.l3bw);
  };
  let total = 0;
  for (let l = 0; l < c.num_layers; l++) {
    const In = layerInput(c, l, s);
    total += (s.D * 2 * s.T * s.N * s.G * In) / (P * lim.peak);
    const wBytes = lim.bytesPerWeight * (s.G * s.Hout + s.projElems); // per direction, per step
    const stepFlops = 2 * s.N * (s.G * s.Hout + s.projElems);
    const share = s.D / P; // one direction's step = 1; each core holds D/P of it
    let steps = s.T * stepSeconds(stepFlops * share, wBytes * share);
    if (measured && s.D > 1) steps = Math.min(steps, s.D * s.T * stepSeconds(stepFlops / P, wBytes / P));
    total += steps;
  }
  return total * 1e3;
}

/**
 * The speed-up torchrnn must show over a peer that took `peerMs` on a case whose bound is `boundMs`:
 * 3× over PyTorch; over onnxruntime 2× where it reaches under half of the bound, else 1.2×; but never more
 * than 90% of the bound allows. `peer` is 'torch' or 'ort'.
 */
export function need(boundMs, peer, peerMs) {
  const target = peer.startsWith('torch') ? 3.0 : boundMs / peerMs < 0.5 ? 2.0 : 1.2;
  return Math.min(target, (0.9 * peerMs) / boundMs);
}

/**
 * Floating-point work of one forward: 2·T·N·G·(In + Hout) per layer and direction (input projection and
 * recurrence), plus the projection's 2·T·N·Hout·H.
 */
export function flops(c) {
  const s = sizes(c);
  let total = 0;
  for (let l = 0; l < c.num_layers; l++) {
    const In = layerInput(c, l, s);
    total += s.D * (2 * s.T * s.N * s.G * (In + s.Hout) + 2 * s.T * s.N * s.projElems);
  }
  return total;
}

/**
 * Weight bytes a forward must stream: each step reads W_hh (4·G·Hout bytes) and W_hr, per layer and
 * direction. This is the small-batch limit; W_ih is read once per layer by the input GEMM and not counted.
 */
export function weightBytes(c) {
  const s = sizes(c);
  return c.num_layers * s.D * s.T * 4 * (s.G * s.Hout + s.projElems);
}
