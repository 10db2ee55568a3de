#!/usr/bin/env bash
# Runs every libFuzzer harness of test/fuzz for a bounded time, one at a time (`make fuzz`).
# usage: run.sh BUILD_DIR SECS [name,name...]
# Seeds: test/fuzz/corpus/<name>/ (read only). New inputs: BUILD_DIR/fuzz-corpus/<name>/;
# crashes, leaks, timeouts: BUILD_DIR/fuzz-crash/<name>/; logs: BUILD_DIR/fuzz-logs/<name>.log.
# Prints one summary line per harness; exits 1 when any harness found something.
set -u
build=${1:?usage: run.sh BUILD_DIR SECS [names]}
secs=${2:-60}
only=${3:-}
src=$(cd "$(dirname "$0")" && pwd)

# name:max_len — about the largest input each parser meets in practice, so the fuzzer spends
# its time on structure rather than on length.
harnesses="names:2048 route:1024 actmsg:8192 bprops:8192 config:8192 tmpl:256 range:128
lom:2048 proto:4096 s3_xml:16384 s3_sigv4:4096 s3_chunked:4096 tar:8192 dsort_spec:4096"

fail=0
printf '%-11s %-8s %10s %8s %8s  %s\n' harness result execs cov corpus artifacts
for hm in $harnesses; do
    name=${hm%%:*}
    maxlen=${hm##*:}
    if [ -n "$only" ] && ! [[ ",$only," == *",$name,"* ]]; then
        continue
    fi
    bin=$build/test/fuzz/fuzz_$name
    corpus=$build/fuzz-corpus/$name
    crash=$build/fuzz-crash/$name
    log=$build/fuzz-logs/$name.log
    mkdir -p "$corpus" "$crash" "$(dirname "$log")"
    if [ ! -x "$bin" ]; then
        printf '%-11s %-8s\n' "$name" missing
        fail=1
        continue
    fi
    "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$crash/" "$corpus" "$src/corpus/$name" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    result=ok
    if [ $rc -ne 0 ]; then
        result=FOUND
        fail=1
    fi
    printf '%-11s %-8s %10s %8s %8s  %s\n' "$name" "$result" "${execs:--}" "${cov:--}" \
        "$(find "$corpus" -type f | wc -l)" "$(ls "$crash" | head -n 3 | tr '\n' ' ')"
done
if [ $fail -ne 0 ]; then
    echo "fuzz: findings above (inputs in $build/fuzz-crash/, logs in $build/fuzz-logs/)"
fi
exit $fail
