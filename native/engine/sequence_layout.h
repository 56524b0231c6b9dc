// Where row (t, n) of a sequence batch lives in a [rows, features] buffer: time-major, batch-first or
// packed. Every buffer of a forward call (input, layer outputs, input projection, output) uses the same
// row mapping, so batch-first input is read in place and the output comes back in the caller's layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "span.h"

namespace torchrnn {
namespace engine {

class SequenceLayout {
 public:
  std::size_t seqLen() const { return seqLen_; }
  std::size_t batch() const { return batch_; }
  bool packed() const { return packed_; }
  // Rows in every buffer: seqLen * batch, or sum(batchSizes) when packed.
  std::size_t rows() const { return rows_; }
  // Sequences still running at step t (the first activeRows(t) of the batch).
  std::size_t activeRows(std::size_t t) const { return packed_ ? batchSizes_[t] : batch_; }
  // Steps sequence n runs: seqLen, or when packed, the steps whose active rows include it.
  std::size_t steps(std::size_t n) const;
  // Row of (t, 0); (t, n) is n * batchStride() rows further.
  std::size_t stepOffset(std::size_t t) const {
    return packed_ ? stepOffsets_[t] : batchFirst_ ? t : t * batch_;
  }
  std::size_t batchStride() const { return batchFirst_ ? seqLen_ : 1; }

  // Padded: (seqLen, batch) time-major or batch-first.
  static SequenceLayout padded(std::size_t seqLen, std::size_t batch, bool batchFirst);
  // Packed: batchSizes[t] rows at step t, non-increasing, all >= 1, batchSizes[0] == batch. Reads each
  // entry of batchSizes once, into a copy that is then checked and kept: it may be memory that another
  // thread writes meanwhile.
  static SequenceLayout packed(std::size_t seqLen, std::size_t batch, bool batchFirst, Span<std::int32_t> batchSizes);

 private:
  std::size_t seqLen_ = 0, batch_ = 0, rows_ = 0;
  bool batchFirst_ = false, packed_ = false;
  std::vector<std::size_t> batchSizes_;   // packed only: per-step counts are then part of the input
  std::vector<std::size_t> stepOffsets_;  // packed only: prefix sums of batchSizes
};

}  // namespace engine
}  // namespace torchrnn
