#!/usr/bin/env bash
# Fuzzes one target with libFuzzer and AddressSanitizer (RELIABILITY.md, "Fuzzing").
#
#   Fuzz/run.sh TARGET [SECONDS] [libFuzzer flags…]     TARGET: postfix exim envelope gzip correlate
#
# Builds `relaysum-fuzz` twice: plainly (to cut a seed corpus from Fixtures/logs) and with
# `-sanitize=fuzzer,address`. The corpus grows in Fuzz/corpus/TARGET (not committed); crashes land in
# Fuzz/artifacts/TARGET. Scratch paths: $FUZZ_SCRATCH (default .build-fuzz) and $PLAIN_SCRATCH (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/run.sh TARGET [SECONDS] [libFuzzer flags]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
fuzz_scratch=${FUZZ_SCRATCH:-.build-fuzz}
plain_scratch=${PLAIN_SCRATCH:-.build}

swift build --scratch-path "$plain_scratch" --product relaysum-fuzz >&2
swift build -c release --scratch-path "$fuzz_scratch" --product relaysum-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DRELAYSUM_LIBFUZZER >&2

seeds=Fuzz/seeds/$target
corpus=Fuzz/corpus/$target
artifacts=Fuzz/artifacts/$target
mkdir -p "$seeds" "$corpus" "$artifacts"
"$plain_scratch/debug/relaysum-fuzz" seed "$target" "$seeds" \
    Fixtures/logs/postfix/*.log Fixtures/logs/exim/*.log Fixtures/logs/sample/mail.log* Fixtures/logs/sample/mainlog*
if [ "$target" = gzip ]; then
    # Small gzip files too: whole members, several members, and members cut short.
    for f in Fixtures/logs/postfix/*.log Fixtures/logs/exim/*.log; do
        b=$seeds/gz-$(basename "$f")
        head -c 1500 "$f" | gzip -n > "$b.gz"
        { head -c 700 "$f" | gzip -n; tail -c 700 "$f" | gzip -1 -n; } > "$b.2members.gz"
        head -c $(( $(stat -c %s "$b.gz") - 9 )) "$b.gz" > "$b.cut.gz"
    done
fi
max_len=4096
case $target in gzip) max_len=8192 ;; correlate) max_len=2048 ;; esac
RELAYSUM_FUZZ_TARGET=$target "$fuzz_scratch/release/relaysum-fuzz" "$corpus" "$seeds" \
    -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@"
