#!/usr/bin/env bash
# Runs the cppnode_ex ExUnit tests against the cppnode executable named by CPPNODE_EXECUTABLE,
# with a private epmd on a free port (stopped on exit). Extra arguments go to `mix test`.
# Needs no network: the Mix project has no dependencies.
# With CPPNODE_EX_WORKDIR set, the project is copied there and built and tested in that copy,
# so that two build trees (ctest sets it to one under each) never share `_build/` or the
# per-test `tmp/` directories ExUnit makes under the working directory.
set -euo pipefail

if [[ -z "${CPPNODE_EXECUTABLE:-}" ]]; then
  echo "run_tests.sh: CPPNODE_EXECUTABLE must name the built cppnode executable," \
    "e.g. CPPNODE_EXECUTABLE=build/app/cppnode $0" >&2
  exit 2
fi
# Resolve it against the caller's directory before changing directory.
CPPNODE_EXECUTABLE=$(realpath -- "$CPPNODE_EXECUTABLE")
if [[ ! -x "$CPPNODE_EXECUTABLE" ]]; then
  echo "run_tests.sh: CPPNODE_EXECUTABLE=$CPPNODE_EXECUTABLE is not an executable file" >&2
  exit 2
fi
export CPPNODE_EXECUTABLE

cd "$(dirname "$0")"
if [[ -n "${CPPNODE_EX_WORKDIR:-}" ]]; then
  mkdir -p "$CPPNODE_EX_WORKDIR"
  rm -rf "$CPPNODE_EX_WORKDIR/lib" "$CPPNODE_EX_WORKDIR/test" "$CPPNODE_EX_WORKDIR/tmp"
  cp -R mix.exs lib test "$CPPNODE_EX_WORKDIR/"
  cd "$CPPNODE_EX_WORKDIR"
fi
export MIX_ENV=test HEX_OFFLINE=1

epmd_pid=""
cleanup() {
  if [[ -n "$epmd_pid" ]]; then
    kill "$epmd_pid" 2>/dev/null || true
    wait "$epmd_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# A private epmd keeps these tests apart from other nodes on the machine. The BEAM
# (erlexec) and cppnode both read ERL_EPMD_PORT. Keep a caller's own choice.
if [[ -z "${ERL_EPMD_PORT:-}" ]]; then
  for _ in $(seq 1 30); do
    port=$((20000 + RANDOM % 40000))
    epmd -port "$port" >/dev/null 2>&1 &
    epmd_pid=$!
    for _ in $(seq 1 100); do
      if ERL_EPMD_PORT=$port epmd -names >/dev/null 2>&1; then break; fi
      kill -0 "$epmd_pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$epmd_pid" 2>/dev/null && ERL_EPMD_PORT=$port epmd -names >/dev/null 2>&1; then
      export ERL_EPMD_PORT=$port
      break
    fi
    # The port was taken: epmd exited; try another.
    wait "$epmd_pid" 2>/dev/null || true
    epmd_pid=""
  done
  if [[ -z "${ERL_EPMD_PORT:-}" ]]; then
    echo "run_tests.sh: could not start a private epmd" >&2
    exit 1
  fi
fi

mix compile --warnings-as-errors >/dev/null
set +e
mix test --warnings-as-errors "$@"
status=$?
set -e
exit "$status"
