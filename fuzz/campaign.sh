#!/usr/bin/env bash
# A fuzzing campaign: every target (or the ones named) runs for SECONDS, one after the other,
# then its committed corpus is replaced by the minimised union of what it had and what the
# run found. Ends with a table: executions, exec/s, coverage (libFuzzer's cov: and ft:),
# peak RSS, corpus before and after, and whether the run found a crash, hang or leak.
#
#   fuzz/campaign.sh [SECONDS] [TARGET...]       (default: 600 s, every target)
#
# Needs nightly and cargo-fuzz. The targets are built once, up front (release, with debug
# assertions and overflow checks, AddressSanitizer, LeakSanitizer), and then run directly,
# so editing the sources during a campaign changes nothing in it. Works in
# fuzz/corpus-work/ (ignored by git; the log of each target is fuzz/corpus-work/<target>.log)
# and writes fuzz/corpus/<target>/; fuzz/regressions/<target>/ (inputs that once found a bug)
# seeds the run and is never rewritten. Inputs are capped at MAX_LEN bytes (default 1024) so the
# corpora stay small enough to replay in `cargo test`. A target that fails keeps its corpus
# untouched and makes the script exit 1; the crash input is in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
max_len=${MAX_LEN:-1024}
bin_dir=fuzz/target/x86_64-unknown-linux-gnu/release

cargo +nightly fuzz build >/dev/null 2>&1 || cargo +nightly fuzz build || exit 1

status=0
summary=()
for t in "${targets[@]}"; do
  work=fuzz/corpus-work/$t
  log=fuzz/corpus-work/$t.log
  mkdir -p "$work" "fuzz/artifacts/$t"
  before=$(ls fuzz/corpus/"$t" | wc -l)
  echo "==> $t: ${seconds}s (corpus: $before inputs)" >&2
  seeds=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  "$bin_dir/$t" "$work" "${seeds[@]}" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  rss=$(stat peak_rss_mb)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  after=$before
  if [ $rc -ne 0 ]; then
    status=1
    verdict="FAILED (exit $rc, see $log)"
  else
    verdict="no crash, hang or leak"
    # Minimise the union into a fresh directory, then make it the committed corpus.
    fresh=fuzz/corpus-work/$t.min
    rm -rf "$fresh"
    mkdir -p "$fresh"
    if "$bin_dir/$t" -merge=1 "$fresh" "fuzz/corpus/$t" "$work" -max_len="$max_len" \
      -timeout=10 >>"$log" 2>&1; then
      rm -rf "fuzz/corpus/$t"
      mv "$fresh" "fuzz/corpus/$t"
      after=$(ls fuzz/corpus/"$t" | wc -l)
    else
      status=1
      verdict="$verdict; merge FAILED (see $log)"
    fi
  fi
  summary+=("$(printf '%-30s %12s %8s %-20s %6s MB %5s -> %-5s %s' "$t" "$execs" "$rate" \
    "$cov" "$rss" "$before" "$after" "$verdict")")
done

printf '\n%-30s %12s %8s %-20s %9s %14s %s\n' target executions exec/s coverage "peak RSS" \
  "corpus" result
for line in "${summary[@]}"; do echo "$line"; done
exit $status
