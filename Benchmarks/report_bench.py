#!/usr/bin/env python3
"""Report benchmark: `summary`, `license`, `rejects` and `export` over a database of 10 million messages.

    python3 Benchmarks/report_bench.py                      # build, synthesise (or reuse) the database, time, record
    python3 Benchmarks/report_bench.py --messages 1000000   # a smaller database
    python3 Benchmarks/report_bench.py --no-build --reuse   # time again on the database already there

Steps: builds relaysum in release (`swift build -c release --scratch-path .build-reports-rel`); writes the database
Benchmarks/data/reports-<N>.sqlite by running the test `ReportBenchmarkDatabase` in release with RELAYSUM_BENCH_DB
set (synthetic messages through RelayStore.write, the ingest's own write path, so the aggregates are maintained as
an ingest maintains them; see Tests/ReportsTests/ReportBenchmarkDatabase.swift); reads the file once (warm page
cache); times every command --runs times round-robin under /usr/bin/time -v (wall from a monotonic clock, peak
RSS); prints the medians as a markdown table and writes it into BENCHMARKS.md between its own markers.

Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ".build-reports-rel"
BEGIN, END = "<!-- report_bench.py: begin -->", "<!-- report_bench.py: end -->"
TARGET_SECONDS = 2.0

# (label, arguments after `relaysum`, counts toward the 2 s target)
CASES = [
    ("summary --by sender, whole month", ["summary", "--by", "sender"], True),
    ("summary --by sender-domain, whole month", ["summary", "--by", "sender-domain"], True),
    ("summary --by account, whole month", ["summary", "--by", "account"], True),
    ("summary --by client-ip, whole month", ["summary", "--by", "client-ip"], True),
    ("summary --by recipient-domain, whole month", ["summary", "--by", "recipient-domain"], True),
    ("summary --by recipient-domain, last 24 h",
     ["summary", "--by", "recipient-domain", "--since", "2026-10-31T06:30", "--until", "2026-11-01T06:30"], True),
    ("summary --by recipient-domain, 14 days to the minute",
     ["summary", "--by", "recipient-domain", "--since", "2026-10-10T09:17", "--until", "2026-10-24T17:43"], True),
    ("summary --by account, 14 days to the minute",
     ["summary", "--by", "account", "--since", "2026-10-10T09:17", "--until", "2026-10-24T17:43"], True),
    ("summary --by sender --top 20, last 24 h",
     ["summary", "--by", "sender", "--top", "20", "--since", "2026-10-31T06:30", "--until", "2026-11-01T06:30"], True),
    ("summary --by client-ip --sender cust1.example, whole month",
     ["summary", "--by", "client-ip", "--sender", "cust1.example"], True),
    ("summary --by account --sort bytes --top 10 --host relay2.example",
     ["summary", "--by", "account", "--sort", "bytes", "--top", "10", "--host", "relay2.example"], True),
    ("license (distinct sending domains)", ["license"], True),
    ("license --by account", ["license", "--by", "account"], True),
    ("license --by account --registrable", ["license", "--by", "account", "--registrable"], True),
    ("license --count, 14 days to the minute",
     ["license", "--count", "--since", "2026-10-10T09:17", "--until", "2026-10-24T17:43"], True),
    ("rejects --by client-ip (rows, no aggregates)", ["rejects", "--by", "client-ip"], False),
    ("summary --by sender --sender news --recipients --top 5, last 24 h (rows)",
     ["summary", "--by", "sender", "--sender", "news", "--recipients", "--top", "5",
      "--since", "2026-10-31T06:30", "--until", "2026-11-01T06:30"], False),
]
EXPORT = ("export messages (every row, CSV)", ["export", "messages"])


def run(cmd: list[str], env: dict | None = None, quiet: bool = False) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, check=True, env=env,
                   stdout=subprocess.DEVNULL if quiet else None)


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MiB and the command's stdout head, under /usr/bin/time -v."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss, p.stdout[:400].decode(errors="replace")


def main() -> int:
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("--messages", type=int, default=10_000_000)
    a.add_argument("--runs", type=int, default=5)
    a.add_argument("--no-build", action="store_true")
    a.add_argument("--reuse", action="store_true", help="keep the database if it is there")
    a.add_argument("--no-export", action="store_true", help="skip the export of every row")
    a.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = a.parse_args()

    data = ROOT / "Benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
    db = data / f"reports-{args.messages}.sqlite"
    binary = ROOT / SCRATCH / "release" / "relaysum"
    if not args.no_build:
        run(["swift", "build", "-c", "release", "--scratch-path", SCRATCH])
    synthesis = {}
    meta = Path(str(db) + ".json")
    if args.reuse and db.exists() and meta.exists():
        synthesis = json.loads(meta.read_text())
    else:
        env = dict(os.environ, RELAYSUM_BENCH_DB=str(db), RELAYSUM_BENCH_MESSAGES=str(args.messages))
        run(["swift", "test", "-c", "release", "--scratch-path", SCRATCH, "--filter", "ReportBenchmarkDatabase"],
            env=env)
        synthesis = json.loads(meta.read_text())
    with open(db, "rb") as f:  # warm page cache
        while f.read(1 << 24):
            pass

    common = ["--db", str(db), "--timezone", "UTC", "--format", "csv"]
    walls: dict[str, list[float]] = {label: [] for label, _, _ in CASES}
    rss: dict[str, float] = {}
    heads: dict[str, str] = {}
    for _ in range(args.runs):
        for label, argv, _ in CASES:
            w, r, head = timed([str(binary)] + argv + common)
            walls[label].append(w)
            rss[label] = max(rss.get(label, 0), r)
            heads[label] = head
    export = None
    if not args.no_export:
        w, r, _ = timed(["sh", "-c", f"'{binary}' export messages --db '{db}' > /dev/null"])
        export = (w, r)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "## Reports: summary and license over 10 million messages",
        "",
        f"Measured {now} by `python3 Benchmarks/report_bench.py"
        + (f" --messages {args.messages}" if args.messages != 10_000_000 else "") + "` "
        + f"({args.runs} runs of each command, round-robin; medians; warm page cache; release build).",
        "",
        f"Database: {synthesis.get('messages', 0):,} messages, {synthesis.get('recipient_rows', 0):,} recipient rows, "
        f"~3 % rejected attempts, 4 relays, 5,000 customers, 31 days (2026-10-01 to 2026-11-01), "
        f"{os.path.getsize(db) / 2**30:.2f} GiB, synthesised through `RelayStore.write` (the ingest's write path, "
        f"aggregates included) at {synthesis.get('messages_per_second', 0):,.0f} messages/s "
        f"({synthesis.get('seconds', 0):.0f} s).",
        "",
        "| command | wall s (median) | min–max s | peak RSS MiB | target ≤ 2 s |",
        "|---|---|---|---|---|",
    ]
    met = True
    for label, _, counts in CASES:
        m = statistics.median(walls[label])
        ok = m <= TARGET_SECONDS
        met &= ok or not counts
        lines.append(f"| {label} | {m:.2f} | {min(walls[label]):.2f}–{max(walls[label]):.2f} | {rss[label]:.0f} | "
                     + (("met" if ok else "**NOT met**") if counts else "(no target)") + " |")
    if export:
        lines.append(f"| {EXPORT[0]} | {export[0]:.1f} (1 run) |  | {export[1]:.0f} |  (constant memory) |")
    lines += [
        "",
        "Every summary and licence case above is " + ("under 2 s." if met else "NOT all under 2 s."),
        "How: day buckets kept at ingest (migration v2): `message_buckets` (relay × sender × account × client IP) "
        "and `recipient_domain_buckets` (relay × recipient domain). A period reads its whole days from them and "
        "only the partial days at its edges from the rows (`messages_received_at`; recipient domains grouped while "
        "streaming, one message at a time). `--recipients`, `--ids` and `rejects` read rows.",
        "",
        "Commands (relaysum = `.build-reports-rel/release/relaysum`, each with "
        f"`--db Benchmarks/data/reports-{args.messages}.sqlite --timezone UTC --format csv > /dev/null`):",
        "",
        "```sh",
        f"RELAYSUM_BENCH_DB=Benchmarks/data/reports-{args.messages}.sqlite RELAYSUM_BENCH_MESSAGES={args.messages} "
        f"swift test -c release --scratch-path {SCRATCH} --filter ReportBenchmarkDatabase",
    ]
    lines += ["relaysum " + " ".join(argv) for _, argv, _ in CASES] + ["relaysum " + " ".join(EXPORT[1]), "```", END]
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text() if path.exists() else "# Benchmarks\n\n"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + section.rstrip("\n") + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section
        path.write_text(text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
