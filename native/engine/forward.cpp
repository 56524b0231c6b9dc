#include "forward.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "../kernels/prefetch.h"
#include "../kernels/reduced_precision.h"
#include "checked_math.h"
#include "dropout.h"
#include "errors.h"
#include "projection_chunks.h"
#include "thread_pool.h"
#include "workspace.h"

namespace torchrnn {
namespace engine {

ForwardPlan planForward(const ModelSpec& spec, SequenceLayout layout) {
  validateModelSpec(spec);
  ForwardPlan plan;
  const std::size_t D = directionCount(spec);
  const std::size_t stacks = checkedMul(spec.numLayers, D, "numLayers * D");
  plan.inputElements = checkedMul(layout.rows(), spec.inputSize, "input length");
  plan.outputElements = checkedMul(layout.rows(), D, stateSize(spec), "output length");
  plan.hiddenElements = checkedMul(stacks, layout.batch(), stateSize(spec), "h0 length");
  plan.cellElements =
      spec.mode == Mode::Lstm ? checkedMul(stacks, layout.batch(), spec.hiddenSize, "c0 length") : 0;
  plan.layout = std::move(layout);
  return plan;
}

template <class T>
void checkForwardInputs(const ModelSpec& spec, const ForwardPlan& plan, const ForwardInputs<T>& inputs) {
  auto expectLength = [](const char* name, std::size_t expected, std::size_t actual) {
    if (expected != actual)
      throw SizeError(std::string(name) + " must have " + std::to_string(expected) + " elements, got " +
                      std::to_string(actual));
  };
  expectLength("input", plan.inputElements, inputs.input.size);
  if (inputs.h0) expectLength("h0", plan.hiddenElements, inputs.h0->size);
  if (inputs.c0) {
    if (spec.mode != Mode::Lstm) throw ArgumentError(std::string("c0 is only for LSTM, not ") + modeName(spec.mode));
    expectLength("c0", plan.cellElements, inputs.c0->size);
  }
  if (!(inputs.dropout >= 0 && inputs.dropout <= 1))
    throw SizeError("dropout must be a number in [0, 1], got " + std::to_string(inputs.dropout));
}

namespace {

// Below these amounts of work a thread costs more to wake and synchronise than it saves.
// A parallel region (~100 us each): the projection, a layer's recurrences. Waking a worker costs a few
// microseconds on a quiet machine and up to a time slice on a busy one.
constexpr double kMinFlopsPerThread = 1e7;
// Shares that never wait for one another (runShared) go lower: a worker still spinning from the last
// call takes its share at once, and one that is not is left out (the caller takes its share), so a
// share pays only for being posted (under a microsecond). The projection's rows (~5 us each)...
constexpr double kMinSharedFlopsPerThread = 1e6;
// ...and a direction's time loop beside the other's: a step costs at least the chain of its cell update
// (~0.1 us, as long as this many flops) however few its flops, so short sequences of small steps still
// take a few microseconds per direction.
constexpr double kStepChainFlops = 2e4;
constexpr double kMinSharedDirectionFlops = 2e5;
// Steps up to this many flops run both directions interleaved on one thread (interleavedRecurrences),
// when both directions' W_hh together stay in L1 (48 KB on the design machine, less room for the gates
// and states): past that they evict each other every step, and the interleaving costs more than it gains
// (measured: 9-16% slower at H = 40-64, batch 1).
constexpr double kInterleavedStepFlops = 5e4;
constexpr double kInterleavedWeightBytes = 32 << 10;
// One recurrent step split across a group (~40 us each): every step then ends at a barrier, and on a busy
// machine a barrier can wait a whole time slice for a descheduled member, so only long steps are split.
constexpr double kMinStepFlopsPerThread = 4e6;
// Rows per thread below which a step streams W_hh more than it computes: splitting the units halves what
// each thread streams, splitting the rows would not.
constexpr std::size_t kMinRowsPerThread = 4;
// A W_hh larger than this (a core's L2 on the design machine; some cores have more) is streamed from L3
// (or memory) every step rather than kept in that L2, and each byte streamed costs about as long as this
// many flops.
constexpr double kCoreCacheBytes = 1 << 20;
constexpr double kFlopsPerStreamedByte = 4;

// Layers that run their projection first after one whose helper thread fell behind (see
// LayerRun::projectsAlongside), counted down by every layer that could have gone alongside; shared by
// the process, like the busy cores that cause it.
constexpr int kAlongsideSkips = 8;
std::atomic<int> alongsideSkips{0};

// Rows of the input projection per time chunk when it runs alongside the recurrence.
constexpr std::size_t kProjectionChunkRows = 128;
// Reduced precision: a projection at least this large (it would go to memory and back) is computed by each
// direction's time loop in chunks of about this many rows instead (see LayerRun::projectsPerDirection).
constexpr double kPerDirectionProjectionBytes = 8 << 20;
constexpr std::size_t kPerDirectionChunkRows = 128;

// Runs one layer of the stack for one set of buffers; holds what every step of it shares.
template <class T>
class LayerRun {
 public:
  LayerRun(const PackedWeights<T>& weights, const ForwardPlan& plan, const ForwardInputs<T>& inputs,
           const ForwardOutputs<T>& outputs, Workspace<T>& workspace, std::size_t layer)
      : spec_(weights.spec),
        kernels_(*weights.kernels),
        packed_(weights.layers[layer]),
        layout_(plan.layout),
        inputs_(inputs),
        outputs_(outputs),
        workspace_(workspace),
        layer_(layer),
        D_(directionCount(spec_)),
        G_(gateRows(spec_)),
        H_(spec_.hiddenSize),
        Hout_(stateSize(spec_)),
        N_(layout_.batch()),
        // What a stored weight costs to stream: the cost model below is the same for every precision.
        weightBytes_(weights.format == kernels::WeightFormat::Float32 ? double(sizeof(T))
                                                                      : double(kernels::bytesPerWeight(weights.format))),
        reduced_(weights.format != kernels::WeightFormat::Float32) {}

  // Gx[rows, D * G] = X · W_ihᵀ + folded biases, for every step and both directions in one GEMM, its rows
  // split across the lease's threads.
  void inputProjection(const T* x, ThreadPool::Lease& lease) {
    const std::size_t M = layout_.rows(), n = D_ * G_, k = packed_.inputSize;
    const double flops = 2.0 * double(M) * double(n) * double(k);
    const std::size_t members = std::min({lease.threads(), std::size_t(flops / kMinSharedFlopsPerThread) + 1, M});
    auto rowsOf = [&](std::size_t member) { projectRows(x, M * member / members, M * (member + 1) / members); };
    lease.runShared(members, rowsOf);
  }

  // Rows [begin, end) of Gx. Every row is computed alike whatever the range (the GEMM's sums run over K in
  // the same order for any row count), so any split of the rows gives the same bits.
  void projectRows(const T* x, std::size_t begin, std::size_t end) {
    projectRows(x, begin, end, workspace_.gates() + begin * D_ * G_);
  }

  // The same rows written at `dest` instead of their place in Gx.
  void projectRows(const T* x, std::size_t begin, std::size_t end, T* dest) {
    projectColumns(x, begin, end, 0, D_ * G_, dest);
  }

  // One direction's columns of rows [begin, end) of Gx, written at `dest` with G values per row.
  void projectDirectionRows(const T* x, std::size_t direction, std::size_t begin, std::size_t end, T* dest) {
    projectColumns(x, begin, end, direction * G_, G_, dest);
  }

  // Columns [col0, col0 + cols) of rows [begin, end) of Gx, written at `dest` with `cols` values per row.
  void projectColumns(const T* x, std::size_t begin, std::size_t end, std::size_t col0, std::size_t cols, T* dest) {
    if (begin >= end) return;
    const std::size_t k = packed_.inputSize;
    kernels::GemmArgs<T> g;
    g.m = end - begin;
    g.n = cols;
    g.k = k;
    g.a = x + begin * k;
    g.lda = k;
    packed_.wih.bind(g, col0);
    g.bias = packed_.foldedBias.data() + col0;
    g.c = dest;
    g.ldc = cols;
    kernels_.packedGemm(g);
  }

  // Reduced precision only: whether each direction's time loop computes its own gates in time chunks, just
  // before the steps that read them, into a slice of Gx that stays in cache, in place of the whole
  // projection first. A long batch's projection is far larger than the caches (lstm-b32: 52 MB): written to
  // memory and read back, its reads stalled the steps' cell updates (a fifth of a qint8 forward). Only when
  // a direction's rows all run on one thread, through a time chunk that is one range of rows.
  bool projectsPerDirection(std::size_t threads) const {
    if (!reduced_) return false;
    const RecurrencePlan plan = recurrencePlan(threads);
    const double gatesBytes = double(layout_.rows()) * double(D_) * double(G_) * double(sizeof(T));
    return plan.rowSplit <= 1 && plan.groupSize == 1 && gatesBytes >= kPerDirectionProjectionBytes &&
           G_ % kernels_.gemmPanelCols == 0 && perDirectionChunkSteps() * N_ <= layout_.rows() &&
           (layout_.batchStride() == 1 || N_ == 1);
  }

  std::size_t perDirectionChunkSteps() const {
    return std::max<std::size_t>(1, kPerDirectionChunkRows / std::max<std::size_t>(N_, 1));
  }

  // Steps per chunk of a projection computed alongside the recurrence: enough rows for the GEMM's row
  // blocks, few enough steps for the recurrence to start early.
  std::size_t chunkSteps() const { return std::max<std::size_t>(8, (kProjectionChunkRows + N_ - 1) / N_); }

  // Whether the projection goes alongside the time loop (projectAlongside) rather than before it: when
  // the whole layer's time loop runs on one thread (a short step, too few rows to split) and another
  // thread would otherwise wait for it. On one thread the chunks gain nothing (measured: 3% slower).
  // After a call whose helper fell behind (the other cores busy with other work) the next few such layers
  // run their projection first instead: a late helper costs more than it saves.
  bool projectsAlongside(std::size_t threads) const {
    const RecurrencePlan plan = recurrencePlan(threads);
    const bool fits = threads >= 2 && D_ == 1 && plan.rowSplit <= 1 && plan.groupSize == 1 &&
                      layout_.seqLen() > chunkSteps() &&
                      (layout_.batchStride() == 1 || N_ == 1);  // a time chunk is then one range of rows
    if (!fits) return false;
    for (int skip = alongsideSkips.load(std::memory_order_relaxed); skip > 0;)
      if (alongsideSkips.compare_exchange_weak(skip, skip - 1, std::memory_order_relaxed)) return false;
    return true;
  }

  // The input projection and the time loop together: Gx in chunks of steps, each computed before the
  // first step that reads it, by whichever thread gets to it first, so the projection runs on a second
  // thread beside the recurrence instead of before it. Should that thread not come (a busy machine), the
  // recurrence computes each chunk itself just before its steps.
  void projectAlongside(const T* x, T* y, ThreadPool::Lease& lease) {
    const std::size_t T_ = layout_.seqLen();
    const std::size_t chunkSteps = this->chunkSteps();
    auto rowBegin = [&](std::size_t c) { return layout_.stepOffset(c * chunkSteps); };
    auto project = [&](std::size_t c, T* dest) {
      const std::size_t t1 = std::min(T_, (c + 1) * chunkSteps);
      projectRows(x, rowBegin(c), t1 < T_ ? layout_.stepOffset(t1) : layout_.rows(), dest);
    };
    ProjectionChunks<T> chunks((T_ + chunkSteps - 1) / chunkSteps, workspace_.gates(), D_ * G_, chunkSteps * N_,
                               project, rowBegin);
    StepGroup alone(1);
    const RowShare allRows{0, N_};
    auto member = [&](std::size_t m) {
      if (m == 0) {
        StepGroup::Member self(0);
        recurrence(0, y, allRows, alone, self, &chunks, chunkSteps);
        chunks.finish();
        if (chunks.helperWasLate()) alongsideSkips.store(kAlongsideSkips, std::memory_order_relaxed);
      } else {
        chunks.computeAll();
      }
    };
    lease.runShared(2, member);  // without a second thread, member 0 computes every chunk itself
  }

  // Every direction's time loop. With threads to spare the directions run side by side, and each
  // direction's work is split across a group of threads in one of two ways. Batches big enough to keep a
  // step busy are split by rows: batch rows never meet, so each thread runs its rows through the whole
  // sequence with no barrier at all. Otherwise the hidden units (panels of W_hh, which then stay in that
  // core's cache) are split, and the group meets at one barrier per step. When a step is bound by
  // streaming a W_hh too big for one core's L2 (small batches), every thread works on one direction at a
  // time instead: each keeps its share of that W_hh in its own L2 for the whole sequence.
  // How the time loops of a layer are spread over `threads` threads (see recurrences()).
  struct RecurrencePlan {
    bool sideBySide = false;  // the two directions at once, a group of threads each
    std::size_t groups = 1, rowSplit = 1, groupSize = 1;
  };

  RecurrencePlan recurrencePlan(std::size_t threads) const {
    const std::size_t panels = (H_ + kernels_.recurrentPanelUnits - 1) / kernels_.recurrentPanelUnits;
    const double stepFlops = 2.0 * double(N_) * double(G_) * double(Hout_);
    // Recurrent weights read every step: W_hh [G, Hout], and W_hr [Hout, H] with a projection.
    const double whhBytes = (double(G_) * double(Hout_) + (spec_.projSize > 0 ? double(Hout_) * double(H_) : 0.0)) *
                            weightBytes_;
    const bool streamBound = whhBytes > kCoreCacheBytes && whhBytes * kFlopsPerStreamedByte > stepFlops;
    const double stepCost = streamBound ? whhBytes * kFlopsPerStreamedByte : stepFlops;
    const double directionFlops = stepFlops * double(layout_.seqLen());
    const double layerFlops = directionFlops * double(D_);
    const std::size_t stepSplit = std::min({threads, panels, std::size_t(stepCost / kMinStepFlopsPerThread) + 1});
    RecurrencePlan plan;
    // Without a group's split or barrier the two directions are independent shares (runShared).
    const double directionCost = std::max(stepCost, kStepChainFlops) * double(layout_.seqLen());
    const bool sharedDirections = stepSplit == 1 && directionCost >= kMinSharedDirectionFlops;
    plan.sideBySide = D_ == 2 && threads >= 2 && (layerFlops >= kMinFlopsPerThread || sharedDirections) &&
                      !(streamBound && stepSplit > 1);
    plan.groups = plan.sideBySide ? 2 : 1;
    const std::size_t perGroup = threads / plan.groups;
    // Each thread of a row split streams all of W_hh, so only where W_hh stays in its core's cache.
    plan.rowSplit = streamBound ? 1
        : std::min({perGroup, N_ / kMinRowsPerThread, std::size_t(directionFlops / kMinFlopsPerThread) + 1});
    plan.groupSize = plan.sideBySide ? std::min(perGroup, stepSplit) : stepSplit;
    return plan;
  }

  // With `x`, every direction computes its own gates from it (projectsPerDirection); without, they are
  // in Gx already.
  void recurrences(T* y, ThreadPool::Lease& lease, const T* x = nullptr) {
    ownInput_ = x;
    const RecurrencePlan plan = recurrencePlan(lease.threads());
    if (interleavesDirections(plan)) return interleavedRecurrences(y);
    const bool sideBySide = plan.sideBySide;
    const std::size_t groups = plan.groups, rowSplit = plan.rowSplit;
    if (rowSplit > 1) {
      StepGroup alone(1);
      auto member = [&](std::size_t m) {
        const std::size_t group = m / rowSplit, share = m % rowSplit;
        const RowShare rows{shareStart(share, rowSplit), share + 1 == rowSplit ? N_ : shareStart(share + 1, rowSplit)};
        StepGroup::Member self(0);
        for (std::size_t d = sideBySide ? group : 0; d < (sideBySide ? group + 1 : D_); ++d)
          recurrence(d, y, rows, alone, self);
      };
      lease.runShared(groups * rowSplit, member);  // independent: whichever thread is free takes a share
      return;
    }
    const std::size_t groupSize = std::min(plan.groupSize, StepGroup::kMaxMembers);
    const RowShare allRows{0, N_};
    StepGroup stepGroups[2] = {StepGroup(groupSize), StepGroup(groupSize)};
    auto member = [&](std::size_t m) {
      const std::size_t group = m / groupSize;
      StepGroup::Member self(m % groupSize);
      if (sideBySide) {
        recurrence(group, y, allRows, stepGroups[group], self);
      } else {
        for (std::size_t d = 0; d < D_; ++d) recurrence(d, y, allRows, stepGroups[0], self);
      }
      stepGroups[group].leave();
    };
    if (groupSize > 1)
      lease.run(groups * groupSize, member);  // a group's members meet every step: a thread each
    else
      lease.runShared(groups, member);
  }

  // Whether a bidirectional layer's two time loops run as one, a step of each in turn, on one thread: a
  // short step is a chain of dependent latencies (~0.1 us) that leaves the core mostly idle, and the other
  // direction's chain, independent of it, fills the gaps. Float32 weights, every row through every step,
  // no projection, steps short enough to be latency-bound and weights small enough to share L1.
  bool interleavesDirections(const RecurrencePlan& plan) const {
    const double stepFlops = 2.0 * double(N_) * double(G_) * double(Hout_);
    const double whhBytes = double(D_) * double(G_) * double(Hout_) * weightBytes_;
    return std::is_same<T, float>::value && !reduced_ && D_ == 2 && !plan.sideBySide && plan.rowSplit <= 1 &&
           plan.groupSize == 1 && spec_.projSize == 0 && layout_.rows() == layout_.seqLen() * N_ &&
           stepFlops <= kInterleavedStepFlops && whhBytes <= kInterleavedWeightBytes;
  }

  // Both directions' time loops in one: step i of the forward direction (t = i), then of the reverse
  // (t = T - 1 - i), each with exactly the arguments recurrence() gives its kernel, so every direction
  // computes the same bits as when it runs alone (or on a thread of its own).
  void interleavedRecurrences(T* y) {
    const std::size_t T_ = layout_.seqLen(), yCols = D_ * Hout_, rowStride = layout_.batchStride();
    const bool lstm = spec_.mode == Mode::Lstm;
    const auto step = kernels_.recurrentStep[static_cast<std::size_t>(cellKind(spec_.mode))];
    DirectionState<T> s[2] = {workspace_.state(0), workspace_.state(1)};
    kernels::RecurrentStepArgs<T> a[2];
    for (std::size_t d = 0; d < 2; ++d) {
      loadInitialState(s[d], layer_ * D_ + d, 0, N_);
      a[d].hiddenSize = H_;
      a[d].stateSize = Hout_;
      packed_.directions[d].whh.bind(a[d]);
      a[d].ldgx = rowStride * D_ * G_;
      a[d].ldhPrev = Hout_;
      a[d].bhn = packed_.directions[d].bhn.data();
      a[d].ldc = H_;
      a[d].ldhNext = Hout_;
      a[d].ldout = rowStride * yCols;
      a[d].rows = N_;
    }
    for (std::size_t i = 0; i < T_; ++i) {
      for (std::size_t d = 0; d < 2; ++d) {
        const std::size_t t = d == 1 ? T_ - 1 - i : i;
        a[d].gx = workspace_.gates() + layout_.stepOffset(t) * D_ * G_ + d * G_;
        a[d].hPrev = s[d].hPrev;
        a[d].cPrev = s[d].cPrev;
        a[d].cNext = s[d].cNext;
        a[d].hNext = s[d].hNext;
        a[d].out = y + layout_.stepOffset(t) * yCols + d * Hout_;
        a[d].lastUnitsFirst = i % 2 == 1;
        step(a[d], 0, H_);
        std::swap(s[d].hPrev, s[d].hNext);
        std::swap(s[d].cPrev, s[d].cNext);
      }
    }
    for (std::size_t d = 0; d < 2; ++d) storeFinalState(s[d].hPrev, lstm ? s[d].cPrev : nullptr, layer_ * D_ + d, 0, N_);
  }

  // The batch rows [begin, end) one thread carries through a direction's time loop.
  struct RowShare {
    std::size_t begin, end;
    // How many of the first `active` rows of the batch are this share's.
    std::size_t within(std::size_t active) const { return active <= begin ? 0 : std::min(active, end) - begin; }
  };

  // The time loop of one direction for the batch rows of `rows`, writing h_t into y at
  // [t, n, direction * Hout]. The hidden units are split into one share per member of `group`, and every
  // step is a round of the group (two with a projection: the units, then the projection's columns); a
  // share computes the same whichever member runs it (see StepGroup). Moving the state in and out belongs
  // to share 0 of a round, or to member 0 once every round is over.
  // With `chunks` (one direction, every row, no group), the gates of chunk t / chunkSteps are computed (or
  // waited for) before step t, and read from wherever that chunk is.
  void recurrence(std::size_t direction, T* y, RowShare rows, StepGroup& group, StepGroup::Member& self,
                  ProjectionChunks<T>* chunks = nullptr, std::size_t chunkSteps = 1) {
    DirectionState<T> s = workspace_.state(direction);  // a copy: every member swaps its own pointers
    const bool reverse = direction == 1;
    const std::size_t T_ = layout_.seqLen();
    const std::size_t stack = layer_ * D_ + direction;
    const PackedDirection<T>& w = packed_.directions[direction];
    const bool lstm = spec_.mode == Mode::Lstm;
    const bool projected = spec_.projSize > 0;
    const std::size_t yCols = D_ * Hout_;
    const std::size_t rowStride = layout_.batchStride();
    const std::size_t member = self.index, members = group.members();
    const std::size_t U = kernels_.recurrentPanelUnits;
    const std::size_t panels = (H_ + U - 1) / U;
    auto unitBegin = [&](std::size_t m) { return std::min(H_, panels * m / members * U); };
    const std::size_t ownBegin = unitBegin(member), ownEnd = unitBegin(member + 1);
    const std::size_t r0 = rows.begin;  // every row index below is relative to the batch, offsets to r0
    const std::size_t zigzagUnits = 4 * U;  // enough panels per call to keep the kernel's streams going
    // Gates computed here in chunks (projectsPerDirection): this direction's slice of Gx, G values per row.
    const bool gatesHere = ownInput_ != nullptr;
    const std::size_t ownSteps = gatesHere ? perDirectionChunkSteps() : 1;
    T* ownGates = gatesHere ? workspace_.gates() + direction * ownSteps * N_ * G_ : nullptr;
    std::size_t ownChunk = T_;  // none yet
    auto ownChunkEnd = [&](std::size_t c) {
      const std::size_t t1 = std::min(T_, (c + 1) * ownSteps);
      return t1 < T_ ? layout_.stepOffset(t1) : layout_.rows();
    };
    // Rows [begin, end) of the state from h0 / c0, as share 0 of a round of their own.
    auto loadRound = [&](std::size_t begin, std::size_t end) {
      group.round(self, [&](std::size_t m) {
        if (m == 0) loadInitialState(s, stack, begin, end);
      });
    };

    // Forward: every sequence starts at t = 0. Reverse: a sequence joins at its own last step.
    if (!reverse) loadRound(r0, r0 + rows.within(layout_.activeRows(0)));

    kernels::RecurrentStepArgs<T> a;
    a.hiddenSize = H_;
    a.stateSize = Hout_;
    w.whh.bind(a);
    a.ldgx = gatesHere ? G_ : rowStride * D_ * G_;
    a.ldhPrev = Hout_;
    a.bhn = w.bhn.data();
    a.ldc = H_;
    a.ldhNext = projected ? H_ : Hout_;
    a.ldout = rowStride * yCols;
    const auto step = kernels_.recurrentStep[static_cast<std::size_t>(cellKind(spec_.mode))];
    // Forward: the rows whose sequences ended at the previous step, stored before this one's units.
    std::size_t endedBegin = 0, endedEnd = 0;

    for (std::size_t i = 0; i < T_; ++i) {
      const std::size_t t = reverse ? T_ - 1 - i : i;
      // Gx of this step: its place in the projection, or in the chunk the recurrence computed itself.
      const T* gates = workspace_.gates() + (layout_.stepOffset(t) + r0 * rowStride) * D_ * G_;
      if (chunks) {
        const std::size_t c = t / chunkSteps;
        gates = chunks->ensure(c) + (layout_.stepOffset(t) - layout_.stepOffset(c * chunkSteps)) * D_ * G_;
      }
      if (gatesHere) {
        const std::size_t c = t / ownSteps;
        if (c != ownChunk) {
          projectDirectionRows(ownInput_, direction, layout_.stepOffset(c * ownSteps), ownChunkEnd(c), ownGates);
          ownChunk = c;
        }
        gates = ownGates + (layout_.stepOffset(t) - layout_.stepOffset(c * ownSteps)) * G_;
      }
      const std::size_t active = rows.within(layout_.activeRows(t));
      const std::size_t activeAfter = t + 1 < T_ ? rows.within(layout_.activeRows(t + 1)) : 0;
      if (reverse && activeAfter < active) loadRound(r0 + activeAfter, r0 + active);

      if (i + 1 < T_ && !gatesHere) {
        // The next step's gates, from a projection buffer far larger than the caches: requested now, they
        // arrive while this step computes instead of stalling the next one's cell update.
        const std::size_t tNext = reverse ? t - 1 : t + 1;
        const T* gxNext = workspace_.gates() + (layout_.stepOffset(tNext) + r0 * rowStride) * D_ * G_ + direction * G_;
        const std::size_t rowsNext = rows.within(layout_.activeRows(tNext));
        for (std::size_t r = 0; r < rowsNext; ++r)
          for (std::size_t g = 0; g < G_ / H_; ++g)
            kernels::prefetchBytesToL2(gxNext + r * a.ldgx + g * H_ + ownBegin, (ownEnd - ownBegin) * sizeof(T));
      }

      T* yStep = y + (layout_.stepOffset(t) + r0 * rowStride) * yCols + direction * Hout_;
      a.rows = active;
      a.gx = gatesHere ? gates : gates + direction * G_;
      a.hPrev = s.hPrev + r0 * Hout_;
      a.cPrev = s.cPrev ? s.cPrev + r0 * H_ : nullptr;
      a.cNext = s.cNext ? s.cNext + r0 * H_ : nullptr;
      a.hNext = projected ? s.cellOut + r0 * H_ : s.hNext + r0 * Hout_;
      a.out = projected ? nullptr : yStep;
      a.lastUnitsFirst = i % 2 == 1;
      group.round(self, [&](std::size_t m) {
        // h_{t-1} and c_{t-1} stay untouched until the round after this one.
        if (m == 0 && !reverse) storeFinalState(s.hPrev, lstm ? s.cPrev : nullptr, stack, endedBegin, endedEnd);
        const std::size_t begin = unitBegin(m), end = unitBegin(m + 1);
        // A share too big to stay in L2 from one step to the next goes panels first to last on even steps,
        // last to first on odd ones: the panels a step read last are still in L2 when the next one starts.
        // Reduced-precision steps walk their units in chunks themselves, in the order lastUnitsFirst asks: one
        // call per step converts h_{t-1} once, and at batch 1 keeps one stream of panels going through the step.
        const double shareBytes = double(end - begin) * double(G_ / H_) * double(Hout_) * weightBytes_;
        if (shareBytes > kCoreCacheBytes / 2 && !reduced_) {
          const std::size_t chunkCount = (end - begin + zigzagUnits - 1) / zigzagUnits;
          for (std::size_t c = 0; c < chunkCount; ++c) {
            const std::size_t chunk = i % 2 == 0 ? c : chunkCount - 1 - c;
            const std::size_t chunkBegin = begin + chunk * zigzagUnits;
            step(a, chunkBegin, std::min(end, chunkBegin + zigzagUnits));
          }
        } else {
          step(a, begin, end);
        }
      }, i % 2 == 1);
      // The projection reads every unit of the cell output.
      if (projected)
        group.round(self, [&](std::size_t m) { projectStep(w, s, r0, active, yStep, rowStride * yCols, m, members); });
      // Forward: sequences whose last step this is leave their final state behind.
      endedBegin = r0 + activeAfter;
      endedEnd = r0 + active;
      std::swap(s.hPrev, s.hNext);
      std::swap(s.cPrev, s.cNext);
    }
    if (member == 0)
      storeFinalState(s.hPrev, lstm ? s.cPrev : nullptr, stack, reverse ? r0 : endedBegin,
                      reverse ? r0 + rows.within(layout_.activeRows(0)) : endedEnd);
  }

 private:
  // LSTM projection: h = (o * tanh(c)) · W_hrᵀ, into the state and the layer output; this member computes
  // its share of the GEMM's column panels.
  void projectStep(const PackedDirection<T>& w, DirectionState<T>& s, std::size_t r0, std::size_t rows, T* yStep,
                   std::size_t ldy, std::size_t member, std::size_t members) {
    const std::size_t P = kernels_.gemmPanelCols;
    const std::size_t panels = (Hout_ + P - 1) / P;
    const std::size_t colBegin = std::min(Hout_, panels * member / members * P);
    const std::size_t colEnd = std::min(Hout_, panels * (member + 1) / members * P);
    if (colBegin >= colEnd) return;
    kernels::GemmArgs<T> g;
    g.m = rows;
    g.n = colEnd - colBegin;
    g.k = H_;
    g.a = s.cellOut + r0 * H_;
    g.lda = H_;
    w.whr.bind(g, colBegin);
    T* h = s.hNext + r0 * Hout_;
    g.c = h + colBegin;
    g.ldc = Hout_;
    kernels_.packedGemm(g);
    for (std::size_t r = 0; r < rows; ++r)
      std::copy(h + r * Hout_ + colBegin, h + r * Hout_ + colEnd, yStep + r * ldy + colBegin);
  }

  // Rows [begin, end) of the state from h0 / c0 (zeros when absent).
  void loadInitialState(DirectionState<T>& s, std::size_t stack, std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    copyRows(inputs_.h0 ? inputs_.h0->data : nullptr, stack * N_ * Hout_, s.hPrev, Hout_, begin, end);
    if (spec_.mode == Mode::Lstm) copyRows(inputs_.c0 ? inputs_.c0->data : nullptr, stack * N_ * H_, s.cPrev, H_, begin, end);
  }

  // Rows [begin, end) of the state into h_n / c_n.
  void storeFinalState(const T* h, const T* c, std::size_t stack, std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    std::copy(h + begin * Hout_, h + end * Hout_, outputs_.hN + stack * N_ * Hout_ + begin * Hout_);
    if (c) std::copy(c + begin * H_, c + end * H_, outputs_.cN + stack * N_ * H_ + begin * H_);
  }

  // First row of share `share` of `shares` contiguous row ranges with about equal work: with packed
  // sequences the first rows (the longest sequences) take more steps, so the split follows each row's
  // length, not its count.
  std::size_t shareStart(std::size_t share, std::size_t shares) const {
    if (share == 0) return 0;
    const double target = double(layout_.rows()) * double(share) / double(shares);  // rows() = every row's steps
    double done = 0;
    for (std::size_t n = 0; n < N_; ++n) {
      done += double(layout_.steps(n));
      if (done >= target) return n + 1;
    }
    return N_;
  }

  static void copyRows(const T* source, std::size_t sourceOffset, T* dest, std::size_t width, std::size_t begin,
                       std::size_t end) {
    if (source)
      std::copy(source + sourceOffset + begin * width, source + sourceOffset + end * width, dest + begin * width);
    else
      std::fill(dest + begin * width, dest + end * width, T(0));
  }

  const ModelSpec& spec_;
  const kernels::KernelTable<T>& kernels_;
  const PackedLayer<T>& packed_;
  const SequenceLayout& layout_;
  const ForwardInputs<T>& inputs_;
  const ForwardOutputs<T>& outputs_;
  Workspace<T>& workspace_;
  const std::size_t layer_, D_, G_, H_, Hout_, N_;
  const double weightBytes_;
  const bool reduced_;  // weights stored at reduced precision (int8, bfloat16, float16)
  const T* ownInput_ = nullptr;  // the layer's input, when every direction projects its own gates
};

}  // namespace

template <class T>
void runForward(const PackedWeights<T>& weights, const ForwardPlan& plan, const ForwardInputs<T>& inputs,
                const ForwardOutputs<T>& outputs) {
  const ModelSpec& spec = weights.spec;
  checkForwardInputs(spec, plan, inputs);
  // Nothing to compute: every result has zero elements.
  if (plan.layout.rows() == 0 || spec.hiddenSize == 0) return;

  Workspace<T> workspace(spec, plan.layout);
  ThreadPool::Lease lease = ThreadPool::instance().lease();
  const std::size_t L = spec.numLayers;
  const std::size_t layerOutputElements = plan.outputElements;
  for (std::size_t layer = 0; layer < L; ++layer) {
    // Layer k reads layer k-1's buffer and writes the other one; the last layer writes the output.
    const T* x = layer == 0 ? inputs.input.data : workspace.layerBuffer((layer - 1) % 2);
    T* y = layer + 1 == L ? outputs.output : workspace.layerBuffer(layer % 2);
    LayerRun<T> run(weights, plan, inputs, outputs, workspace, layer);
    if (run.projectsAlongside(lease.threads())) {
      run.projectAlongside(x, y, lease);
    } else if (run.projectsPerDirection(lease.threads())) {
      run.recurrences(y, lease, x);
    } else {
      run.inputProjection(x, lease);
      run.recurrences(y, lease);
    }
    if (layer + 1 < L) applyDropout(y, layerOutputElements, inputs.dropout, inputs.dropoutSeed, layer);
  }
}

template void checkForwardInputs<float>(const ModelSpec&, const ForwardPlan&, const ForwardInputs<float>&);
template void checkForwardInputs<double>(const ModelSpec&, const ForwardPlan&, const ForwardInputs<double>&);
template void runForward<float>(const PackedWeights<float>&, const ForwardPlan&, const ForwardInputs<float>&,
                                const ForwardOutputs<float>&);
template void runForward<double>(const PackedWeights<double>&, const ForwardPlan&, const ForwardInputs<double>&,
                                 const ForwardOutputs<double>&);

}  // namespace engine
}  // namespace torchrnn
