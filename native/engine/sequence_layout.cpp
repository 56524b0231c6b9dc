#include "sequence_layout.h"

#include <algorithm>
#include <string>

#include "checked_math.h"
#include "errors.h"
#include "model_spec.h"

namespace torchrnn {
namespace engine {

namespace {

void checkSizes(std::size_t seqLen, std::size_t batch) {
  if (seqLen == 0) throw SizeError("Expected sequence length to be larger than 0 in RNN (seqLen is 0)");
  if (seqLen > kMaxDimension)
    throw SizeError("seqLen must be at most " + std::to_string(kMaxDimension) + ", got " + std::to_string(seqLen));
  if (batch > kMaxDimension)
    throw SizeError("batch must be at most " + std::to_string(kMaxDimension) + ", got " + std::to_string(batch));
}

}  // namespace

SequenceLayout SequenceLayout::padded(std::size_t seqLen, std::size_t batch, bool batchFirst) {
  checkSizes(seqLen, batch);
  SequenceLayout layout;
  layout.seqLen_ = seqLen;
  layout.batch_ = batch;
  layout.batchFirst_ = batchFirst;
  layout.rows_ = checkedMul(seqLen, batch, "seqLen * batch");
  return layout;
}

SequenceLayout SequenceLayout::packed(std::size_t seqLen, std::size_t batch, bool batchFirst,
                                      Span<std::int32_t> batchSizes) {
  checkSizes(seqLen, batch);
  if (batchFirst) throw ArgumentError("batchFirst must be false with batchSizes (packed input is time-major)");
  if (batchSizes.size != seqLen)
    throw SizeError("batchSizes must have seqLen (" + std::to_string(seqLen) + ") entries, got " +
                    std::to_string(batchSizes.size));
  // One read of each entry, then only the copy: the entries may live in a SharedArrayBuffer that another
  // thread rewrites while this runs, so checking them in place and reading them again later (as this did)
  // let an increasing sequence through, sizing buffers for one sequence and running another.
  const std::vector<std::int32_t> counts(batchSizes.data, batchSizes.data + batchSizes.size);
  SequenceLayout layout;
  layout.seqLen_ = seqLen;
  layout.batch_ = batch;
  layout.packed_ = true;
  layout.batchSizes_.resize(seqLen);
  layout.stepOffsets_.resize(seqLen);
  std::size_t rows = 0;
  for (std::size_t t = 0; t < seqLen; ++t) {
    const std::int32_t count = counts[t];
    const std::string at = "batchSizes[" + std::to_string(t) + "]";
    if (count < 1) throw SizeError(at + " must be at least 1, got " + std::to_string(count));
    if (t == 0 && static_cast<std::size_t>(count) != batch)
      throw SizeError("batchSizes[0] must equal batch (" + std::to_string(batch) + "), got " + std::to_string(count));
    if (t > 0 && count > counts[t - 1])
      throw SizeError("batchSizes must be non-increasing, but " + at + " = " + std::to_string(count) +
                      " follows " + std::to_string(counts[t - 1]));
    layout.batchSizes_[t] = static_cast<std::size_t>(count);
    layout.stepOffsets_[t] = rows;
    rows = checkedAdd(rows, static_cast<std::size_t>(count), "sum(batchSizes)");
  }
  layout.rows_ = rows;
  return layout;
}

std::size_t SequenceLayout::steps(std::size_t n) const {
  if (!packed_) return seqLen_;
  // batchSizes_ never increases: the steps that include row n are a prefix.
  const auto end = std::lower_bound(batchSizes_.begin(), batchSizes_.end(), n,
                                    [](std::size_t active, std::size_t row) { return active > row; });
  return static_cast<std::size_t>(end - batchSizes_.begin());
}

}  // namespace engine
}  // namespace torchrnn
