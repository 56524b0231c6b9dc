#!/usr/bin/env bash
# Checks the arm64 build from an x86-64 machine: cross-compiles the whole addon for arm64 with node-gyp
# and with cmake-js's CMakeLists.txt (both read binding.gyp's conditions), then builds
# scripts/arm64-kernel-check.cpp (the NEON kernels against the portable ones, and the activations against
# std::) as a static arm64 program and runs it under qemu, along with dispatch's choice for each
# TORCHRNN_ISA.
#
#   bash scripts/arm64-check.sh
#
# Needs the Debian packages g++-aarch64-linux-gnu and qemu-user (or qemu-user-static), cmake, and the
# project's node_modules (node-gyp). Installs nothing itself.
#
# The builds run in a copy of the sources (node_modules symlinked), as scripts/asan.sh does, so build/ of
# the working tree keeps its own addon. Environment: TORCHRNN_ARM64_DIR (default: a new directory under
# /tmp) is where the copy goes; it is kept when a step fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

qemu="$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)"
missing=()
command -v aarch64-linux-gnu-g++ > /dev/null || missing+=(g++-aarch64-linux-gnu)
[[ -n "$qemu" ]] || missing+=(qemu-user)
command -v cmake > /dev/null || missing+=(cmake)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "arm64-check: missing tools; on Debian or Ubuntu: apt-get install -y ${missing[*]}"
  exit 1
fi
[[ -e "$root/node_modules/node-gyp" ]] || { echo "arm64-check: run npm install first (node-gyp is needed)"; exit 1; }

work="${TORCHRNN_ARM64_DIR:-$(mktemp -d /tmp/torchrnn-arm64.XXXXXX)}"
mkdir -p "$work/src"
tar -C "$root" -cf - \
  --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./prebuilds --exclude=./.git . | tar -C "$work/src" -xf -
ln -sfn "$root/node_modules" "$work/src/node_modules"
cd "$work/src"

# An arm64 addon must be ELF aarch64 and leave none of the engine's own symbols undefined: a shared
# object links with them missing, and would only fail when Node loads it.
check_addon() {
  local file="$1" build="$2" kind symbols undefined
  kind="$(file -b "$file")"
  [[ "$kind" == *"ARM aarch64"* ]] || { echo "arm64-check: $build built $kind"; exit 1; }
  symbols="$(aarch64-linux-gnu-nm -C "$file")"
  undefined="$(aarch64-linux-gnu-nm -C -u "$file")"
  if [[ "$undefined" == *"torchrnn::"* ]]; then
    grep "torchrnn::" <<< "$undefined"
    echo "arm64-check: $build left the symbols above undefined"; exit 1
  fi
  [[ "$symbols" == *"neonKernelsF32"* ]] || { echo "arm64-check: $build has no NEON kernels"; exit 1; }
  echo "arm64-check: $build: $(file -b "$file" | cut -d, -f1-2), NEON kernels linked, nothing of ours undefined"
}

echo "arm64-check: node-gyp rebuild --arch=arm64 (log: $work/node-gyp.log)"
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  npx node-gyp rebuild --arch=arm64 -j max > "$work/node-gyp.log" 2>&1 || { tail -30 "$work/node-gyp.log"; exit 1; }
check_addon build/Release/torchrnn.node node-gyp

echo "arm64-check: CMakeLists.txt with an aarch64 compiler (log: $work/cmake.log)"
{
  cmake -S . -B "$work/cmake" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ -DCMAKE_JS_INC="$(node -p "require('path').resolve(process.execPath, '../../include/node')")" &&
  cmake --build "$work/cmake" -j "$(nproc)"
} > "$work/cmake.log" 2>&1 || { tail -30 "$work/cmake.log"; exit 1; }
check_addon "$work/cmake/torchrnn.node" cmake

echo "arm64-check: building scripts/arm64-kernel-check.cpp for arm64"
# The kernel units dispatch can reach on arm64, with binding.gyp's flags (the NEON library has none).
units=(native/kernels/neon_kernels.cpp native/kernels/portable.cpp native/kernels/packing.cpp
       native/kernels/dispatch.cpp native/kernels/cpu_features.cpp scripts/arm64-kernel-check.cpp)
objects=()
for unit in "${units[@]}"; do
  object="$work/$(basename "$unit" .cpp).o"
  aarch64-linux-gnu-g++ -std=c++17 -O3 -Wall -Wextra -c "$unit" -o "$object" &
  objects+=("$object")
done
for job in $(jobs -p); do wait "$job"; done
aarch64-linux-gnu-g++ -static "${objects[@]}" -o "$work/arm64-kernel-check"

echo "arm64-check: running it under $(basename "$qemu")"
"$qemu" "$work/arm64-kernel-check"

# What dispatch picks: NEON by default and for any family it cannot run, scalar on request.
expect_backend() {
  local isa="$1" want="$2" got
  got="$(TORCHRNN_ISA="$isa" "$qemu" "$work/arm64-kernel-check" --backend || true)"
  if [[ "$got" != "$want" ]]; then echo "arm64-check: TORCHRNN_ISA='$isa' gave '$got', want '$want'"; exit 1; fi
  echo "arm64-check: TORCHRNN_ISA='$isa' -> $got"
}
expect_backend "" neon
expect_backend neon neon
expect_backend scalar scalar
expect_backend avx512 neon
expect_backend avx2 neon
expect_backend sse9 "error: TORCHRNN_ISA must be one of avx512, avx2, neon, scalar, got 'sse9'"

echo "arm64-check: all passed"
[[ -n "${TORCHRNN_ARM64_DIR:-}" ]] || rm -rf "$work"
