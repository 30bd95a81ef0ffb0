#!/usr/bin/env bash
# make fuzz: runs each cargo-fuzz target for FUZZ_SECONDS (default 60),
# starting from the in-tree corpus (fuzz/corpus/<target>, never written to:
# new inputs go to target/fuzz/corpus/<target>), and prints executions and
# findings per target. Crashes land in fuzz/artifacts/<target>/; minimise one
# with `cargo +nightly fuzz tmin <target> <file>` and add it to the corpus.
#
#   fuzz/run.sh                 # every target
#   fuzz/run.sh config packet   # some of them
#   FUZZ_SECONDS=600 fuzz/run.sh api
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(packet config api)
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz needs a nightly Rust toolchain, and none is installed." >&2
  echo "fuzz: install one with: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz || { echo "fuzz: cannot install cargo-fuzz" >&2; exit 1; }
fi

scratch="${CARGO_TARGET_DIR:-$root/target}/fuzz"
summary=()
failed=0
cd "$here" || exit 2
for t in "${targets[@]}"; do
  if [[ ! -f "fuzz_targets/$t.rs" ]]; then
    echo "fuzz: no target $t (have: packet config api)" >&2
    exit 2
  fi
  mkdir -p "$scratch/corpus/$t" "corpus/$t"
  log="$scratch/$t.log"
  extra=()
  [[ -f "dicts/$t.dict" ]] && extra=("-dict=dicts/$t.dict")
  echo "fuzz: $t for $seconds s (log $log)"
  cargo +nightly fuzz run "$t" "$scratch/corpus/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 "${extra[@]+"${extra[@]}"}" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [[ $rc -eq 0 ]]; then
    summary+=("$t: ${execs:-?} executions (${rate:-?}/s), no crash")
  else
    failed=1
    crash=$(grep -o 'Test unit written to .*' "$log" | tail -1)
    summary+=("$t: FAILED after ${execs:-?} executions: ${crash:-see $log}")
    tail -n 40 "$log" >&2
  fi
done
echo "fuzz: summary (${seconds} s per target)"
printf '  %s\n' "${summary[@]}"
exit $failed
