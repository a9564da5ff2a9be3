#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs every test twice: in a normal build and
# in an ASan+UBSan build. Also builds the libFuzzer targets with clang and runs each briefly,
# and runs the unit tests (the store's threads among them) in a ThreadSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
jobs=$(nproc)
fail=0

# Node packages for the WebSocket and browser tests (npm registry).
for dir in tests tests/ui; do
	if [ -f "$dir/package.json" ]; then
		(cd "$dir" && npm install --no-audit --no-fund --silent)
	fi
done

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== fuzz targets (clang, libFuzzer): build and run each for a few seconds, $jobs at once"
cmake -S . -B build-fuzz -DFUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$jobs"
# fuzz_one NAME: runs build-fuzz/tests/fuzz/NAME over a copy of its corpus, its log in
# build-fuzz/NAME.log; says how it went; 0 when it found no crash.
fuzz_one() {
	local name="$1" work rc=0
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$work/" 2>/dev/null || true
	"build-fuzz/tests/fuzz/$name" -max_total_time="${FUZZ_SECONDS:-20}" \
		-artifact_prefix=build-fuzz/ "$work" >"build-fuzz/$name.log" 2>&1 || rc=1
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $name FAILED: see build-fuzz/$name.log"
		tail -30 "build-fuzz/$name.log"
	else
		echo "fuzz $name: $(grep -c . "build-fuzz/$name.log") log lines, no crash"
	fi
	return "$rc"
}
running=0
for f in tests/fuzz/fuzz_*.c; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || fail=1
		running=$((running - 1))
	fi
	fuzz_one "$(basename "$f" .c)" &
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	wait -n || fail=1
	running=$((running - 1))
done

# run_suite DIR [CTEST_ARGS...]: the whole suite of one build (or the tests CTEST_ARGS pick). A
# test that fails is run once more, alone; one that then passes is named as FLAKY in the log (to
# be fixed, never to be ignored) and does not fail the run. One that fails again fails it.
run_suite() {
	local dir="$1" failed
	shift
	ctest --test-dir "$dir" --output-on-failure -j2 "$@" && return 0
	failed=$(cut -d: -f2 "$dir/Testing/Temporary/LastTestsFailed.log" | tr '\n' ' ')
	echo "== $dir: failed once: $failed; running them again, one at a time"
	if ctest --test-dir "$dir" --output-on-failure --rerun-failed; then
		echo "FLAKY in $dir (failed once, passed alone): $failed"
		return 0
	fi
	return 1
}

echo "== tests (normal build)"
run_suite build || fail=1

echo "== tests (ASan+UBSan build)"
cmake -S . -B build-asan -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
run_suite build-asan || fail=1

# The integration tests' memory bounds do not hold under ThreadSanitizer's shadow memory, and
# they ran under ASan above: the unit tests drive the threads that share state (the store's
# writer, checkpointer and queue, and the readers beside them).
echo "== unit tests (ThreadSanitizer build)"
cmake -S . -B build-tsan -DSANITIZE_THREADS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_suite build-tsan -L unit || fail=1

exit $fail
