#!/usr/bin/env bash
# The SLURM test: a single-node cluster on this machine (scripts/slurm_local_cluster.sh),
# `hipdrop slurm` scripts submitted to it for real, and the merged output compared byte
# for byte with a one-machine run of the same scenario (timing.csv and the wall times in
# runs/*/result.json aside). Then the same with one array task's hipdrop killed with
# SIGKILL mid-shard (the task requeues itself) and the other task requeued by hand while
# it runs (`scontrol requeue`): both resume their shards, and the merge is still identical.
#
#   scripts/slurm_test.sh [HIPDROP_BINARY]     (default: target/release/hipdrop)
#
# Exit codes: 0 passed, 1 failed, 3 cannot run here (the reason on stderr: slurm-wlm or
# munge not installed, not root). Run by tests/slurm.rs (so by `cargo test`); needs
# Debian's slurm-wlm and munge (.ci/run installs them). Takes about 3 minutes, most of it
# SLURM's delay before a requeued job may start again.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$repo" && realpath "${1:-target/release/hipdrop}")
[ -x "$bin" ] || { echo "slurm test: $bin is not an executable (cargo build --release)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hipdrop-slurm-test.XXXXXX")
cluster=$work/cluster
cleanup() {
  "$repo/scripts/slurm_local_cluster.sh" stop "$cluster" || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
set +e
env_line=$("$repo/scripts/slurm_local_cluster.sh" start "$cluster")
rc=$?
set -e
if [ "$rc" -eq 3 ]; then exit 3; fi
if [ "$rc" -ne 0 ]; then echo "slurm test: the cluster did not start (exit $rc)" >&2; exit 1; fi
eval "$env_line"
export SLURM_CONF
cd "$repo"

fail() { echo "slurm test FAILED: $*" >&2; exit 1; }

# Wait for job $1 to leave the queue; print its final state.
wait_job() {
  local id=$1 limit=${2:-600} state=""
  for _ in $(seq 1 "$limit"); do
    state=$(scontrol show job "$id" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) echo "$state"; return 0 ;;
    esac
    sleep 1
  done
  echo "still ${state:-unknown} after ${limit} s"
}

# Byte-identical, wall times aside: every file of the one-machine run $1 is in the merged
# directory $2 with the same bytes (result.json without its wall_time_s line), and the
# merged directory has no other file outside slurm/.
same_output() {
  local whole=$1 merged=$2 n=0 f
  while IFS= read -r f; do
    n=$((n + 1))
    [ -f "$merged/$f" ] || fail "$f is missing in the merged output $merged"
    case "$f" in
      timing.csv) ;;
      */result.json)
        cmp -s <(grep -v '"wall_time_s"' "$whole/$f") <(grep -v '"wall_time_s"' "$merged/$f") \
          || fail "$f differs (wall time aside) between $whole and $merged" ;;
      *) cmp -s "$whole/$f" "$merged/$f" || fail "$f differs between $whole and $merged" ;;
    esac
  done < <(cd "$whole" && find . -type f | sed 's|^\./||' | sort)
  local extra
  extra=$(comm -13 <(cd "$whole" && find . -type f | sort) \
    <(cd "$merged" && find . -type f -not -path './slurm/*' | sort))
  [ -z "$extra" ] || fail "files only in the merged output: $extra"
  echo "  $n files compared: identical (timing.csv and wall times aside)"
}

# Submit with the generated submit.sh; print "ARRAY MERGE".
submit() {
  local s
  s=$(bash "$1/slurm/submit.sh")
  echo "$s" >&2
  echo "$s" | sed -n 's/^submitted: job array \([0-9]*\) .*merge job \([0-9]*\) .*/\1 \2/p'
}

scenario=scenarios/abductor_strength_sweep.toml

echo "== 1. a 3-task job array and its merge"
sets=(--set task.duration_s=0.3 --set output.steady_window_s=0.1
  --set 'sweep.axes.strength.hip_abductors=[1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]')
"$bin" slurm "$scenario" "${sets[@]}" --shards 3 --no-plots --out "$work/a" 2>&1 || fail "hipdrop slurm exit $?"
[ -f "$work/a/slurm/submit.sh" ] || fail "hipdrop slurm wrote no submit.sh"
read -r array merge < <(submit "$work/a")
[ -n "${merge:-}" ] || fail "submit.sh did not print the job ids"
state=$(wait_job "$merge")
echo "  merge job $merge: $state"
[ "$state" = COMPLETED ] || { cat "$work/a/slurm/logs/"* >&2 || true; fail "merge job ended $state"; }
for k in 0 1 2; do
  grep -q "shard $((k + 1))/3: exit code 0" "$work/a/slurm/logs/shard_$k.out" \
    || fail "task $k's log does not say its shard finished: $(cat "$work/a/slurm/logs/shard_$k.out")"
done
"$bin" run "$scenario" "${sets[@]}" --no-plots --quiet --out "$work/whole_a" 2>/dev/null
same_output "$work/whole_a" "$work/a"

echo "== 2. task 0's hipdrop SIGKILLed mid-shard (it requeues itself) and task 1 requeued"
echo "   by hand while running (scontrol requeue: SLURM kills it); both resume; the merge draws"
echo "   the figures"
# 16 runs of 3 s, 8 per shard, so that a shard is still running when a run is done.
sets=(--set task.duration_s=3 --set output.steady_window_s=0.5
  --set 'sweep.axes.strength.hip_abductors=[1.0, 0.97, 0.94, 0.91, 0.88, 0.85, 0.82, 0.79, 0.76, 0.73, 0.7, 0.67, 0.64, 0.61, 0.58, 0.55]')
"$bin" slurm "$scenario" "${sets[@]}" --shards 2 --out "$work/b" 2>&1 || fail "hipdrop slurm exit $?"
read -r array merge < <(submit "$work/b")
[ -n "${merge:-}" ] || fail "submit.sh did not print the job ids"
s1=$work/b/slurm/shards/1-of-2
s2=$work/b/slurm/shards/2-of-2
killed=""
requeued=""
for _ in $(seq 1 3000); do
  if [ -z "$killed" ] && [ ! -f "$s1/manifest.json" ] && compgen -G "$s1/runs/*/result.json" >/dev/null; then
    pid=$(pgrep -f -- "--shard 1/2 --out $s1" | head -1 || true)
    if [ -n "$pid" ]; then
      done_runs=$(compgen -G "$s1/runs/*/result.json" | wc -l)
      kill -9 "$pid"
      killed=$pid
      echo "  killed shard 1/2's hipdrop (pid $pid) with SIGKILL after $done_runs of 8 runs"
    fi
  fi
  if [ -z "$requeued" ] && [ ! -f "$s2/manifest.json" ] && compgen -G "$s2/runs/*/result.json" >/dev/null; then
    done_runs=$(compgen -G "$s2/runs/*/result.json" | wc -l)
    scontrol requeue "${array}_1" && requeued=yes
    echo "  requeued task 1 (shard 2/2) while it ran, after $done_runs of 8 runs"
  fi
  if [ -n "$killed" ] && [ -n "$requeued" ]; then break; fi
  if [ -f "$s1/manifest.json" ] && [ -f "$s2/manifest.json" ]; then break; fi
  sleep 0.02
done
[ -n "$killed" ] || fail "shard 1/2 finished before it could be killed (runs too fast?)"
[ -n "$requeued" ] || fail "shard 2/2 finished before it could be requeued (runs too fast?)"
state=$(wait_job "$merge" 900)
echo "  merge job $merge: $state"
log=$work/b/slurm/logs/shard_0.out
log1=$work/b/slurm/logs/shard_1.out
[ "$state" = COMPLETED ] || { cat "$log" "$log1" >&2 || true; fail "merge job ended $state"; }
grep -q "killed by signal 9; requeueing" "$log" || fail "task 0's log does not show the requeue: $(cat "$log")"
for l in "$log" "$log1"; do
  grep -q "restart 1" "$l" || fail "$l: the task did not run again: $(cat "$l")"
  grep -Eq "shard [12]/2: exit code 0" "$l" || fail "$l: the second run did not finish: $(cat "$l")"
  # The requeued task kept the runs it had completed.
  grep -Eq "[1-8] of 8 runs already complete" "$l" || fail "$l: the requeued task did not keep its completed runs: $(cat "$l")"
done
[ -f "$work/b/report.html" ] || fail "the merge drew no report"
"$bin" run "$scenario" "${sets[@]}" --quiet --out "$work/whole_b" 2>/dev/null
same_output "$work/whole_b" "$work/b"
echo "slurm test passed"
