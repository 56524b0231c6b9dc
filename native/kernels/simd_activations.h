// Vectorised exp, sigmoid and tanh for the SIMD kernel families, on any register type V (avx2_vector.h,
// avx512_vector.h). exp: Cody–Waite range reduction to |r| <= ln2/2, then a polynomial; about one ulp
// (float) or a few ulps (double). NaN propagates; ±inf and huge inputs give the exact limits.
// Private to the unit that includes it (see avx512_vector.h for why).
#pragma once

#include <cstddef>
#include <type_traits>

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
struct ExpConstants;

template <class V>
struct ExpConstantsFloat {
  // Below kMin 2^n would be subnormal; above kMax 2^n is +inf, so e^x overflows as it should.
  static constexpr float kMin = -87.3f, kMax = 89.0f;
  static constexpr float kLog2e = 1.44269504088896341f, kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
  static typename V::Reg polynomial(typename V::Reg r) {  // e^r - 1 - r, over r^2 (Cephes expf)
    typename V::Reg p = V::set1(1.9875691500e-4f);
    p = V::fma(p, r, V::set1(1.3981999507e-3f));
    p = V::fma(p, r, V::set1(8.3334519073e-3f));
    p = V::fma(p, r, V::set1(4.1665795894e-2f));
    p = V::fma(p, r, V::set1(1.6666665459e-1f));
    return V::fma(p, r, V::set1(5.0000001201e-1f));
  }
};

template <class V>
struct ExpConstantsDouble {
  static constexpr double kMin = -708.0, kMax = 710.0;
  static constexpr double kLog2e = 1.4426950408889634074, kLn2High = 6.93145751953125e-1,
                          kLn2Low = 1.42860682030941723212e-6;
  static typename V::Reg polynomial(typename V::Reg r) {  // Taylor to r^11: error ~1e-15 for |r| <= ln2/2
    static constexpr double c[] = {1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040,
                                   1.0 / 720,      1.0 / 120,     1.0 / 24,     1.0 / 6,     1.0 / 2};
    typename V::Reg p = V::set1(c[0]);
    for (std::size_t i = 1; i < sizeof c / sizeof c[0]; ++i) p = V::fma(p, r, V::set1(c[i]));
    return p;
  }
};

template <class V>
struct ExpConstants : std::conditional_t<sizeof(typename V::Scalar) == 4, ExpConstantsFloat<V>, ExpConstantsDouble<V>> {};

// e^x for any x: +inf past the overflow point (so 1 / (1 + e^x) reaches exactly 0), a tiny normal number
// below the underflow point, NaN for NaN: the clamp keeps NaN (min and max return their second operand
// when either is NaN), and every step after it carries NaN through.
template <class V>
typename V::Reg expClamped(typename V::Reg x) {
  using C = ExpConstants<V>;
  using S = typename V::Scalar;
  x = V::min(V::set1(S(C::kMax)), V::max(V::set1(S(C::kMin)), x));
  const typename V::Reg n = V::roundNearest(V::mul(x, V::set1(S(C::kLog2e))));
  typename V::Reg r = V::fma(n, V::set1(S(-C::kLn2High)), x);
  r = V::fma(n, V::set1(S(-C::kLn2Low)), r);
  const typename V::Reg p = C::polynomial(r);
  const typename V::Reg e = V::add(V::fma(V::mul(p, r), r, r), V::set1(S(1)));
  return V::scaleByPow2(e, n);
}

template <class V>
typename V::Reg sigmoidVector(typename V::Reg x) {
  using S = typename V::Scalar;
  const typename V::Reg one = V::set1(S(1));
  return V::div(one, V::add(one, expClamped<V>(V::sub(V::zero(), x))));  // NaN stays NaN
}

template <class V>
typename V::Reg tanhVector(typename V::Reg x) {
  using S = typename V::Scalar;
  const typename V::Reg one = V::set1(S(1));
  const typename V::Reg a = V::abs(x);
  const typename V::Reg e = expClamped<V>(V::mul(a, V::set1(S(-2))));
  const typename V::Reg large = V::div(V::sub(one, e), V::add(one, e));
  // Near 0, 1 - e^-2a cancels; the odd series keeps full relative accuracy there.
  const typename V::Reg a2 = V::mul(a, a);
  typename V::Reg series = V::set1(S(-17.0 / 315));
  series = V::fma(series, a2, V::set1(S(2.0 / 15)));
  series = V::fma(series, a2, V::set1(S(-1.0 / 3)));
  series = V::fma(V::mul(series, a2), a, a);
  const S smallLimit = sizeof(S) == 4 ? S(0.0625) : S(0.001);
  // NaN: not less than the limit, so `large`, which is NaN.
  const typename V::Reg magnitude = V::whereLess(a, V::set1(smallLimit), series, large);
  return V::copySign(magnitude, x);
}

template <class V>
typename V::Reg reluVector(typename V::Reg x) {
  return V::max(V::zero(), x);  // max returns its second operand for NaN, so NaN passes as in torch.relu
}

// y[i] = f(x[i]) over n values, whole vectors then one partial vector.
template <class V, typename V::Reg (*F)(typename V::Reg)>
void applyActivation(const typename V::Scalar* x, typename V::Scalar* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) V::store(y + i, F(V::load(x + i)));
  if (i < n) V::storeFirst(y + i, F(V::loadFirst(x + i, n - i)), n - i);
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
