#!/usr/bin/env bash
# Runs every fuzz target (or those named) for N seconds each with cargo-fuzz
# (libFuzzer, coverage-guided) on the stable toolchain: RUSTC_BOOTSTRAP=1
# lets cargo-fuzz pass its -Z flags. Seeds come from corpus/<target>/ and
# regressions/<target>/; what the fuzzer learns goes to work/<target>/ (not
# committed). A crash leaves its input in artifacts/<target>/: copy it into
# regressions/<target>/ and fix the code. Exits non-zero if any target
# crashed.
#
#   fuzz/run.sh [--seconds N] [TARGET...]      (default 60 s each)
set -uo pipefail
cd "$(dirname "$0")"

seconds=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(import_rows query_filters evaluation_input codes)

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# No sanitizer: our crates forbid unsafe code, and without ASan the build is
# faster and each run cheaper. Debug assertions on, so overflows panic.
flags=(--sanitizer none --debug-assertions)
cargo fuzz build "${flags[@]}" || exit 2

failed=()
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "regressions/$t" "artifacts/$t"
    log="work/$t.log"
    echo "== $t: ${seconds} s"
    cargo fuzz run "${flags[@]}" "$t" "work/$t" "corpus/$t" "regressions/$t" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "$t: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, exit ${status}"
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        grep -E 'panicked|ERROR|Test unit written' "$log" | head -5
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "no crash in ${#targets[@]} targets"
