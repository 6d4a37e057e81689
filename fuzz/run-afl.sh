#!/usr/bin/env bash
# The long run: every fuzz target (or the ones named) under AFL++ with SharpFuzz instrumentation, one afl-fuzz
# per target, for SECONDS each (default 600), one after another (FUZZ_PARALLEL=1 runs them side by side: use it on a
# machine with a core per target). Findings land in fuzz/out/<target>/default/{crashes,hangs}; a summary line per
# target (executions, paths, crashes, hangs) is printed at the end and written to fuzz/out/summary.tsv, ready for
# docs/fuzzing.md. Wrong accepts are crashes here: every oracle failure is an exception.
#
#   fuzz/run-afl.sh [SECONDS] [TARGET...]
#
# Needs: afl++ (apt-get install afl++), the SharpFuzz instrumenter
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0), the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
out=fuzz/out
bin="$out/bin"
export PATH="$PATH:$HOME/.dotnet/tools"

for tool in afl-fuzz sharpfuzz dotnet; do
  command -v "$tool" >/dev/null || { echo "run-afl.sh: $tool not found; see fuzz/README.md" >&2; exit 2; }
done

# Two copies of the runner: a plain one (to sort the seeds) and one whose product assemblies carry AFL++ edge
# instrumentation (instrumented code only runs under afl-fuzz, where SharpFuzz maps the coverage memory).
plain="$out/plain"
rm -rf "$bin" "$plain"
dotnet publish fuzz/SecureDra.Fuzz.Runner -c Release -o "$plain" -nologo -v q
cp -r "$plain" "$bin"
for assembly in SecureDra.Api SecureDra.Kube SecureDra.KubeletPlugin SecureDra.Controller YamlDotNet; do
  sharpfuzz "$bin/$assembly.dll"
done

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(dotnet "$plain/securedra-fuzz.dll" list)
fi

# AFL++ checks the binary for its own instrumentation; ours is inside the .NET assemblies instead.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1
pids=()
for target in "${targets[@]}"; do
  dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=(-x "fuzz/dict/$target.dict")
  rm -rf "$out/$target" "$out/$target.in"
  # AFL++ refuses to start on a seed that crashes: seeds that reproduce a known, not yet fixed defect (a finding in
  # the replay) stay out of its input and are listed, so the campaign still runs and looks for new ones.
  mkdir -p "$out/$target.in"
  dotnet "$plain/securedra-fuzz.dll" replay "$target" "fuzz/corpus/$target" > "$out/$target.replay" || true
  for seed in fuzz/corpus/"$target"/*; do
    if grep -qF "$seed: FINDING" "$out/$target.replay"; then
      echo "run-afl.sh: $target: seed $(basename "$seed") reproduces a known finding; left out of the AFL++ input" >&2
    else
      cp "$seed" "$out/$target.in/"
    fi
  done
  # -t: a hang is an input that takes over 5 s (the same bound as the CI smoke); -m none: the CLR reserves a lot of address space.
  cmd=(timeout --signal=INT "$((seconds + 30))" afl-fuzz -i "$out/$target.in" -o "$out/$target" -V "$seconds" -t 5000 -m none "${dict[@]}"
       -- dotnet "$bin/securedra-fuzz.dll" afl "$target")
  if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    "${cmd[@]}" > "$out/$target.log" 2>&1 &
    pids+=($!)
  else
    mkdir -p "$out"
    "${cmd[@]}" > "$out/$target.log" 2>&1 || echo "run-afl.sh: afl-fuzz for $target ended with $? (see $out/$target.log)" >&2
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

printf 'target\texecutions\tpaths\tcrashes\thangs\tseconds\n' | tee "$out/summary.tsv"
for target in "${targets[@]}"; do
  stats="$out/$target/default/fuzzer_stats"
  if [ -f "$stats" ]; then
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$(get execs_done)" "$(get corpus_count)" "$(get saved_crashes)" "$(get saved_hangs)" "$(get run_time)" | tee -a "$out/summary.tsv"
  else
    printf '%s\tno fuzzer_stats (see %s)\n' "$target" "$out/$target.log" | tee -a "$out/summary.tsv"
  fi
done
