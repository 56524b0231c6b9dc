// The performance model of DESIGN.md §6, ported from shared/roofline.py (same constants, same formula) so
// that the benchmark's table needs no Python. Keep the two in step: roofline.py is the reference; if its
// constants change, change them here.
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
 * holds. Optimistic: per-step synchronisation is ignored.
 */
export function bound(c, P) {
  const s = sizes(c);
  let total = 0;
  for (let l = 0; l < c.num_layers; l++) {
    const In = layerInput(c, l, s);
    total += (s.D * 2 * s.T * s.N * s.G * In) / (P * PEAK);
    const wBytes = 4 * (s.G * s.Hout + s.projElems); // per direction, per step
    const stepFlops = 2 * s.N * (s.G * s.Hout + s.projElems);
    const share = s.D / P; // one direction's step = 1; each core holds D/P of it
    const perCoreW = wBytes * share;
    const bw = perCoreW <= L2FIT ? L2BW : L3BW;
    total += s.T * Math.max((stepFlops * share) / PEAK, perCoreW / bw);
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
