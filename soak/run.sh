#!/usr/bin/env bash
# op25b soak (make soak): builds a release op25bd from this tree, then runs
# soak/soak.py for SOAK_SECONDS (default 180). Not part of CI.
#
#   SOAK_SECONDS=600 soak/run.sh            # ten minutes
#   soak/run.sh --bin /path/to/op25bd       # an existing build
#   soak/run.sh --help                      # soak.py's options
#   python3 soak/soak.py --self-test        # the memory check on known series
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  exec python3 "$here/soak.py" --help
fi
if ! command -v python3 >/dev/null; then
  echo "soak: python3 is needed (apt-get install -y python3)" >&2
  exit 2
fi
if [[ $EUID -ne 0 ]]; then
  echo "soak: DPDK needs root here (runtime directory under /var/run/dpdk)" >&2
  exit 2
fi

bin=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
# The memory check must be able to fail: it is run on known leaking and
# flat series first (a second; no op25bd needed).
python3 "$here/soak.py" --self-test
if [[ -z "$bin" ]]; then
  (cd "$root" && ${CARGO:-cargo} build --release -p op25bd)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/op25bd"
fi
exec python3 "$here/soak.py" --bin "$bin" --seconds "${SOAK_SECONDS:-180}" "${args[@]+"${args[@]}"}"
