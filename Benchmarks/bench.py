#!/usr/bin/env python3
"""Ingest benchmark: relaysum side by side with pflogsumm and eximstats, on the same files, in one run.

    python3 Benchmarks/bench.py                 # quick set: ~200 MB Postfix log + the Exim log of the same traffic
    python3 Benchmarks/bench.py --full          # 1 GB and 4 GB (takes a while; needs ~25 GB of disk)
    python3 Benchmarks/bench.py --profile       # also perf-profile one Postfix ingest ("where the time goes")

Steps: builds relaysum in release as the README installs it (`swift build -c release --static-swift-stdlib
--scratch-path .build-bench`), generates the logs with Benchmarks/genlog.py into Benchmarks/data/ (reused when the
generator and its arguments are unchanged), times every case with /usr/bin/time -v (peak RSS, CPU) and a monotonic
clock (wall), --runs times round-robin (each timed run right after an untimed warm-up run of the same command and
a few seconds' settle), and prints the median as a markdown table, which it also writes into BENCHMARKS.md between
its own markers.

Python 3.11, standard library only. Installs nothing: it says which `apt-get install` line is missing.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "Benchmarks"
GENLOG = BENCH / "genlog.py"
SCRATCH = ".build-bench"
MB = 1_000_000
MIB = 1024 * 1024
YEAR = "2026"  # the generator's default --start is 2026-11-07; classic stamps are read with --year 2026
TZ = "UTC"  # the generator's default --tz is +00:00
# Traffic: 14 days of a relay (the log stops at the target size, before the last day), one seed, the generator's
# defaults otherwise. Exim uses the 16-character message IDs: eximstats from Debian 12's exim4-base (4.96) does
# not recognise the 23-character IDs of Exim 4.97+ and would count nothing.
GEN_COMMON = ["--seed", "1", "--days", "14", "--start", "2026-11-07T00:00:00", "--host", "relay1.example"]
APPEND_SHARE = 0.01

BEGIN, END = "<!-- bench.py ingest: begin -->", "<!-- bench.py ingest: end -->"
PBEGIN, PEND = "<!-- bench.py profile: begin -->", "<!-- bench.py profile: end -->"
SUMMARIES_HEADING = "## Summaries and licence over 10 M messages"


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def die(msg, code=2):
    say(f"bench.py: {msg}")
    sys.exit(code)


def rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


# ---------------------------------------------------------------- machine and load


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores)."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def busy_cores(seconds=1.0) -> float:
    a = cpu_busy_seconds()
    time.sleep(seconds)
    return (cpu_busy_seconds() - a) / seconds


def wait_quiet(threshold: float, max_wait: float) -> float:
    """Waits (up to max_wait s) until other processes use less than `threshold` cores; returns the last reading."""
    t0 = time.monotonic()
    b = busy_cores(0.5)
    while b > threshold and time.monotonic() - t0 < max_wait:
        b = busy_cores(2.0)
    return b


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    swift = run_text(["swift", "--version"]).splitlines()
    versions = {}
    for pkg in ("pflogsumm", "exim4-base", "sqlite3", "libsqlite3-0", "zlib1g", "linux-perf"):
        v = run_text(["dpkg-query", "-W", "-f", "${Version}", pkg]).strip()
        if v:
            versions[pkg] = v
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "swift": next((s for s in swift if "Swift version" in s), "?").strip(),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "packages": versions,
        "commit": head_commit(),
    }


def head_commit() -> str:
    """The checked-out commit, read from .git without running git."""
    try:
        git = ROOT / ".git"
        common = git
        if git.is_file():  # a worktree: `gitdir: <main>/.git/worktrees/<name>`, whose refs live in the main .git
            git = Path(git.read_text().split("gitdir:", 1)[1].strip())
            common = (git / (git / "commondir").read_text().strip()).resolve() if (git / "commondir").exists() else git
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        for d in (git, common):
            if (d / ref).exists():
                return (d / ref).read_text().strip()[:12]
        for line in (common / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        pass
    return "?"


def run_text(cmd) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    except OSError:
        return ""


# ---------------------------------------------------------------- tools


def check_tools(args):
    missing = []
    if not shutil.which("swift") and not args.bin:
        missing.append("swift (the Swift 6.3 toolchain, on PATH)")
    if not Path("/usr/bin/time").exists():
        missing.append("apt-get install -y time")
    if not shutil.which("gzip"):
        missing.append("apt-get install -y gzip")
    if not args.no_ref:
        if not shutil.which("pflogsumm"):
            missing.append("apt-get install -y pflogsumm")
        if not shutil.which("eximstats"):
            missing.append("apt-get install -y --no-install-recommends exim4-base   # for eximstats")
    if args.profile and not shutil.which("perf"):
        missing.append("apt-get install -y linux-perf")
    if missing:
        die("missing tools (run `apt-get update` first):\n  " + "\n  ".join(missing)
            + ("\n(or pass --no-ref to time relaysum alone)" if not args.no_ref else ""))


def build(args) -> Path:
    if args.bin:
        b = Path(args.bin).resolve()
        if not b.exists():
            die(f"{b}: no such binary")
        return b
    cmd = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path", SCRATCH,
           "--product", "relaysum"]
    if not args.no_build:
        say("$ " + " ".join(cmd))
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            say((r.stdout + r.stderr)[-4000:])
            die("release build failed", 1)
    binpath = subprocess.run(cmd[:-2] + ["--show-bin-path"], cwd=ROOT, capture_output=True, text=True)
    b = Path(binpath.stdout.strip()) / "relaysum"
    if not b.exists():
        die(f"{b}: not built (drop --no-build)")
    return b


# ---------------------------------------------------------------- data


def genlog_digest() -> str:
    return hashlib.sha256(GENLOG.read_bytes()).hexdigest()


def generate(data: Path, name: str, gen_args: list[str]) -> Path:
    """Runs genlog.py into data/<name>-<key>/, or reuses it when the generator and arguments are unchanged."""
    key = hashlib.sha256(json.dumps([gen_args, genlog_digest()]).encode()).hexdigest()[:10]
    out = data / f"{name}-{key}"
    done = out / ".complete"
    if done.exists():
        say(f"reusing {rel(out)}")
        return out
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, str(GENLOG)] + gen_args + ["--out", str(out)]
    say("$ " + " ".join(rel(c) if c.startswith("/") else c for c in cmd[1:]))
    subprocess.run(cmd, check=True)
    (out / "genlog-args.json").write_text(json.dumps({"args": gen_args}, indent=1) + "\n")
    done.write_text("")
    return out


def gzip_copy(src: Path, dst: Path) -> Path:
    """`gzip -6 -n` (logrotate's default level), made once and reused."""
    done = dst.with_name(dst.name + ".complete")
    if done.exists() and dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    say(f"$ gzip -6 -n -c {rel(src)} > {rel(dst)}")
    with open(dst, "wb") as f:
        subprocess.run(["gzip", "-6", "-n", "-c", str(src)], stdout=f, check=True)
    done.write_text("")
    return dst


def truth(dirpath: Path) -> dict:
    return json.loads((dirpath / "truth-totals.json").read_text())


def file_lines(t: dict, mta: str) -> int:
    return sum(f["lines"] for f in t["files"][mta])


def warm(paths):
    """Reads the inputs once so every tool starts from the same warm page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(8 * MIB):
                pass


class Appendable:
    """One log file that is set to its first `base_lines` lines plus the first n lines of the rest."""

    def __init__(self, src: Path, workdir: Path, share: float):
        workdir.mkdir(parents=True, exist_ok=True)
        self.work = workdir / "mail.log"
        self.tail = workdir / "tail.log"
        meta = workdir / "split.json"
        key = {"src": str(src), "size": src.stat().st_size, "mtime": src.stat().st_mtime, "share": share}
        if (meta.exists() and json.loads(meta.read_text()).get("key") == key and self.tail.exists()
                and self.work.exists()):
            m = json.loads(meta.read_text())
        else:
            say(f"splitting {rel(src)}: the last {share:.0%} of its lines become the appended part")
            total = 0
            with open(src, "rb") as f:
                for block in iter(lambda: f.read(8 * MIB), b""):
                    total += block.count(b"\n")
            base_lines = total - max(1, int(total * share))
            offsets = []  # byte length of the tail after each of its lines
            with open(src, "rb") as f, open(self.work, "wb") as w, open(self.tail, "wb") as t:
                base_bytes = 0
                for i, line in enumerate(f):
                    if i < base_lines:
                        w.write(line)
                        base_bytes += len(line)
                    else:
                        t.write(line)
                        offsets.append((offsets[-1] if offsets else 0) + len(line))
            m = {"key": key, "base_lines": base_lines, "base_bytes": base_bytes, "tail_ends": offsets}
            meta.write_text(json.dumps(m))
        self.base_lines, self.base_bytes, self.tail_ends = m["base_lines"], m["base_bytes"], m["tail_ends"]

    def tail_bytes(self, n_lines: int) -> int:
        return self.tail_ends[n_lines - 1] if n_lines > 0 else 0

    def set_appended(self, n_lines: int):
        want = self.base_bytes + self.tail_bytes(n_lines)
        have = self.work.stat().st_size
        if have > want:
            os.truncate(self.work, want)
        elif have < want:
            with open(self.tail, "rb") as t, open(self.work, "ab") as w:
                t.seek(have - self.base_bytes)
                w.write(t.read(want - have))


# ---------------------------------------------------------------- timing


def parse_time_v(text: str) -> dict:
    def num(label):
        m = re.search(re.escape(label) + r"\s*:?\s*([0-9.]+)", text)
        return float(m.group(1)) if m else 0.0

    return {
        "user": num("User time (seconds):"),
        "sys": num("System time (seconds):"),
        "rss_kb": num("Maximum resident set size (kbytes):"),
    }


def timed(cmd, log: Path, args, quiet=True) -> dict:
    """Runs `cmd` under /usr/bin/time -v, first waiting for a quiet machine (`quiet`); dies if it fails."""
    waits = quiet and args.quiet_cores > 0
    others = wait_quiet(args.quiet_cores, args.max_wait) if waits else float("nan")
    load = float(loadavg().split()[0])
    tv = log.with_suffix(".time")
    busy0 = cpu_busy_seconds()
    t0 = time.perf_counter()
    with open(log, "wb") as err:
        r = subprocess.run(["/usr/bin/time", "-v", "-o", str(tv)] + [str(c) for c in cmd],
                           stdout=subprocess.DEVNULL, stderr=err)
    wall = time.perf_counter() - t0
    busy = cpu_busy_seconds() - busy0
    if r.returncode != 0:
        say(log.read_text(errors="replace")[-3000:])
        die(f"failed ({r.returncode}): {' '.join(str(c) for c in cmd)}", 1)
    m = parse_time_v(tv.read_text())
    m["wall"] = wall
    m["load1"] = load
    m["quiet_before"] = others
    # Other processes' CPU during the run, in cores: the machine's busy time less this command's own.
    m["others_cores"] = max(0.0, busy - m["user"] - m["sys"]) / wall if wall > 0 else 0.0
    return m


class Case:
    def __init__(self, cid, group, label, tool, cmd, input_path, bytes_, lines, messages, prep=None, db=None,
                 ref=None, check=None, stdout_file=None):
        self.cid, self.group, self.label, self.tool, self.cmd = cid, group, label, tool, cmd
        self.input_path, self.bytes, self.lines, self.messages = input_path, bytes_, lines, messages
        self.prep, self.db, self.ref, self.check, self.stdout_file = prep, db, ref, check, stdout_file
        self.runs: list[dict] = []
        self.warmups: list[float] = []  # wall s of the untimed runs just before each timed one
        self.warm_db: Path | None = None
        self.db_bytes = None
        self.check_result = ""

    def median(self, key):
        return statistics.median(r[key] for r in self.runs)

    def peak(self, key):
        return max(r[key] for r in self.runs)


def db_size(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(str(db) + "-wal")) if p.exists())


def remove_db(db: Path):
    for suffix in ("", "-wal", "-shm", ".lock", "-journal"):
        p = Path(str(db) + suffix)
        if p.exists():
            p.unlink()


def copy_db(src: Path, dst: Path):
    remove_db(dst)
    for suffix in ("", "-wal"):
        s = Path(str(src) + suffix)
        if s.exists():
            shutil.copyfile(s, Path(str(dst) + suffix))


def summed_messages(binary: Path, db: Path) -> int:
    out = subprocess.run([binary, "summary", "--db", db, "--timezone", TZ, "--by", "account", "--format", "csv"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    head = out[0].split(",")
    i = head.index("messages")
    return sum(int(line.split(",")[i]) for line in out[1:] if line.strip())


# ---------------------------------------------------------------- plan


def plan(args, binary: Path, data: Path):
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000, 4000] if args.full else [200])
    run_dir = data / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    inputs = []
    setups = []  # (label, function) for the untimed base ingests of the incremental cases
    inc_fixed_lines = None
    for si, size in enumerate(sizes):
        tag = (f"{size} MB" if size < 1000 else f"{size / 1000:g} GB") + " traffic"
        both = generate(data, f"both-classic-{size}MB",
                        ["--mta", "both", "--stamp", "classic", "--exim-ids", "old",
                         "--target-bytes", str(size * MB)] + GEN_COMMON)
        pf, ex = both / "postfix" / "mail.log", both / "exim" / "mainlog"
        tp, te = truth(both / "postfix"), truth(both / "exim")
        gz = gzip_copy(pf, both / "postfix-gz" / "mail.log.gz")
        inputs += [pf, ex, gz]
        msgs = tp["messages"]
        rr = ["ingest", "--timezone", TZ, "--year", YEAR]

        def ingest_case(cid, label, path, t, mta, total_bytes, group=tag, extra=()):
            db = run_dir / f"{cid}.sqlite"
            return Case(cid, group, label, "relaysum",
                        [binary] + rr[:1] + ["--db", db] + rr[1:] + list(extra) + [path], path,
                        total_bytes, file_lines(t, mta), t["messages"], prep=lambda db=db: remove_db(db), db=db,
                        check=lambda db=db, n=t["messages"]: (summed_messages(binary, db), n))

        c_pf = ingest_case(f"pf-{size}", "relaysum ingest, Postfix, plain", pf, tp, "postfix", pf.stat().st_size)
        c_gz = ingest_case(f"pfgz-{size}",
                           f"relaysum ingest, Postfix, gzip ({gz.stat().st_size / MB:.0f} MB compressed)",
                           gz, tp, "postfix", pf.stat().st_size)
        c_ex = ingest_case(f"ex-{size}", "relaysum ingest, Exim, plain", ex, te, "exim", ex.stat().st_size)
        cases += [c_pf, c_gz]
        if si == 0:
            rfc = generate(data, f"postfix-rfc3339-{size}MB",
                           ["--mta", "postfix", "--stamp", "rfc3339", "--target-bytes", str(size * MB)] + GEN_COMMON)
            pr = rfc / "mail.log"
            inputs.append(pr)
            cases.append(ingest_case(f"pfrfc-{size}", "relaysum ingest, Postfix, plain, RFC 3339 stamps", pr,
                                     truth(rfc), "postfix", pr.stat().st_size))
        cases.append(c_ex)
        # A first ingest into an empty database is a bulk load (no write-ahead log); one into a database that holds
        # rows goes through the log, as these do.
        c_wal = []
        if si == 0:
            c_wal = [ingest_case(f"pfwal-{size}", "relaysum ingest, Postfix, plain, --no-bulk-load", pf, tp, "postfix",
                                 pf.stat().st_size, extra=["--no-bulk-load"]),
                     ingest_case(f"exwal-{size}", "relaysum ingest, Exim, plain, --no-bulk-load", ex, te, "exim",
                                 ex.stat().st_size, extra=["--no-bulk-load"])]
            cases += c_wal
        if not args.no_ref:
            pfl_out = run_dir / f"pflogsumm-{size}.out"
            cases.append(Case(f"pflogsumm-{size}", tag, "pflogsumm", "pflogsumm", ["pflogsumm", pf], pf,
                              pf.stat().st_size, file_lines(tp, "postfix"), msgs, stdout_file=pfl_out,
                              check=lambda o=pfl_out, n=msgs: (pflogsumm_received(o), n)))
            c_pf.ref = f"pflogsumm-{size}"
            c_gz.ref = f"pflogsumm-{size}"
            exs_out = run_dir / f"eximstats-{size}.out"
            cases.append(Case(f"eximstats-{size}", tag, "eximstats", "eximstats", ["eximstats", ex], ex,
                              ex.stat().st_size, file_lines(te, "exim"), te["messages"], stdout_file=exs_out,
                              check=lambda o=exs_out, n=te["messages"] + te["generated"]: (eximstats_received(o), n)))
            c_ex.ref = f"eximstats-{size}"
            for c in c_wal:
                c.ref = c_pf.ref if c.cid.startswith("pf") else c_ex.ref

        # Incremental: a database holding the first 99 % of the lines, then the last 1 % appended to the same file.
        ap = Appendable(pf, data / f"inc-{size}MB", APPEND_SHARE)
        base_db = run_dir / f"inc-base-{size}.sqlite"
        n_tail = len(ap.tail_ends)
        if inc_fixed_lines is None:
            inc_fixed_lines = n_tail

        def setup(ap=ap, base_db=base_db):
            ap.set_appended(0)
            remove_db(base_db)
            subprocess.run([binary, "ingest", "--db", base_db, "--timezone", TZ, "--year", YEAR, "--quiet", ap.work],
                           check=True)
            for s in ("-shm",):
                Path(str(base_db) + s).unlink(missing_ok=True)

        setups.append((f"base database for the incremental ingest ({tag}, {ap.base_lines} lines)", setup))
        variants = [(n_tail, f"{APPEND_SHARE:.0%} appended")]
        if si > 0 and inc_fixed_lines != n_tail:
            variants.append((inc_fixed_lines, f"{inc_fixed_lines} lines appended (as for {sizes[0]} MB)"))
        for vi, (n, what) in enumerate(variants):
            db = run_dir / f"inc-{size}-{vi}.sqlite"

            def prep(ap=ap, n=n, db=db, base_db=base_db):
                ap.set_appended(n)
                copy_db(base_db, db)

            c = Case(f"inc-{size}-{vi}", "incremental", f"relaysum ingest, incremental, {tag} database, {what}",
                     "relaysum", [binary, "ingest", "--db", db, "--timezone", TZ, "--year", YEAR, ap.work],
                     ap.work, ap.tail_bytes(n), n, None, prep=prep, db=db,
                     check=(lambda db=db, m=msgs: (summed_messages(binary, db), m)) if n == n_tail else None)
            c.base_lines, c.base_db = ap.base_lines, base_db
            cases.append(c)
        inputs.append(ap.work)
        inputs.append(ap.tail)
    return sizes, cases, inputs, setups


def pflogsumm_received(out: Path) -> int | None:
    m = re.search(r"^\s*(\d+)\s+received\s*$", out.read_text(errors="replace"), re.M)
    return int(m.group(1)) if m else None


def eximstats_received(out: Path) -> int | None:
    m = re.search(r"^\s*Received\s+\S+\s+(\d+)", out.read_text(errors="replace"), re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- run


def execute(args, cases, setups):
    for label, fn in setups:
        say(f"preparing the {label}")
        fn()
    for r in range(args.runs):
        for c in cases:
            if c.prep:
                c.prep()
            log = Path(args.data) / "run" / f"{c.cid}.r{r}.log"
            if args.warmup and args.quiet_cores > 0:
                # Before the warm-up: a long wait between it and the timed run would undo it.
                wait_quiet(args.quiet_cores, args.max_wait)
            for w in range(args.warmup):
                warm_up(c, log.with_suffix(".warm.log"), args, keep_time=w == 0)
            if args.warmup and args.settle > 0:
                # Freed memory (the database the prep deleted, the warm-up's own) is handed back to the VM's host
                # about 2 s later by a kernel thread (free page reporting), which used up to 1.2 cores when it fell
                # in the timed run.
                time.sleep(args.settle)
            for attempt in range(args.retries + 1):
                if attempt:
                    say(f"  {c.label}: other processes used {m['others_cores']:.2f} cores during the run, so again")
                    if c.prep:
                        c.prep()
                    if args.warmup and args.settle > 0:
                        time.sleep(args.settle)  # the prep freed the last run's database (see above)
                # The dirty pages earlier runs left (each relaysum run writes its database and WAL, ~100 MB at
                # 200 MB of log) are written out now, not by the kernel during this run: unflushed, they added up to
                # 0.7 s of system time to a 0.9 s ingest, so the medians moved by 30 % from one run of this script
                # to the next.
                os.sync()
                if c.stdout_file:
                    # The report goes to a file, as an operator's cron job would keep it.
                    m = timed_to_file(c.cmd, c.stdout_file, log, args)
                else:
                    m = timed(c.cmd, log, args)
                if m["others_cores"] <= args.noisy:
                    break
            c.runs.append(m)
            if c.warm_db:
                remove_db(c.warm_db)
            if c.db:
                c.db_bytes = db_size(c.db)
            if r == 0 and c.check:
                got, want = c.check()
                c.check_result = f"{got} / {want}"
                if got != want:
                    say(f"warning: {c.label} ({c.group}): counted {got}, truth {want}")
            say(f"run {r + 1}/{args.runs}  {c.group:>11}  {c.label:<70} {m['wall']:8.2f} s  "
                f"{m['rss_kb'] / 1024:7.1f} MiB  load {m['load1']:.2f}  others {m['others_cores']:.2f} cores")


def warm_up(c: Case, log: Path, args, keep_time=True):
    """Runs `c` as its timed runs are, just before one of them; only its wall time is kept (`c.warmups`), apart.

    On this project's VM, memory left untouched for about 30 s costs far more to touch again: `cat` of the 195 MB
    Postfix log took 0.14 s after 30 s idle and 0.02 s after 2 s (eighth and ninth sessions, BENCHMARKS.md), and the
    same relaysum ingest took 0.76-1.18 s after 40 s idle against 0.58 s right after another. In a round of this
    script each case waits for all the others (pflogsumm alone takes 5 s to 25 s), so without a warm-up every timed
    run pays that cost once, which a 5 s Perl run spreads thin and a 0.6 s ingest does not. Every tool gets the same
    warm-up before each of its timed runs, and the table shows the first warm-ups' median too (`keep_time`)."""
    cmd = c.cmd
    if c.db:
        # Into a database of its own, removed after the timed run: removing it before would free its pages in the
        # page cache just before the timed run (see the settle time in `execute`).
        c.warm_db = c.db.with_name(c.db.stem + "-warm" + c.db.suffix)
        cmd = [c.warm_db if x == c.db else x for x in c.cmd]
        c.prep(db=c.warm_db)
    os.sync()
    # Run as the timed run is (the caller has waited for a quiet machine already).
    if c.stdout_file:
        m = timed_to_file(cmd, c.stdout_file, log, args, quiet=False)
    else:
        m = timed(cmd, log, args, quiet=False)
    if keep_time:
        c.warmups.append(m["wall"])


def timed_to_file(cmd, out: Path, log: Path, args, quiet=True) -> dict:
    """Like timed(), with the command's stdout in `out`."""
    wrapped = ["sh", "-c", 'out="$1"; shift; exec "$@" > "$out"', "sh", str(out)] + [str(c) for c in cmd]
    return timed(wrapped, log, args, quiet)


# ---------------------------------------------------------------- report


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def table(cases, runs) -> str:
    by_id = {c.cid: c for c in cases}
    head = ("| traffic | command | input MB | wall s (median of %d) | MB/s | lines/s | messages/s | CPU | peak RSS MiB "
            "| DB bytes/message | × reference | others' load | warm-up wall s (× reference) |" % runs)
    rows = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for c in cases:
        if c.group == "incremental":
            continue
        wall = c.median("wall")
        cpu = statistics.median((r["user"] + r["sys"]) / r["wall"] for r in c.runs)
        ratio = ""
        if c.ref and c.ref in by_id:
            ratio = f"**{by_id[c.ref].median('wall') / wall:.1f} ×**"
        dbpm = f"{c.db_bytes / c.messages:.0f}" if c.db_bytes and c.messages else ""
        others = max(r["others_cores"] for r in c.runs)
        warm = ""
        if c.warmups:
            warm = f"{statistics.median(c.warmups):.2f}"
            if c.ref and c.ref in by_id and by_id[c.ref].warmups:
                warm += f" ({statistics.median(by_id[c.ref].warmups) / statistics.median(c.warmups):.1f} ×)"
        rows.append(f"| {c.group} | {c.label} | {c.bytes / MB:.0f} | {wall:.2f} | {c.bytes / MB / wall:.0f} "
                    f"| {fmt_rate(c.lines / wall)} | {fmt_rate(c.messages / wall)} | {cpu * 100:.0f} % "
                    f"| {c.peak('rss_kb') / 1024:.0f} | {dbpm} | {ratio} | {others:.2f} | {warm} |")
    return "\n".join(rows)


def inc_table(cases, runs) -> str:
    head = ("| database before | appended | appended MB | wall s (median of %d) | µs per appended line "
            "| peak RSS MiB | others' load |" % runs)
    rows = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for c in cases:
        if c.group != "incremental":
            continue
        wall = c.median("wall")
        base_mb = c.base_db.stat().st_size / MB if c.base_db.exists() else 0
        rows.append(f"| {c.base_lines:,} lines, {base_mb:.0f} MB | {c.lines:,} lines | {c.bytes / MB:.1f} "
                    f"| {wall:.3f} | {wall / c.lines * 1e6:.1f} | {c.peak('rss_kb') / 1024:.0f} "
                    f"| {max(r['others_cores'] for r in c.runs):.2f} |")
    return "\n".join(rows)


def checks(cases) -> str:
    out = []
    for c in cases:
        if c.check_result:
            what = {"relaysum": "messages summed over `summary --by account` / truth messages",
                    "pflogsumm": "pflogsumm's `received` / truth messages",
                    "eximstats": "eximstats's `Received` messages / truth messages + relay-generated bounces"}[c.tool]
            out.append(f"- {c.group}, {c.label}: {c.check_result} ({what})")
    return "\n".join(out)


def commands(cases, binary) -> str:
    seen, out = set(), []
    for c in cases:
        cmd = " ".join(rel(x) if isinstance(x, Path) or str(x).startswith("/") else str(x) for x in c.cmd)
        cmd = cmd.replace(rel(binary), "relaysum")
        if c.stdout_file:
            cmd += f" > {rel(c.stdout_file)}"
        if cmd not in seen:
            seen.add(cmd)
            out.append(cmd)
    return "\n".join(out)


def render(args, info, sizes, cases, binary, load_start, load_end, started, gen_cmds) -> str:
    ok = [c for c in cases if c.tool == "relaysum" and c.ref]
    goals = []
    for c in ok:
        ref = next(x for x in cases if x.cid == c.ref)
        goal = 8 if "gzip" in c.label else (6 if c.ref.startswith("eximstats") else 10)
        r = ref.median("wall") / c.median("wall")
        verdict = "met" if r >= goal else "NOT met"
        goals.append(f"{c.group}, {c.label}: {r:.1f} × {ref.tool} (target ≥ {goal} ×: {verdict})")
    rss = [c.peak("rss_kb") / 1024 for c in cases if c.tool == "relaysum"]
    pk = info["packages"]
    noisy = max(max(r["others_cores"] for r in c.runs) for c in cases)
    lines = [
        BEGIN,
        "## Ingest: relaysum beside pflogsumm and eximstats",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `python3 Benchmarks/bench.py"
        + (" " + " ".join(args.argv) if args.argv else "") + f"` ({args.runs} runs of each case, round-robin, "
        + (f"each right after {args.warmup} untimed warm-up run(s) of the same command and a {args.settle:g} s settle; "
           if args.warmup else "no warm-up runs; ")
        + f"medians; commit {info['commit']} plus whatever the working tree had).",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']} memory, Linux {info['kernel']}, "
        f"{info['swift']}; pflogsumm {pk.get('pflogsumm', '—')}, eximstats from exim4-base "
        f"{pk.get('exim4-base', '—')}, SQLite {pk.get('libsqlite3-0', '?')}, zlib {pk.get('zlib1g', '?')}.",
        f"Load average (1, 5, 15 min) at start: {load_start}; at end: {load_end}. Most other processes' CPU "
        f"during any one timed run: {noisy:.2f} cores (each run waits first until the others use under "
        f"{args.quiet_cores} cores, for at most {args.max_wait:.0f} s). The load average counts the benchmark's own "
        "commands too (relaysum keeps up to 1.4 cores busy), so it reads about 1.2 on an otherwise quiet machine; "
        "the **others' load** column is the measure of interference.",
        "",
        table(cases, args.runs),
        "",
        "Every ingest row but the incremental ones starts from no database, so it is a first import, which relaysum "
        "writes as a bulk load (a rollback journal and no waiting for the disk until the end, instead of the "
        "write-ahead log; `Sources/Store/BulkLoad.swift`). The `--no-bulk-load` rows write the same file through the "
        "write-ahead log, as any ingest into a database that already holds rows does.",
        "",
        "Incremental ingest (the Postfix plain file; the database already holds its first 99 % of lines, then the "
        "rest is appended to the same file and `relaysum ingest` runs again):",
        "",
        inc_table(cases, args.runs),
        "",
        "Against the targets of issue 9" + (" (timed runs, each after a warm-up; the warm-up column gives the "
                                            "ratios without one)" if args.warmup else "") + ": "
        + ("; ".join(goals) if goals else "no reference tools timed")
        + f"; relaysum's peak RSS at most {max(rss):.0f} MiB (target ≤ 64 MiB, flat).",
        "",
        "Sanity (first run): what each tool counted, against the generator's truth-totals.json:",
        "",
        checks(cases),
        "",
        "### What the numbers mean",
        "",
        "- **wall s**: elapsed time of the command, median of the runs, timed with a monotonic clock around "
        "`/usr/bin/time -v` (fork and exec included). Inputs are read once before the runs: warm page cache. "
        "Before each run, `sync`: the dirty pages of earlier runs are not written out during it. "
        "Each timed run comes right after an untimed **warm-up** run of the same command (every tool alike; unlike "
        "`hyperfine --warmup 1`, which warms up once before all of a command's runs, here before each of them, "
        "since the runs go round-robin): on this VM, memory untouched for about 30 s (the input's pages in the page "
        "cache, the binary's) costs several times more to touch again, and in a round each case waits for all the "
        "others. The **warm-up wall s** column is the median of the first warm-ups, with its own ratio: runs "
        "without a warm-up. It does not treat the tools alike: relaysum's input was last read a round earlier, "
        "pflogsumm's and eximstats's a few seconds earlier by relaysum's own runs of the same file, so its ratio "
        "understates relaysum. Between the warm-up and the timed run the script waits "
        f"{args.settle:g} s (`--settle`): this VM hands freed memory back to its host (free page reporting) about 2 s "
        "after it is freed, and that kernel work, falling in a timed run, used up to 1.2 cores beside it. The "
        "warm-up writes to a database of its own, removed only after the timed run, for the same reason. New pages "
        "may still each cost a fault in the host, which shows as system time: relaysum needs ~30,000 (its memory, "
        "the new database and its log in the page cache) (BENCHMARKS.md, eighth and ninth sessions).",
        "- **MB/s**: uncompressed log bytes (10^6) over wall time, also for the gzip input, so the columns compare. "
        "**lines/s**: the log's lines; **messages/s**: accepted messages in the generator's truth (relay-generated "
        "bounces not counted).",
        "- **CPU**: (user + system CPU) / wall; above 100 % means the second core helped.",
        "- **peak RSS**: the largest `Maximum resident set size` of the runs.",
        "- **DB bytes/message**: the database file (and WAL, if left) after the ingest, over the truth's messages.",
        "- **× reference**: pflogsumm's (or eximstats's) median wall time over relaysum's, on the same file; the gzip "
        "row is compared with pflogsumm on the plain file. pflogsumm and eximstats store nothing; relaysum stores "
        "every message, recipient and reject.",
        "- **others' load**: CPU used by other processes during the run (the machine's busy time from /proc/stat less "
        "the command's own user + system time), the worst of the runs, in cores. A run above "
        f"{args.noisy} is repeated (up to {args.retries} times, the last one counts); rerun the script when a "
        "value above that remains.",
        "- Incremental: **µs per appended line** is wall over appended lines; it includes the fixed cost of starting, "
        "opening the database and loading the open messages, so it is high for small appends. Cost proportional to "
        "the new lines means the same appended lines cost the same on a larger database (`--full` appends the same "
        "line count to the 1 GB and the 4 GB databases).",
        "",
        "### Running it",
        "",
        "```sh",
        "apt-get install -y time gzip pflogsumm && apt-get install -y --no-install-recommends exim4-base",
        "python3 Benchmarks/bench.py            # quick set (~200 MB Postfix + its Exim rendering), 3 runs",
        "python3 Benchmarks/bench.py --full     # 1 GB and 4 GB sets (~25 GB of scratch in Benchmarks/data/)",
        "python3 Benchmarks/bench.py --profile  # also the perf profile below (apt-get install -y linux-perf)",
        "python3 Benchmarks/bench.py --help     # --runs N, --sizes MB,MB, --no-build, --bin PATH, --no-write ...",
        "```",
        "",
        "The script checks for its tools and prints the missing `apt-get install` line; it installs nothing. It "
        "rewrites only the text between its own markers in BENCHMARKS.md.",
        "",
        "### Commands",
        "",
        "The logs (Benchmarks/genlog.py, deterministic; reused from Benchmarks/data/ while the generator and the "
        "arguments stay the same; `--exim-ids old` because Debian 12's eximstats 4.96 does not know the 23-character "
        "IDs of Exim 4.97+ and would count nothing):",
        "",
        "```sh",
        "swift build -c release --static-swift-stdlib --scratch-path .build-bench",
        *gen_cmds,
        "```",
        "",
        "Timed, each as `/usr/bin/time -v CMD` (relaysum = .build-bench/release/relaysum; every ingest into a fresh "
        "database, the incremental one into a copy of the base database):",
        "",
        "```sh",
        commands(cases, binary),
        "```",
        "",
        "The incremental base database is made in the same run: the first 99 % of the Postfix lines are written to "
        "`Benchmarks/data/inc-SIZE/mail.log`, `relaysum ingest --db Benchmarks/data/run/inc-base-SIZE.sqlite "
        "--timezone UTC --year 2026 --quiet Benchmarks/data/inc-SIZE/mail.log` reads them, the remaining lines "
        "(kept in `tail.log`) are appended to that same file, and each timed run starts from a copy of the base "
        "database.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, begin: str, end: str, text: str, heading_after: str | None = None):
    """Replaces the text between begin and end markers in BENCHMARKS.md, keeping everything else."""
    old = path.read_text() if path.exists() else ""
    if not old:
        old = ("# Benchmarks\n\nMeasured with `Benchmarks/bench.py` (ingest) on this project's 2-core machine kind. "
               "Each section says when and how it was measured.\n\n" + BEGIN + "\n" + END + "\n\n" + PBEGIN + "\n"
               + PEND + "\n\n" + SUMMARIES_HEADING + "\n\n(to come)\n")
    if begin in old and end in old:
        a = old.index(begin)
        b = old.index(end) + len(end)
        new = old[:a] + text.rstrip("\n") + old[b:]
    else:
        # Before the summaries section if there is one, else at the end.
        i = old.find(heading_after) if heading_after else -1
        if i >= 0:
            new = old[:i] + text.rstrip("\n") + "\n\n" + old[i:]
        else:
            new = old.rstrip("\n") + "\n\n" + text
    if not new.endswith("\n"):
        new += "\n"
    tmp = path.with_name(path.name + ".bench-tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


# ---------------------------------------------------------------- profile

STAGES = [  # first match walking up from the sampled frame; order = priority at the same frame
    ("gzip inflate", r"GzipInflater|^inflate|^adler32|^crc32|libz\.so"),
    ("reading lines", r"LineReader|LogSource|ByteReader|\bread\b|^__libc_read|^ksys_read"),
    ("parsing", r"LineParser|EnvelopeParser|CivilTime|ByteSlice|PostfixEvent|EximEvent|Envelope"),
    ("correlation", r"Correlator|OpenState"),
    ("store (binding, SQLite)", r"Store\.|BulkWriter|RelayStore|GRDB|sqlite3|libsqlite3"),
    ("pipeline, driver", r"BatchPipeline|Ingestor|Ingest\."),
]
KINDS = [
    ("SQLite library", lambda s, d: "libsqlite3" in d or s.startswith("sqlite3")),
    ("zlib", lambda s, d: "libz.so" in d),
    ("kernel (syscalls, page faults)", lambda s, d: "kernel" in d or d == "[kernel.kallsyms]"),
    ("allocation / ARC", lambda s, d: re.search(
        r"swift_(retain|release|allocObject|deallocObject|bridgeObject|slowAlloc|slowDealloc|isUniquely|"
        r"arrayInit|arrayDestroy|unknownObject|allocBox|deallocClassInstance|deallocUninitialized|release_n|retain_n)"
        r"|^(_int_)?malloc|^_int_free|^free$|^cfree|^__libc_(malloc|free|calloc|realloc)|^realloc|^calloc|"
        r"tcache|malloc_consolidate|^unlink_chunk", s) is not None),
    ("locks (pthread mutex)", lambda s, d: re.search(r"mutex|^lll_|^__lll_", s) is not None),
    ("memcpy / memchr / memcmp (libc)", lambda s, d: re.search(r"^__mem|^mem|^__strlen|^strlen|^__str", s)
     is not None),
    ("Swift stdlib and runtime", lambda s, d: "libswiftCore" in d or "libFoundation" in d
     or re.search(r"(^|\bof |\bin |\bfor )(static )?Swift\.", s) is not None),
    ("relaysum code", lambda s, d: True),
]


def bare(name: str) -> str:
    """A demangled name without its generic arguments and parameter lists: who runs, not what it handles."""
    out, depth = [], 0
    for ch in name:
        if ch in "<(":
            depth += 1
        elif ch in ">)" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def demangle(names: list[str], simplified=True) -> dict:
    if not names:
        return {}
    r = subprocess.run(["swift", "demangle"] + (["--simplified"] if simplified else []),
                       input="\n".join(names) + "\n", capture_output=True, text=True)
    out = r.stdout.splitlines()
    if len(out) != len(names):
        return {n: n for n in names}
    return dict(zip(names, out))


def profile(args, binary: Path, data: Path, cases) -> str:
    target = next(c for c in cases if c.cid.startswith("pf-"))
    pdata = data / "run" / "perf.data"
    db = data / "run" / "profile.sqlite"
    remove_db(db)
    ingest = [str(x) for x in target.cmd]
    ingest[ingest.index(str(target.db))] = str(db)
    # DWARF unwinding: libc and SQLite have no frame pointers, so -g alone loses the caller of malloc, memcpy, ...
    cmd = ["perf", "record", "-F", str(args.perf_freq), "--call-graph", "dwarf,16384", "-o", str(pdata), "--"] + ingest
    say("$ " + " ".join(rel(c) if c.startswith("/") else c for c in cmd))
    wait_quiet(args.quiet_cores, args.max_wait)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    script = subprocess.run(["perf", "script", "-i", str(pdata), "-F", "comm,tid,ip,sym,dso"], capture_output=True,
                            text=True, errors="replace").stdout
    samples = []  # (tid, [(sym, dso), ...] leaf first)
    cur = None
    for line in script.splitlines():
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
            continue
        if not line[0].isspace():
            parts = line.split()
            cur = (parts[-1] if len(parts) > 1 else "?", [])
            continue
        m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m and cur is not None:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            cur[1].append((sym, m.group(2)))
    if cur:
        samples.append(cur)
    for _, fr in samples:  # an inlined frame belongs to the object of the function it was inlined into
        for i in range(len(fr) - 2, -1, -1):
            if fr[i][1] == "inlined":
                fr[i] = (fr[i][0], fr[i + 1][1].removesuffix(" (inlined)") + " (inlined)")
    # (perf's inline expansion of a sample is not always right about which object it was in; the kinds go by name)
    total = len(samples)
    if not total:
        die("perf recorded no samples", 1)
    names = sorted({s for _, fr in samples for s, _ in fr})
    dm = demangle(names)  # for display
    full = demangle(names, simplified=False)  # with module names, for the stages
    project = re.compile(r"\b(Ingest|Store|Reports|relaysum|ARF)\.")
    unplaced = "unplaced (futex waits, freeing whole batches, start-up)"
    count = lambda d, k: d.__setitem__(k, d.get(k, 0) + 1)  # noqa: E731
    stage_n, kind_n, self_n, tid_n, fn_n, stage_kind, tid_stage = {}, {}, {}, {}, {}, {}, {}
    for tid, frames in samples:
        bares = [(bare(full.get(s, s)), d) for s, d in frames]
        leaf_s, leaf_d = (dm.get(frames[0][0], frames[0][0]), frames[0][1]) if frames else ("?", "?")
        kind = next(k for k, f in KINDS if f(bares[0][0] if bares else "?", leaf_d))
        stage = next((hit for s, d in bares
                      for hit in [next((n for n, rx in STAGES if re.search(rx, s) or re.search(rx, d)), None)]
                      if hit), unplaced)
        fn = next((dm.get(frames[i][0], frames[i][0]) for i, (s, d) in enumerate(bares) if project.search(s)),
                  None)
        count(stage_n, stage)
        count(kind_n, kind)
        count(stage_kind, (stage, kind))
        count(tid_n, tid)
        count(tid_stage, (tid, stage))
        if fn:
            count(fn_n, (fn if len(fn) < 100 else fn[:97] + "…", stage))
        short = leaf_s if len(leaf_s) < 100 else leaf_s[:97] + "…"
        count(self_n, (short, "inlined" if leaf_d.endswith("(inlined)") else leaf_d.rsplit("/", 1)[-1]))

    def pct(n):
        return f"{100 * n / total:.1f} %"

    def cell(s):
        return s.replace("|", "\\|")

    kinds = [k for k, _ in KINDS]
    out = [PBEGIN, "## Where the ingest time goes", "",
           f"Profiled {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `python3 Benchmarks/bench.py "
           f"--profile`: `perf record -F {args.perf_freq} --call-graph dwarf` of `relaysum ingest` on the "
           f"{target.group} plain Postfix file ({target.bytes / MB:.0f} MB) into a fresh database ({wall:.1f} s "
           f"under perf, {total} samples of CPU time over all threads). A sample counts toward the **stage** of the "
           f"nearest relaysum frame on its stack (so ARC, malloc or `memcpy` called by the parser count as parsing; "
           f"SQLite and zlib frames count as store and gzip), and toward the **kind** of its leaf frame.", "",
           "| stage (inclusive) | share of CPU samples | " + " | ".join(kinds) + " |",
           "|---|---|" + "---|" * len(kinds)]
    for stage, n in sorted(stage_n.items(), key=lambda x: -x[1]):
        out.append(f"| {stage} | **{pct(n)}** | " + " | ".join(
            pct(stage_kind.get((stage, k), 0)) if stage_kind.get((stage, k)) else "" for k in kinds) + " |")
    out.append("| all | 100 % | " + " | ".join(pct(kind_n.get(k, 0)) for k in kinds) + " |")
    out += ["", f"Per thread (a sample is 1/{args.perf_freq} s of CPU; a thread's CPU seconds are a lower bound of "
            "the wall time, so the busiest thread is the critical path):", "",
            "| thread | CPU samples | CPU s | its stages |", "|---|---|---|---|"]
    for t, n in sorted(tid_n.items(), key=lambda x: -x[1])[:4]:
        st = sorted(((k[1], v) for k, v in tid_stage.items() if k[0] == t), key=lambda x: -x[1])
        out.append(f"| {t} | {pct(n)} | {n / args.perf_freq:.2f} | "
                   + ", ".join(f"{s} {100 * v / n:.0f} %" for s, v in st if v / n >= 0.02) + " |")
    out += ["", "Nearest relaysum function (inclusive of the library, runtime and kernel code it calls):", "",
            "| share | function | stage |", "|---|---|---|"]
    for (f, stage), n in sorted(fn_n.items(), key=lambda x: -x[1])[:args.top_symbols]:
        out.append(f"| {pct(n)} | `{cell(f)}` | {stage} |")
    out += ["", "Top leaf symbols (self time):", "", "| self | symbol | object |", "|---|---|---|"]
    for (s, d), n in sorted(self_n.items(), key=lambda x: -x[1])[:args.top_symbols]:
        out.append(f"| {pct(n)} | `{cell(s)}` | {d} |")
    out.append(PEND)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="1 GB and 4 GB logs instead of the quick ~200 MB set")
    p.add_argument("--sizes", help="Postfix log sizes in MB, comma-separated (overrides --full), e.g. 100,400")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each case (default 3); the median is shown")
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed runs of the same command just before each timed run (default 1; 0: none)")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds between the warm-up and the timed run, for freed memory to be handed back to the "
                        "VM's host first (default 3)")
    p.add_argument("--data", default=str(BENCH / "data"), help="scratch directory (default Benchmarks/data)")
    p.add_argument("--no-build", action="store_true", help="use the existing .build-bench release binary")
    p.add_argument("--bin", help="time this relaysum binary instead of building one")
    p.add_argument("--no-ref", action="store_true", help="skip pflogsumm and eximstats")
    p.add_argument("--no-write", action="store_true", help="print the tables, leave BENCHMARKS.md alone")
    p.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"), help="the file to write (default BENCHMARKS.md)")
    p.add_argument("--profile", action="store_true", help="also perf-profile one Postfix ingest")
    p.add_argument("--profile-only", action="store_true", help="only the profile (implies --profile)")
    p.add_argument("--perf-freq", type=int, default=999, help="perf sampling frequency (default 999 Hz)")
    p.add_argument("--top-symbols", type=int, default=15)
    p.add_argument("--quiet-cores", type=float, default=0.3,
                   help="before each run, wait until other processes use fewer cores than this (0: don't wait)")
    p.add_argument("--max-wait", type=float, default=120, help="longest wait for a quiet machine, s (default 120)")
    p.add_argument("--noisy", type=float, default=0.25,
                   help="a run during which other processes used more cores than this is repeated (default 0.25)")
    p.add_argument("--retries", type=int, default=2, help="repeats of a noisy run (default 2); the last one counts")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.profile_only:
        args.profile = True
    if args.runs < 1:
        p.error("--runs must be at least 1")
    check_tools(args)
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    load_start = loadavg()
    say(f"load average at start: {load_start}")
    binary = build(args)
    info = machine()
    sizes, cases, inputs, setups = plan(args, binary, data)
    gen_cmds = []
    for d in sorted(data.glob("*-*/genlog-args.json")):
        if any(f"-{s}MB-" in d.parent.name for s in sizes):
            a = json.loads(d.read_text())["args"]
            gen_cmds.append("python3 Benchmarks/genlog.py " + " ".join(a) + f" --out {rel(d.parent)}")
    for d in sorted(data.glob("both-*/postfix-gz/mail.log.gz")):
        if any(f"-{s}MB-" in d.parent.parent.name for s in sizes):
            gen_cmds.append(f"gzip -6 -n -c {rel(d.parent.parent / 'postfix' / 'mail.log')} > {rel(d)}")
    say("warming the page cache")
    warm([x for x in inputs if Path(x).exists()])
    out_path = Path(args.output)
    if not args.profile_only:
        execute(args, cases, setups)
        load_end = loadavg()
        say(f"load average at end: {load_end}")
        text = render(args, info, sizes, cases, binary, load_start, load_end, started, gen_cmds)
        print(text)
        (data / "run" / f"results-{started:%Y%m%dT%H%M%S}.json").write_text(json.dumps(
            {"machine": info, "load_start": load_start, "load_end": load_end,
             "cases": [{"id": c.cid, "label": c.label, "group": c.group, "bytes": c.bytes, "lines": c.lines,
                        "messages": c.messages, "db_bytes": c.db_bytes, "check": c.check_result, "runs": c.runs}
                       for c in cases]}, indent=1))
        if not args.no_write:
            write_section(out_path, BEGIN, END, text, SUMMARIES_HEADING)
            say(f"wrote {rel(out_path)}")
    if args.profile:
        text = profile(args, binary, data, cases)
        print(text)
        if not args.no_write:
            write_section(out_path, PBEGIN, PEND, text, SUMMARIES_HEADING)
            say(f"wrote the profile into {rel(out_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
