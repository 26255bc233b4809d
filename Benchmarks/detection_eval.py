#!/usr/bin/env python3
"""Rerunnable evaluation of `relaysum anomalies` on labelled scenarios (Benchmarks/scenarios.py).

For each seed and MTA: generate the scenario, `relaysum ingest` its log into a fresh database, run
`relaysum anomalies --since <eval start> --until <eval end> --format csv`, and score the findings against
labels.csv. Writes the table into DETECTION.md between markers (reruns replace it).

    python3 Benchmarks/detection_eval.py --relaysum .build/release/relaysum            # 3 seeds, both MTAs
    python3 Benchmarks/detection_eval.py --relaysum PATH --check-generator             # without anomalies

--check-generator ingests the scenarios and checks, through `summary --by account`, `export messages` and
`rejects --auth-failures`, that relaysum sees the traffic and incidents the generator meant (and that the scorer
gives an oracle's findings full marks). Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import scenarios as S  # noqa: E402

BEGIN = "<!-- detection_eval: begin -->"
END = "<!-- detection_eval: end -->"
GRACE = 3600  # a finding up to 1 h after an incident's last message still counts for it


def ts(s: str) -> int:
    return int(_dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc).timestamp())


def iso(t: int) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"detection_eval: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr.strip()}")
    return p.stdout


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


# --------------------------------------------------------------------------------------------------------------
# Scoring


def load_labels(path):
    out = []
    for r in csv.DictReader(open(path, encoding="utf-8")):
        out.append({"id": int(r["id"]), "kind": r["kind"], "class": r["class"], "account": r["account"],
                    "start": ts(r["start"]), "end": ts(r["end"])})
    return out


def parse_findings(text):
    out = []
    for r in csv_rows(text):
        out.append({"account": r["account"], "ws": ts(r["window_start"]), "we": ts(r["window_end"]),
                    "verdict": r["verdict"], "score": r.get("score", ""), "reasons": r.get("reasons", "")})
    return out


def overlaps(f, lab, grace=GRACE):
    """The finding's window [ws, we) meets the incident's [start, end + grace]."""
    return f["ws"] <= lab["end"] + grace and f["we"] > lab["start"]


def score(labels, findings):
    """Per-incident results and per-finding attributions for one run (one seed, one MTA)."""
    comp = [x for x in labels if x["class"] == "compromise"]
    benign = [x for x in labels if x["class"] == "benign"]
    incidents = []
    for lab in labels:
        if lab["account"] == "*":
            hits = []
        else:
            hits = sorted((f for f in findings if f["account"] == lab["account"] and overlaps(f, lab)),
                          key=lambda f: (f["ws"], f["we"]))
        c = [f for f in hits if f["verdict"] == "compromised"]
        rv = [f for f in hits if f["verdict"] == "review"]
        res = {"label": lab, "compromised": c, "review": rv}
        if c:
            res["delay"] = c[0]["we"] - lab["start"]
            res["start_error"] = c[0]["ws"] - lab["start"]
        incidents.append(res)
    # Each compromised finding: a true positive when it meets a labelled compromise of its account, else a false
    # positive attributed to a benign incident of the account, to an outage it overlaps, or to no label.
    fps = []
    tp = 0
    for f in findings:
        if f["verdict"] != "compromised":
            continue
        if any(f["account"] == x["account"] and overlaps(f, x) for x in comp):
            tp += 1
            continue
        cause = next((x for x in benign if x["account"] == f["account"] and overlaps(f, x)), None)
        if cause is None:
            cause = next((x for x in benign if x["account"] == "*" and overlaps(f, x, 4 * 3600)), None)
        fps.append({"finding": f, "cause": cause})
    # Outages: the compromised / review findings (not on a labelled compromise) that overlap them.
    for res in incidents:
        lab = res["label"]
        if lab["account"] != "*":
            continue
        res["compromised"] = [x["finding"] for x in fps if x["cause"] is lab]
        res["review"] = [f for f in findings if f["verdict"] == "review" and overlaps(f, lab, 4 * 3600)
                         and not any(f["account"] == x["account"] and overlaps(f, x) for x in labels
                                     if x["account"] != "*")]
    n_comp_findings = sum(1 for f in findings if f["verdict"] == "compromised")
    return {"incidents": incidents, "tp_findings": tp, "fp": fps, "compromised_findings": n_comp_findings,
            "review_findings": sum(1 for f in findings if f["verdict"] == "review")}


def online_delays(relaysum, db, eval_start, sc):
    """For each detected compromise, the first whole hour H at which `anomalies --until H` (as an hourly run would
    at H) already has a compromised finding for it: sets "online" = H - start. Runs on a copy of the database, so
    the findings these runs store do not touch the main run's."""
    probe = db + ".probe"
    shutil.copyfile(db, probe)
    try:
        for res in sc["incidents"]:
            lab = res["label"]
            if lab["class"] != "compromise" or not res["compromised"]:
                continue
            h0 = lab["start"] - lab["start"] % 3600 + 3600
            last = (lab["end"] + GRACE - (lab["end"] + GRACE) % 3600 + 3600 - h0) // 3600

            def hit(k):
                out = run([relaysum, "anomalies", "--db", probe, "--timezone", "UTC", "--since", iso(eval_start),
                           "--until", iso(h0 + k * 3600), "--account", lab["account"], "--format", "csv"])
                return any(f["verdict"] == "compromised" and overlaps(f, lab) for f in parse_findings(out))

            # Exponential probing, then bisection (detection is taken as monotone in H).
            lo, k = -1, 0
            while k < last and not hit(k):
                lo, k = k, min(last, 2 * k + 1)
            if k >= last and not hit(last):
                continue
            hi = k
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if hit(mid):
                    hi = mid
                else:
                    lo = mid
            res["online"] = h0 + hi * 3600 - lab["start"]
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(probe + suffix):
                os.remove(probe + suffix)


def incident_facts(relaysum, db, lab, inc):
    """What relaysum stored for a missed incident: its messages' recipients, failures and client networks."""
    out = run([relaysum, "export", "messages", "--db", db, "--timezone", "UTC", "--since", iso(lab["start"]),
               "--until", iso(lab["end"] + 60), "--format", "csv"])
    ms = [m for m in csv_rows(out) if m["account"] == lab["account"]]
    rc = sum(int(m["recipients"]) for m in ms)
    fail = sum(int(m["bounced"]) + int(m["deferred"]) for m in ms)
    hours = max(1.0, (lab["end"] - lab["start"]) / 3600)
    extra = []
    if "rate_per_hour" in inc:
        extra.append(f"drip planned at {inc['rate_per_hour']}/h")
    if "normal_rcpts_per_day" in inc:
        extra.append(f"its normal volume {inc['normal_rcpts_per_day']} recipients/day")
    return (f"stored: {len(ms)} messages, {rc} recipients ({rc / hours:.0f}/h over {hours:.0f} h), "
            f"{fail / max(1, rc):.0%} bounced or deferred, {len({net(m['client_ip']) for m in ms})} client network(s)"
            + ("; " + ", ".join(extra) if extra else ""))


def fmt_dur(s):
    if s is None:
        return "–"
    sign = "-" if s < 0 else ""
    s = abs(int(s))
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}"


def med(xs):
    return fmt_dur(statistics.median(xs)) if xs else "–"


def mx(xs):
    return fmt_dur(max(xs)) if xs else "–"


def table(results, mtas):
    """The Markdown table over all runs, per MTA and kind."""
    lines = []
    hdr = ("| MTA | kind | class | n | detected (compromised) | recall | review only | missed | median delay | "
           "max delay | median online delay | max online delay | median \\|start error\\| | max \\|start error\\| | "
           "benign judged compromised | benign with review |")
    lines.append(hdr)
    lines.append("|" + "---|" * 16)
    overall = {}
    for mta in mtas:
        runs = [r for r in results if r["mta"] == mta]
        incs = [i for r in runs for i in r["score"]["incidents"]]
        for kind in S.COMPROMISE_KINDS + S.BENIGN_KINDS:
            ks = [i for i in incs if i["label"]["kind"] == kind]
            if not ks:
                continue
            n = len(ks)
            if kind in S.COMPROMISE_KINDS:
                det = [i for i in ks if i["compromised"]]
                rev = [i for i in ks if not i["compromised"] and i["review"]]
                delays = [i["delay"] for i in det]
                errs = [abs(i["start_error"]) for i in det]
                onl = [i["online"] for i in det if "online" in i]
                lines.append(
                    f"| {mta} | {kind} | compromise | {n} | {len(det)} | {len(det) / n:.2f} | {len(rev)} | "
                    f"{n - len(det) - len(rev)} | {med(delays)} | {mx(delays)} | {med(onl)} | {mx(onl)} | "
                    f"{med(errs)} | {mx(errs)} |  |  |")
            else:
                bad = [i for i in ks if i["compromised"]]
                rev = [i for i in ks if i["review"]]
                lines.append(f"| {mta} | {kind} | benign | {n} |" + "  |" * 10 + f" {len(bad)} | {len(rev)} |")
        comp = [i for i in incs if i["label"]["class"] == "compromise"]
        det = sum(1 for i in comp if i["compromised"])
        tp = sum(r["score"]["tp_findings"] for r in runs)
        allc = sum(r["score"]["compromised_findings"] for r in runs)
        fp_unl = sum(1 for r in runs for x in r["score"]["fp"] if x["cause"] is None)
        fp_ben = sum(1 for r in runs for x in r["score"]["fp"] if x["cause"] is not None)
        overall[mta] = dict(recall=det / len(comp) if comp else 0.0, detected=det, n=len(comp),
                            precision=tp / allc if allc else float("nan"), tp=tp, findings=allc, fp_benign=fp_ben,
                            fp_unlabelled=fp_unl, review=sum(r["score"]["review_findings"] for r in runs))
    lines.append("")
    lines.append("| MTA | recall (compromises detected) | precision (compromised findings on a labelled compromise) | "
                 "false-positive findings: on a benign incident / on an unlabelled account | review findings |")
    lines.append("|---|---|---|---|---|")
    for mta, o in overall.items():
        prec = "–" if o["findings"] == 0 else f"{o['precision']:.3f} ({o['tp']} / {o['findings']})"
        lines.append(f"| {mta} | {o['recall']:.3f} ({o['detected']} / {o['n']}) | {prec} | "
                     f"{o['fp_benign']} / {o['fp_unlabelled']} | {o['review']} |")
    lines.append("")
    for mta, o in overall.items():
        ok = o["recall"] >= 0.95 and o["findings"] > 0 and o["precision"] >= 0.9
        lines.append(f"Issue 5's target for {mta}, recall ≥ 0.95 with precision ≥ 0.9: {'met' if ok else 'NOT met'}.  ")
    return "\n".join(lines), overall


def details(results):
    """Every missed compromise and every false positive, with the findings near it."""
    out = []
    for r in results:
        for i in r["score"]["incidents"]:
            lab = i["label"]
            tag = f"seed {r['seed']} {r['mta']} #{lab['id']} {lab['kind']} {lab['account']} " \
                  f"{iso(lab['start'])} – {iso(lab['end'])}"
            if lab["class"] == "compromise" and not i["compromised"]:
                near = i["review"][:2]
                what = "; ".join(f"review {iso(f['ws'])}–{iso(f['we'])} ({f['reasons']})" for f in near) or "no finding"
                out.append(f"- MISSED {tag}: {i.get('facts', '')}. Findings: {what}")
        for x in r["score"]["fp"]:
            f = x["finding"]
            cause = x["cause"]
            why = f"benign {cause['kind']} #{cause['id']}" if cause else "no label"
            out.append(f"- FALSE POSITIVE seed {r['seed']} {r['mta']} {f['account']} {iso(f['ws'])}–{iso(f['we'])} "
                       f"({why}): score {f['score']}; {f['reasons']}")
    return out


# --------------------------------------------------------------------------------------------------------------
# Generator sanity check (works without `anomalies`)


def check_generator(relaysum, workdir, seed, mta, db, meta, labels):
    """Problems found, as text lines (empty when the scenario reads as intended)."""
    problems = []
    truth = {r["key"]: r for r in csv.DictReader(open(os.path.join(workdir, mta, "truth-account.csv")))}
    summ = {r["key"]: r for r in csv_rows(run([relaysum, "summary", "--db", db, "--timezone", "UTC", "--by",
                                                 "account", "--format", "csv"]))}
    for k in sorted(set(truth) | set(summ)):
        a, b = truth.get(k), summ.get(k)
        if a is None or b is None:
            problems.append(f"account {k}: in truth {a is not None}, in relaysum {b is not None}")
            continue
        for c in ("messages", "recipients", "delivered", "deferred", "bounced"):
            if a[c] != b[c]:
                problems.append(f"account {k}: {c} truth {a[c]} relaysum {b[c]}")
    msgs = csv_rows(run([relaysum, "export", "messages", "--db", db, "--format", "csv"]))
    eval_start, eval_end = ts(meta["eval_start"]), ts(meta["eval_end"])
    by_acc = {}
    for m in msgs:
        by_acc.setdefault(m["account"], []).append(m)
    hist_nets, hist_senders = {}, {}
    for acc, ms in by_acc.items():
        for m in ms:
            if ts(m["received_at"]) < eval_start:
                hist_nets.setdefault(acc, set()).add(net(m["client_ip"]))
                hist_senders.setdefault(acc, set()).add(m["sender"])
    incs = {x["id"]: x for x in meta["incidents"]}
    stats = []
    for lab in labels:
        if lab["account"] == "*":
            continue
        inc = incs[lab["id"]]
        # A message's received time is its acceptance, up to 20 s after the label's (connection) time.
        ms = [m for m in by_acc.get(lab["account"], []) if lab["start"] <= ts(m["received_at"]) <= lab["end"] + 60]
        rc = sum(int(m["recipients"]) for m in ms)
        bo = sum(int(m["bounced"]) for m in ms)
        de = sum(int(m["deferred"]) for m in ms)
        ips = sorted({m["client_ip"] for m in ms})
        new_nets = sorted({net(ip) for ip in ips} - hist_nets.get(lab["account"], set()))
        senders = {m["sender"] for m in ms}
        new_senders = sorted(senders - hist_senders.get(lab["account"], set()))
        hours = max(1.0, (lab["end"] - lab["start"]) / 3600)
        base = [m for m in by_acc.get(lab["account"], []) if ts(m["received_at"]) < eval_start]
        base_rc = sum(int(m["recipients"]) for m in base)
        base_days = 28 if base else 0
        stats.append(f"#{lab['id']} {lab['kind']:<20} {lab['account'][:34]:<34} {len(ms):>5} msgs {rc:>5} rcpts "
                     f"({rc / hours:6.1f}/h; history {base_rc / max(1, base_days):6.1f}/day) bounced "
                     f"{bo / max(1, rc):4.0%} deferred {de / max(1, rc):4.0%} new nets {len(new_nets)} "
                     f"new senders {len(new_senders)}")
        kind = lab["kind"]
        if not ms and kind != "new_account":
            problems.append(f"#{lab['id']} {kind} {lab['account']}: no messages in the labelled window")
            continue
        if kind in ("fast_burst", "slow_drip", "brute_force_login"):
            want = set(inc["ips"])
            spam = [m for m in ms if m["client_ip"] in want]
            if not spam:
                problems.append(f"#{lab['id']} {kind}: no message from the attack addresses {sorted(want)}")
            if any(net(ip) in hist_nets.get(lab["account"], set()) for ip in want):
                problems.append(f"#{lab['id']} {kind}: an attack address is in a network the account used before")
            srec = sum(int(m["recipients"]) for m in spam)
            sfail = sum(int(m["bounced"]) + int(m["deferred"]) for m in spam)
            if srec and sfail / srec < 0.12:
                problems.append(f"#{lab['id']} {kind}: only {sfail / srec:.0%} of the spam failed")
            if kind == "fast_burst" and srec < 250:
                problems.append(f"#{lab['id']} fast_burst: only {srec} recipients")
        if kind == "ip_relay_new_sender":
            if not new_senders:
                problems.append(f"#{lab['id']} {kind}: no sender the account had not used before")
            if ips != [lab["account"][3:]]:
                problems.append(f"#{lab['id']} {kind}: client addresses {ips}")
        if kind in ("newsletter", "large_cc"):
            if new_nets:
                problems.append(f"#{lab['id']} {kind}: from a new network {new_nets}")
            if rc and bo / rc > 0.06:
                problems.append(f"#{lab['id']} {kind}: {bo / rc:.0%} bounced")
        if kind == "large_cc" and max(int(m["recipients"]) for m in ms) < 100:
            problems.append(f"#{lab['id']} large_cc: no message with 100 or more recipients")
        if kind == "traveller" and inc["ips"][0] not in ips:
            problems.append(f"#{lab['id']} traveller: no message from {inc['ips'][0]}")
        if kind == "new_account" and base:
            problems.append(f"#{lab['id']} new_account: {len(base)} messages before the evaluation period")
    # Brute force: the failed logins are stored against the login.
    fails = csv_rows(run([relaysum, "rejects", "--db", db, "--timezone", "UTC", "--auth-failures", "--by",
                          "account", "--format", "csv", "--since", meta["eval_start"], "--until", meta["eval_end"]]))
    fails = {r["key"]: int(r["attempts"]) for r in fails}
    for lab in labels:
        if lab["kind"] == "brute_force_login":
            n = incs[lab["id"]]["failed_logins"]
            got = fails.get(lab["account"], 0)
            if got < n:
                problems.append(f"#{lab['id']} brute_force_login: {got} failed logins stored, {n} generated")
    # Outages: recipients at the big providers accepted during an outage went out only after it.
    rcpts = None
    for lab in labels:
        if lab["kind"] != "outage":
            continue
        if rcpts is None:
            rcpts = csv_rows(run([relaysum, "export", "recipients", "--db", db, "--format", "csv"]))
            mtime = {m["id"]: ts(m["received_at"]) for m in msgs}
        hit = [x for x in rcpts if x["domain"] in S.OUTAGE_DOMAINS and x["message"] in mtime
               and lab["start"] <= mtime[x["message"]] < lab["end"] - 600]
        late = [x for x in hit if int(x["attempts"] or 1) >= 2 and ts(x["last_attempt_at"]) >= lab["end"]]
        stats.append(f"#{lab['id']} outage {iso(lab['start'])}–{iso(lab['end'])}: {len(hit)} recipients at the big "
                     f"providers accepted during it, {len(late)} delivered after it after retries")
        if not hit or len(late) < 0.9 * len(hit):
            problems.append(f"#{lab['id']} outage: {len(late)} of {len(hit)} held until its end")
    return problems, stats


def net(ip: str) -> str:
    """The client network: /24 for IPv4, /48 for IPv6."""
    if ":" in ip:
        import ipaddress
        return str(ipaddress.ip_network(ip + "/48", strict=False))
    return ip.rsplit(".", 1)[0] + ".0/24"


def oracle_check(labels):
    """The scorer gives a perfect detector's findings recall 1, precision 1, delay under 1 h."""
    findings = []
    for lab in labels:
        if lab["class"] == "compromise":
            ws = lab["start"] - lab["start"] % 3600
            findings.append({"account": lab["account"], "ws": ws, "we": ws + 3600, "verdict": "compromised",
                             "score": "1", "reasons": "oracle"})
        elif lab["account"] != "*":
            ws = lab["start"] - lab["start"] % 3600
            findings.append({"account": lab["account"], "ws": ws, "we": ws + 3600, "verdict": "review",
                             "score": "0", "reasons": "oracle"})
    findings.append({"account": "sasl:nobody", "ws": labels[0]["start"], "we": labels[0]["start"] + 3600,
                     "verdict": "compromised", "score": "1", "reasons": "oracle false positive"})
    sc = score(labels, findings)
    comp = [i for i in sc["incidents"] if i["label"]["class"] == "compromise"]
    problems = []
    if not all(i["compromised"] and 0 < i["delay"] <= 3600 for i in comp):
        problems.append("scorer: an oracle finding was not matched to its compromise")
    if sc["tp_findings"] != len(comp) or len(sc["fp"]) != 1 or sc["fp"][0]["cause"] is not None:
        problems.append(f"scorer: oracle precision {sc['tp_findings']} / {sc['compromised_findings']}")
    return problems


# --------------------------------------------------------------------------------------------------------------
# Driver


def write_md(path, body):
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    block = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = ("# Detection\n\nHow well `relaysum anomalies` finds compromised accounts on generated, labelled "
                "relay logs (`Benchmarks/scenarios.py`), with its default thresholds.\n\n" + block + "\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    p = argparse.ArgumentParser(description="Score `relaysum anomalies` on labelled generated scenarios.")
    p.add_argument("--relaysum", required=True, help="the relaysum binary (e.g. .build/release/relaysum)")
    p.add_argument("--seeds", type=int, default=3, help="scenarios to generate, seeds 1..N (default 3)")
    p.add_argument("--mta", choices=("postfix", "exim", "both"), default="both")
    p.add_argument("--accounts", type=int, default=120)
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--eval-days", type=int, default=7)
    p.add_argument("--work", help="keep scenarios and databases here (default: a temporary directory, removed)")
    p.add_argument("--check-generator", action="store_true",
                   help="check the scenarios through ingest, summary and export instead of running anomalies")
    p.add_argument("--no-online", action="store_true", help="skip the hour-by-hour runs that measure online delay")
    p.add_argument("--no-write", action="store_true", help="print the table; leave DETECTION.md alone")
    p.add_argument("--md", default=os.path.join(ROOT, "DETECTION.md"))
    a = p.parse_args(argv)
    relaysum = os.path.abspath(a.relaysum)
    work = a.work or tempfile.mkdtemp(prefix="relaysum-detection-")
    os.makedirs(work, exist_ok=True)
    mtas = ["postfix", "exim"] if a.mta == "both" else [a.mta]
    t_all = time.time()
    results, all_problems = [], []
    try:
        for seed in range(1, a.seeds + 1):
            sdir = os.path.join(work, f"seed{seed}")
            t0 = time.time()
            S.generate(seed, sdir, a.accounts, a.days, a.eval_days, a.mta)
            t_gen = time.time() - t0
            labels = load_labels(os.path.join(sdir, "labels.csv"))
            meta = json.load(open(os.path.join(sdir, "incidents.json")))
            for mta in mtas:
                db = os.path.join(sdir, f"{mta}.sqlite")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
                log = os.path.join(sdir, mta, "mail.log" if mta == "postfix" else "mainlog")
                t1 = time.time()
                run([relaysum, "ingest", "--quiet", "--db", db, "--timezone", "UTC", log])
                t_ing = time.time() - t1
                if a.check_generator:
                    problems, stats = check_generator(relaysum, sdir, seed, mta, db, meta, labels)
                    problems += oracle_check(labels)
                    print(f"seed {seed} {mta}: generated in {t_gen:.1f} s, ingested in {t_ing:.1f} s; "
                          f"{len(problems)} problem(s)")
                    for s in stats:
                        print("   ", s)
                    for s in problems:
                        print("  PROBLEM", s)
                    all_problems += problems
                    continue
                t2 = time.time()
                out = run([relaysum, "anomalies", "--db", db, "--timezone", "UTC", "--since", meta["eval_start"],
                           "--until", meta["eval_end"], "--format", "csv"])
                t_an = time.time() - t2
                findings = parse_findings(out)
                sc = score(labels, findings)
                t3 = time.time()
                if not a.no_online:
                    online_delays(relaysum, db, ts(meta["eval_start"]), sc)
                t_on = time.time() - t3
                incs = {x["id"]: x for x in meta["incidents"]}
                for res in sc["incidents"]:
                    lab = res["label"]
                    if lab["class"] == "compromise" and not res["compromised"]:
                        res["facts"] = incident_facts(relaysum, db, lab, incs[lab["id"]])
                results.append({"seed": seed, "mta": mta, "score": sc, "findings": findings})
                print(f"seed {seed} {mta}: generated {t_gen:.1f} s, ingest {t_ing:.1f} s, anomalies {t_an:.1f} s, online probes {t_on:.1f} s; "
                      f"{len(findings)} findings", file=sys.stderr)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.time() - t_all
    if a.check_generator:
        print(f"generator check: {len(all_problems)} problem(s) in {elapsed:.0f} s")
        return 1 if all_problems else 0
    tab, overall = table(results, mtas)
    det = details(results)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    cmd = "python3 Benchmarks/detection_eval.py --relaysum .build/release/relaysum" + \
          (f" --seeds {a.seeds}" if a.seeds != 3 else "") + (f" --mta {a.mta}" if a.mta != "both" else "")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kinds = [i["label"]["kind"] for r in results if r["mta"] == mtas[0] for i in r["score"]["incidents"]
             if i["label"]["class"] == "compromise"]
    per_kind = max((kinds.count(k) for k in set(kinds)), default=0)
    body = f"""## Results

Measured {now} by `{cmd}` (commit {commit} plus whatever the working tree had), with the default
thresholds: {a.seeds} seeds × {len(mtas)} MTA(s), each {a.accounts} accounts over {a.days} days, the last
{a.eval_days} days scored; {elapsed:.0f} s in all (load average at the end {os.getloadavg()[0]:.1f}). With {per_kind}
incidents of a kind per MTA, one incident moves a recall by {1 / max(per_kind, 1):.2f}: read the per-kind rows as rough.

{tab}

### Missed compromises and false positives

{chr(10).join(det) if det else "None."}

### What the columns mean

- Each seed is one scenario from `Benchmarks/scenarios.py --seed N` (defaults): {a.days - a.eval_days} days of
  normal history, then {a.eval_days} days with injected incidents, rendered once as a Postfix `mail.log` and once as
  an Exim `mainlog`. Each log is ingested into a fresh database and `relaysum anomalies --since <evaluation start>
  --until <evaluation end> --format csv` is run with no configuration file (default thresholds).
- The kinds (what each incident does, with its sizes) are described in `Benchmarks/README.md`; `fast_burst`,
  `slow_drip`, `ip_relay_new_sender` and `brute_force_login` are compromises, the rest benign (must not come out
  `compromised`). `incidents.json` beside each scenario's `labels.csv` has the attack addresses, senders and rates.
- **n**: labelled incidents of the kind (`labels.csv`: `id,kind,class,account,start,end`; start and end are the
  first and last message of the incident; the outage's account is `*`).
- **detected (compromised)**: compromises with a `compromised` finding of the same account whose window
  [window_start, window_end) meets [start, end + 1 h]. **recall** = detected / n. **review only**: not detected,
  but a `review` finding met it. **missed**: neither.
- **delay**: window_end of the earliest such finding − the incident's start (h:mm); how long after the first spam
  message the finding's window closes. A window grows over every flagged hour of the incident, so for long
  incidents this is about the incident's length, not how soon it was seen.
- **online delay**: how soon an hourly run would have said `compromised`: the first whole hour H (after the
  incident's first message) for which `relaysum anomalies --since <evaluation start> --until H --account A` already
  has a compromised finding meeting the incident, minus the start (found by probing a copy of the database). It
  sees each recipient's final outcome, as a run at H would not quite (a bounce after H counts).
- **\\|start error\\|**: \\|window_start − start\\| of the earliest matching finding (windows are whole hours, so
  under 1:00 when the window starts in the hour of the first spam message).
- **benign judged compromised**: benign incidents with a `compromised` finding meeting them (for an outage: any
  compromised finding of an account without a labelled incident within its window + 4 h). **benign with review**:
  benign incidents with a `review` finding meeting them (for an outage: a review finding, within its window + 4 h,
  of an account without a labelled incident then).
- **precision** = compromised findings that meet a labelled compromise of the same account / all compromised
  findings. A compromised finding on a benign incident or on an account with no label is a false positive.
- **review findings**: all `review` findings in the evaluation period (informational).
"""
    print(tab)
    if det:
        print("\n".join(det))
    if not a.no_write:
        write_md(a.md, body)
        print(f"wrote {a.md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
