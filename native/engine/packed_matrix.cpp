#include "packed_matrix.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "../kernels/packing.h"
#include "../kernels/reduced_precision.h"
#include "checked_math.h"

namespace torchrnn {
namespace engine {

namespace {

using kernels::WeightFormat;

// Packs with `pack(source, destination)` for the element type the format stores.
template <class T, class Pack>
void packAs(const WeightSource<T>& source, std::size_t packedSize, AlignedArray<T>& values,
            AlignedArray<unsigned char>& reduced, Pack pack) {
  switch (source.format) {
    case WeightFormat::Float32:
      values = AlignedArray<T>(packedSize);
      pack(static_cast<const T*>(source.values), values.data());
      return;
    case WeightFormat::BFloat16:
    case WeightFormat::Float16:
      reduced = AlignedArray<unsigned char>(checkedMul(packedSize, sizeof(std::uint16_t), "packed weights"));
      pack(static_cast<const std::uint16_t*>(source.values), reinterpret_cast<std::uint16_t*>(reduced.data()));
      return;
    case WeightFormat::Int8:
      reduced = AlignedArray<unsigned char>(packedSize);
      pack(static_cast<const std::int8_t*>(source.values), reinterpret_cast<std::int8_t*>(reduced.data()));
      return;
  }
}

}  // namespace

template <class T>
PackedMatrix<T> PackedMatrix<T>::gemm(const WeightSource<T>& source, std::size_t n, std::size_t k,
                                      std::size_t panelCols) {
  PackedMatrix m;
  m.format_ = source.format;
  m.depth_ = k;
  const std::size_t size = kernels::gemmPanelsSize(n, k, panelCols);
  packAs(source, size, m.values_, m.reduced_,
         [&](const auto* from, auto* to) { if (n > 0 && k > 0) kernels::packGemmPanels(from, n, k, panelCols, to); });
  if (source.format == WeightFormat::Int8) {
    // A scale per column of the panels: the same packing with depth 1, zero for the padding columns.
    m.scales_ = AlignedArray<float>(kernels::gemmPanelsSize(n, 1, panelCols));
    kernels::packGemmPanels(source.scales, n, 1, panelCols, m.scales_.data());
  }
  m.columns_ = kernels::gemmPanelsSize(n, 1, panelCols);
  if (source.format != WeightFormat::Float32) m.groupDepth(panelCols);
  return m;
}

template <class T>
PackedMatrix<T> PackedMatrix<T>::recurrent(const WeightSource<T>& source, std::size_t gates, std::size_t units,
                                           std::size_t k, std::size_t panelUnits) {
  PackedMatrix m;
  m.format_ = source.format;
  m.depth_ = k;
  const std::size_t size = kernels::recurrentPanelsSize(gates, units, k, panelUnits);
  packAs(source, size, m.values_, m.reduced_, [&](const auto* from, auto* to) {
    kernels::packRecurrentPanels(from, gates, units, k, panelUnits, to);
  });
  if (source.format == WeightFormat::Int8) {
    m.scales_ = AlignedArray<float>(kernels::recurrentPanelsSize(gates, units, 1, panelUnits));
    kernels::packRecurrentPanels(source.scales, gates, units, 1, panelUnits, m.scales_.data());
  }
  m.columns_ = kernels::recurrentPanelsSize(gates, units, 1, panelUnits);
  if (source.format != WeightFormat::Float32) m.groupDepth(gates * panelUnits);
  return m;
}

template <class T>
void PackedMatrix<T>::groupDepth(std::size_t cols) {
  const std::size_t group = kernels::dotDepthGroup(format_);
  if (group == 1) return;
  const bool int8 = format_ == WeightFormat::Int8;
  if (int8) {
    sums_ = AlignedArray<std::int32_t>(columns_);
    std::fill(sums_.data(), sums_.data() + columns_, 0);
  }
  if (depth_ == 0) return;
  const std::size_t depth = (depth_ + group - 1) / group * group;
  const std::size_t bytes = kernels::bytesPerWeight(format_);
  AlignedArray<unsigned char> grouped(checkedMul(checkedMul(columns_, depth, "packed weights"), bytes, "packed weights"));
  for (std::size_t c0 = 0; c0 < columns_; c0 += cols) {
    if (int8)
      kernels::groupInt8Panel(reinterpret_cast<const std::int8_t*>(reduced_.data()) + c0 * depth_, depth_, cols, group,
                              reinterpret_cast<std::int8_t*>(grouped.data()) + c0 * depth, sums_.data() + c0);
    else
      kernels::groupBits16Panel(reinterpret_cast<const std::uint16_t*>(reduced_.data()) + c0 * depth_, depth_, cols,
                                group, reinterpret_cast<std::uint16_t*>(grouped.data()) + c0 * depth);
  }
  reduced_ = std::move(grouped);
  depth_ = depth;
}

template <class T>
void PackedMatrix<T>::bind(kernels::GemmArgs<T>& g, std::size_t firstColumn) const {
  const std::size_t offset = firstColumn * depth_;
  if (format_ == WeightFormat::Float32) {
    g.bPacked = values_.data() + offset;
    return;
  }
  g.bReduced = reduced_.data() + offset * kernels::bytesPerWeight(format_);
  g.bScales = format_ == WeightFormat::Int8 ? scales_.data() + firstColumn : nullptr;
  g.bColumnSums = sums_.size() ? sums_.data() + firstColumn : nullptr;
}

template <class T>
void PackedMatrix<T>::bind(kernels::RecurrentStepArgs<T>& a) const {
  if (format_ == WeightFormat::Float32) {
    a.whhPacked = values_.data();
    return;
  }
  a.whhReduced = reduced_.data();
  a.whhScales = format_ == WeightFormat::Int8 ? scales_.data() : nullptr;
  a.whhColumnSums = sums_.size() ? sums_.data() : nullptr;
}

template class PackedMatrix<float>;
template class PackedMatrix<double>;

}  // namespace engine
}  // namespace torchrnn
