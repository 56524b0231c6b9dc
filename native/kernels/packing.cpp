#include "packing.h"

#include <cstdint>

namespace torchrnn {
namespace kernels {

namespace {
std::size_t roundUp(std::size_t n, std::size_t multiple) { return (n + multiple - 1) / multiple * multiple; }
}  // namespace

std::size_t gemmPanelsSize(std::size_t n, std::size_t k, std::size_t panelCols) {
  return roundUp(n, panelCols) * k;
}

template <class T>
void packGemmPanels(const T* b, std::size_t n, std::size_t k, std::size_t panelCols, T* packed) {
  for (std::size_t p0 = 0; p0 < n; p0 += panelCols) {
    T* panel = packed + p0 * k;
    for (std::size_t kk = 0; kk < k; ++kk) {
      for (std::size_t j = 0; j < panelCols; ++j) {
        const std::size_t row = p0 + j;
        panel[kk * panelCols + j] = row < n ? b[row * k + kk] : T(0);
      }
    }
  }
}

std::size_t recurrentPanelsSize(std::size_t gates, std::size_t units, std::size_t k, std::size_t panelUnits) {
  return roundUp(units, panelUnits) * gates * k;
}

template <class T>
void packRecurrentPanels(const T* w, std::size_t gates, std::size_t units, std::size_t k, std::size_t panelUnits,
                         T* packed) {
  const std::size_t cols = gates * panelUnits;
  for (std::size_t u0 = 0; u0 < units; u0 += panelUnits) {
    T* panel = packed + u0 * gates * k;
    for (std::size_t kk = 0; kk < k; ++kk) {
      for (std::size_t g = 0; g < gates; ++g) {
        for (std::size_t u = 0; u < panelUnits; ++u) {
          const std::size_t unit = u0 + u;
          panel[kk * cols + g * panelUnits + u] = unit < units ? w[(g * units + unit) * k + kk] : T(0);
        }
      }
    }
  }
}

template void packGemmPanels<float>(const float*, std::size_t, std::size_t, std::size_t, float*);
template void packGemmPanels<double>(const double*, std::size_t, std::size_t, std::size_t, double*);
template void packRecurrentPanels<float>(const float*, std::size_t, std::size_t, std::size_t, std::size_t, float*);
template void packRecurrentPanels<double>(const double*, std::size_t, std::size_t, std::size_t, std::size_t,
                                          double*);
// Reduced-precision weights keep the float panel layout: 16-bit float bits and int8 values.
template void packGemmPanels<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t, std::size_t,
                                            std::uint16_t*);
template void packGemmPanels<std::int8_t>(const std::int8_t*, std::size_t, std::size_t, std::size_t, std::int8_t*);
template void packRecurrentPanels<std::uint16_t>(const std::uint16_t*, std::size_t, std::size_t, std::size_t,
                                                 std::size_t, std::uint16_t*);
template void packRecurrentPanels<std::int8_t>(const std::int8_t*, std::size_t, std::size_t, std::size_t, std::size_t,
                                               std::int8_t*);

}  // namespace kernels
}  // namespace torchrnn
