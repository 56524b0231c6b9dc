// Several registers of a SIMD type V used as one: each operation applies V's own operation to every
// member in turn. A cell update (cellUpdate) instantiated on such a type computes several updates with
// exactly V's arithmetic per lane (the same bits), their instructions side by side. An update is a chain
// of dependent steps (five activations) that the next time step waits for; two updates issued as one take
// little longer than one (LSTM(32) at batch 1: a step 11% shorter). ConsecutiveVectors reads its N
// registers from consecutive memory: N panels' units of one row, as the units of one wider vector.
// Private to the unit that includes it (see avx512_vector.h for why).
#pragma once

#include <cstddef>

// On a function whose every call, to any depth, is to be inlined: the update's activations return
// registers of these types, which a call would pass through memory.
#if defined(__GNUC__) || defined(__clang__)
#define TORCHRNN_FLATTEN __attribute__((flatten))
#else
#define TORCHRNN_FLATTEN
#endif

namespace torchrnn {
namespace kernels {
namespace {

template <class V, std::size_t N>
struct LockstepOps {
  using Scalar = typename V::Scalar;
  struct Reg {
    typename V::Reg r[N];
  };
  static constexpr std::size_t kRegisters = V::kRegisters;

  template <class F>
  static Reg each(F f) {
    Reg out;
    for (std::size_t i = 0; i < N; ++i) out.r[i] = f(i);
    return out;
  }

  static Reg zero() { return each([](std::size_t) { return V::zero(); }); }
  static Reg set1(Scalar x) { return each([&](std::size_t) { return V::set1(x); }); }
  static Reg fma(Reg a, Reg b, Reg c) { return each([&](std::size_t i) { return V::fma(a.r[i], b.r[i], c.r[i]); }); }
  static Reg add(Reg a, Reg b) { return each([&](std::size_t i) { return V::add(a.r[i], b.r[i]); }); }
  static Reg sub(Reg a, Reg b) { return each([&](std::size_t i) { return V::sub(a.r[i], b.r[i]); }); }
  static Reg mul(Reg a, Reg b) { return each([&](std::size_t i) { return V::mul(a.r[i], b.r[i]); }); }
  static Reg div(Reg a, Reg b) { return each([&](std::size_t i) { return V::div(a.r[i], b.r[i]); }); }
  static Reg min(Reg a, Reg b) { return each([&](std::size_t i) { return V::min(a.r[i], b.r[i]); }); }
  static Reg max(Reg a, Reg b) { return each([&](std::size_t i) { return V::max(a.r[i], b.r[i]); }); }
  static Reg abs(Reg a) { return each([&](std::size_t i) { return V::abs(a.r[i]); }); }
  static Reg roundNearest(Reg a) { return each([&](std::size_t i) { return V::roundNearest(a.r[i]); }); }
  static Reg scaleByPow2(Reg a, Reg n) { return each([&](std::size_t i) { return V::scaleByPow2(a.r[i], n.r[i]); }); }
  static Reg copySign(Reg m, Reg s) { return each([&](std::size_t i) { return V::copySign(m.r[i], s.r[i]); }); }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {
    return each([&](std::size_t i) { return V::whereLess(a.r[i], b.r[i], ifLess.r[i], otherwise.r[i]); });
  }
  static Reg whereNaN(Reg x, Reg otherwise) { return each([&](std::size_t i) { return V::whereNaN(x.r[i], otherwise.r[i]); }); }
  // Operations only some register types have are only present when V has them, so that code asking
  // whether the type has one (simd_activations.h) gets V's answer.
  template <class W = V>
  static auto fnmadd(Reg a, Reg b, Reg c) -> decltype(W::fnmadd(a.r[0], b.r[0], c.r[0]), Reg()) {
    return each([&](std::size_t i) { return W::fnmadd(a.r[i], b.r[i], c.r[i]); });
  }
  template <class W = V>
  static auto reciprocalEstimate(Reg d) -> decltype(W::reciprocalEstimate(d.r[0]), Reg()) {
    return each([&](std::size_t i) { return W::reciprocalEstimate(d.r[i]); });
  }
};

// N registers of V over consecutive memory: a vector of N * V::kLanes lanes.
template <class V, std::size_t N>
struct ConsecutiveVectors : LockstepOps<V, N> {
  using Base = LockstepOps<V, N>;
  using typename Base::Reg;
  using typename Base::Scalar;
  static constexpr std::size_t kLanes = N * V::kLanes;

  static Reg load(const Scalar* p) { return Base::each([&](std::size_t i) { return V::load(p + i * V::kLanes); }); }
  static void store(Scalar* p, Reg v) {
    for (std::size_t i = 0; i < N; ++i) V::store(p + i * V::kLanes, v.r[i]);
  }
  // The first n lanes: whole members, then a part of one; lanes past n read as zero and are not written.
  static Reg loadFirst(const Scalar* p, std::size_t n) {
    return Base::each([&](std::size_t i) {
      const std::size_t begin = i * V::kLanes;
      return n >= begin + V::kLanes ? V::load(p + begin) : n > begin ? V::loadFirst(p + begin, n - begin) : V::zero();
    });
  }
  static void storeFirst(Scalar* p, Reg v, std::size_t n) {
    for (std::size_t i = 0; i < N; ++i) {
      const std::size_t begin = i * V::kLanes;
      if (n >= begin + V::kLanes)
        V::store(p + begin, v.r[i]);
      else if (n > begin)
        V::storeFirst(p + begin, v.r[i], n - begin);
    }
  }
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
