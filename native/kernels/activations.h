// Scalar activations shared by the portable kernels. Accurate to the libm's exp/tanh in the scalar's own
// precision; NaN propagates and ±inf give the exact limits.
#pragma once

#include <cmath>

namespace torchrnn {
namespace kernels {

template <class T>
inline T sigmoid(T x) {
  // Only ever exp of a non-positive number, so nothing overflows to inf/inf.
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);  // NaN lands here and stays NaN
  return e / (T(1) + e);
}

template <class T>
inline T tanhActivation(T x) {
  return std::tanh(x);
}

template <class T>
inline T relu(T x) {
  return x < T(0) ? T(0) : x;  // written so that NaN passes through, as torch.relu does
}

}  // namespace kernels
}  // namespace torchrnn
