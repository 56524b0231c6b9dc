#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer (CMakeLists.txt's
# TORCHRNN_SANITIZE) in a copy of the repository, and runs the parity, contract, fuzz and numerics
# suites against that build.
#
#   bash scripts/asan.sh                  (npm run test:asan): the default suites below
#   bash scripts/asan.sh ci               (npm run test:asan -- ci): the parity and fuzz suites, for CI
#   bash scripts/asan.sh test/x.test.ts   (npm run test:asan -- test/x.test.ts ...): the given test files
#
# Why a copy: lib/native.ts finds the addon with node-gyp-build in <package root>/build/Release, which
# the ordinary suite uses. The copy (sources only; node_modules symlinked) gets its own build/Release
# with the sanitized binary, and its own dist/ for the suites that spawn child processes, so nothing in
# the working tree is touched and the normal build keeps working meanwhile.
#
# Node itself is not sanitized, so the ASan runtime is preloaded (it must come first in the process).
# LeakSanitizer is off: V8 keeps memory alive until exit by design and would drown real reports.
# allocator_may_return_null: a refused huge allocation (the fuzz tests ask for some) returns NULL, as
# glibc's malloc does, so the addon's std::bad_alloc path is what is tested rather than an ASan abort.
# Any ASan or UBSan report aborts the process, which fails the suite that caused it.
#
# Environment: TORCHRNN_ASAN_DIR (default: a new directory under /tmp) is where the copy goes and is
# kept for inspection when a suite fails; JEST_ARGS adds jest arguments (e.g. a single suite).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${TORCHRNN_ASAN_DIR:-$(mktemp -d /tmp/torchrnn-asan.XXXXXX)}"
default_suites=(parity-modules parity-cells parity-packed native-contract fuzz-modules fuzz-loaders numerics async native-race)
# CI's set: every parity suite and every fuzz suite, plus the race test, whose point is memory safety.
ci_suites=(parity-modules parity-cells parity-packed parity-large fuzz-modules fuzz-loaders native-race quant-api quant-accuracy)
if [[ $# -eq 0 ]]; then
  files=($(printf 'test/%s.test.ts ' "${default_suites[@]}"))
elif [[ $# -eq 1 && "$1" == ci ]]; then
  files=($(printf 'test/%s.test.ts ' "${ci_suites[@]}"))
else
  files=("$@")
fi
for f in "${files[@]}"; do
  [[ -f "$root/$f" ]] || { echo "asan: no such test file: $f"; exit 2; }
done

started=$(date +%s)
echo "asan: copying the sources to $work"
mkdir -p "$work"
tar -C "$root" -cf - \
  --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./prebuilds --exclude=./.git . | tar -C "$work" -xf -
ln -sfn "$root/node_modules" "$work/node_modules"

cd "$work"
echo "asan: building the addon with -fsanitize=address,undefined"
npx cmake-js rebuild --CDTORCHRNN_SANITIZE=ON --log-level warn > "$work/asan-build.log" 2>&1 || {
  tail -50 "$work/asan-build.log"; exit 1; }
npx tsc -p tsconfig.build.json
built=$(date +%s)

libasan="$(gcc -print-file-name=libasan.so)"
if [[ ! -e "$libasan" ]]; then echo "asan: libasan.so not found (gcc -print-file-name=libasan.so gave $libasan)"; exit 1; fi

echo "asan: running ${files[*]}"
status=0
LD_PRELOAD="$libasan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1:handle_segv=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  npx jest --ci --runInBand ${JEST_ARGS:-} "${files[@]}" 2>&1 | tee "$work/asan-jest.log" || status=$?

finished=$(date +%s)
if grep -qE "ERROR: AddressSanitizer|runtime error:" "$work/asan-jest.log"; then
  echo "asan: sanitizer reports found (see $work/asan-jest.log)"
  status=1
fi
echo "asan: build $((built - started)) s, tests $((finished - built)) s, total $((finished - started)) s; exit status $status"
if [[ $status -eq 0 && -z "${TORCHRNN_ASAN_DIR:-}" ]]; then rm -rf "$work"; fi
exit $status
