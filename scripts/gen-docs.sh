#!/usr/bin/env bash
# Regenerates the documentation made from relaysum's argument definitions, which is committed:
#   docs/man/relaysum.1               the man page (swift-argument-parser's generate-manual plugin)
#   contrib/completions/relaysum.bash  shell completions (relaysum --generate-completion-script)
#   contrib/completions/_relaysum      (zsh)
#   contrib/completions/relaysum.fish
# and, with --screenshot, docs/report.png: `relaysum report --html` of the last week of a generated relay (the
# scenario of the README's tour) after an `anomalies` run, rendered by headless Chromium (Debian package chromium).
#
# Usage: scripts/gen-docs.sh [--screenshot]
# Run it after changing a command, option or help text, and commit what changed. SCRATCH picks the build folder
# (default .build). Install: man page to /usr/local/share/man/man1/, completions to your shell's directory
# (bash: /usr/share/bash-completion/completions/relaysum, zsh: a directory in $fpath, fish:
# ~/.config/fish/completions/).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build}

swift build --scratch-path "$scratch" --product relaysum
bin="$scratch/debug/relaysum"

# The page's date is that of the last change to the commands, so regenerating unchanged help changes nothing.
date=$(git log -1 --format=%cs -- Sources/relaysum 2>/dev/null || true)
date=${date:-$(date -u +%F)}
swift package --scratch-path "$scratch" plugin generate-manual --configuration debug --date "$date" \
    --authors "relaysum contributors"
mkdir -p docs/man
cp "$scratch/plugins/GenerateManual/outputs/relaysum/relaysum.1" docs/man/relaysum.1

mkdir -p contrib/completions
"$bin" --generate-completion-script bash >contrib/completions/relaysum.bash
"$bin" --generate-completion-script zsh >contrib/completions/_relaysum
"$bin" --generate-completion-script fish >contrib/completions/relaysum.fish

if [ "${1:-}" = "--screenshot" ]; then
    command -v chromium >/dev/null || { echo "gen-docs: --screenshot needs chromium (apt-get install chromium)" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # A generated Exim relay with a month of history and one incident of each kind (Benchmarks/scenarios.py), so
    # the page shows compromised windows as well as review ones.
    python3 Benchmarks/scenarios.py --seed 5 --out "$tmp/scenario" --mta exim --accounts 14 --days 31 \
        --eval-days 4 --per-kind 1 --outages 1 >/dev/null
    "$bin" ingest --db "$tmp/sample.sqlite" --quiet "$tmp/scenario/exim/mainlog"
    "$bin" anomalies --db "$tmp/sample.sqlite" --format csv >/dev/null
    "$bin" report --db "$tmp/sample.sqlite" --since 2026-10-29 --html "$tmp/report.html"
    # The "made" stamp is the only thing that changes between runs.
    sed -i "s/ · made [0-9-]* [0-9:]* UTC//" "$tmp/report.html"
    chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$tmp/profile" \
        --window-size=1200,1900 --screenshot="$tmp/report.png" "file://$tmp/report.html" 2>/dev/null
    mkdir -p docs
    cp "$tmp/report.png" docs/report.png
fi
echo "gen-docs: docs/man/relaysum.1 and contrib/completions/ regenerated; review with git diff"
