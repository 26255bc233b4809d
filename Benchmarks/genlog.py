#!/usr/bin/env python3
"""Deterministic generator of realistic outgoing-relay logs (Postfix and Exim) plus their ground truth.

One traffic model (customers, messages, recipients, delivery outcomes, rejects, authentication failures) is
simulated in time order with an event heap and rendered as a Postfix ``mail.log`` and/or an Exim ``mainlog``.
The truth files count exactly what the written log shows, following SPEC.md "Meaning of the numbers".

Python 3.11 standard library only. See Benchmarks/README.md for the options.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as _dt
import gzip
import heapq
import itertools
import ipaddress
import json
import math
import operator
import os
import random
import shutil
import sys
import time

US = 1_000_000
NEVER = 1 << 30

# --------------------------------------------------------------------------------------------------------------
# Small helpers


def fd(x: float) -> str:
    """Postfix's delay format: two significant digits below 10 s, whole seconds above."""
    if x >= 9.95:
        return str(int(x + 0.5))
    if x < 0.005:
        return "0"
    x = round(x, 2)
    if x < 0.01:
        return "0.01"
    return f"{x:.2g}"


B52 = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
B51 = B52[:51]
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_PAIRS = {}


def enc(n: int, alphabet: str, width: int) -> str:
    """n in the given alphabet's base, zero-padded to width (two digits per step via a pair table)."""
    t = _PAIRS.get(alphabet)
    if t is None:
        b = len(alphabet)
        t = _PAIRS[alphabet] = [alphabet[i // b] + alphabet[i % b] for i in range(b * b)]
    b2 = len(t)
    s = ""
    while n:
        n, r = divmod(n, b2)
        s = t[r] + s
    z = alphabet[0]
    if s[:1] == z:
        s = s[1:]
    return s.rjust(width, z)


def digit_table(alphabet: str, k: int) -> list:
    """All k-digit strings of the alphabet, indexed by their value."""
    t = [""]
    for _ in range(k):
        t = [a + b for a in t for b in alphabet]
    return t


class FastRandom(random.Random):
    """random.Random with cheaper integer helpers (same seed -> same stream on every platform)."""

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))

    def randrange(self, n):
        return int(self.random() * n)

    def uniform(self, a, b):
        return a + (b - a) * self.random()

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


def parse_tz(s: str) -> int:
    """'+01:00' / '-0530' / 'UTC' -> offset in seconds."""
    if s.upper() in ("UTC", "Z"):
        return 0
    sign = -1 if s[0] == "-" else 1
    body = s.lstrip("+-").replace(":", "")
    return sign * (int(body[:2]) * 3600 + int(body[2:4] or 0) * 60)


def tz_text(off: int, colon: bool) -> str:
    sign = "-" if off < 0 else "+"
    h, m = divmod(abs(off) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def iso_utc(t_us: int) -> str:
    return _dt.datetime.fromtimestamp(t_us // US, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def reply250(t: int, msgid: str) -> str:
    """A remote server's 250 reply, varied deterministically by time."""
    k = (t >> 7) & 3
    if k == 0:
        return f"250 2.0.0 Ok: queued as {(t * 7919) & 0xFFFFFFFFFF:010X}"
    if k == 1:
        return f"250 2.0.0 OK  {t // US} {(t * 104729) & 0xFFFFFFFFFFFF:012x}si{t % 997}.{t % 89} - gsmtp"
    if k == 2:
        return f"250 2.6.0 <{msgid}> [InternalId={t % 99991 * 10007}] Queued mail for delivery"
    return "250 OK"


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# --------------------------------------------------------------------------------------------------------------
# Vocabulary

WORDS = (
    "shop bakery acme garden studio travel dental law auto print photo music books farm hotel cafe tech media "
    "design sports clinic school church club bikes wine tea pets fitness yoga florist jewel crafts games toys "
    "home decor build roof solar energy consult invest insure realty events wedding catering pizza sushi bistro "
    "brew coffee optic pharma vet kids art gallery theatre cinema radio news press agency labs cloud data net "
    "soft code web host mail market trade export logistic cargo fleet taxi tours camp ski surf dive golf tennis"
).split()
FIRST = (
    "alice bob carol dave erin frank grace heidi ivan judy mallory nina oscar peggy quentin rita sybil trent "
    "ursula victor walter xena yolanda zoe anna ben clara daniel eva felix gina hans ida jan kai lena max nora "
    "otto paula rolf sara tom ute vera wim yusuf zara emma liam mia noah lea finn lina paul julia lukas laura "
    "jonas lisa leon marie elias sophie tim hannah jakob lara moritz amelie"
).split()
ROLES = "info office sales support contact billing orders service team admin hello news newsletter accounts hr jobs".split()
NOREPLY = "noreply no-reply wordpress www-data notifications alerts mailer system donotreply".split()
BIG = [("mail.example", 0.16), ("post.test", 0.10), ("webmail.example", 0.08), ("inbox.test", 0.06),
       ("freemail.example", 0.05), ("mx-online.test", 0.04), ("telco.example", 0.03), ("cable.test", 0.03),
       ("uni.example", 0.02), ("gov.test", 0.015)]
HELOS = ["LAPTOP-{}", "DESKTOP-{}", "[192.168.1.{}]", "[10.0.0.{}]", "iPhone", "MacBook-Pro.local", "{}.fritz.box",
         "android-{}", "WIN-{}", "localhost"]
TLS_IN = [("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256/256", "TLS1.3:TLS_AES_256_GCM_SHA384:256"),
          ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "128/128", "TLS1.3:TLS_AES_128_GCM_SHA256:128"),
          ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", "256/256", "TLS1.3:TLS_CHACHA20_POLY1305_SHA256:256"),
          ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256/256", "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256")]

# Deferral reasons: (key, dsn, postfix relay=none?, postfix text, exim text). {r}=rcpt {h}=mx name {i}=mx ip {s}=sender
DEFER = [
    ("grey", "4.7.1", False,
     "host {h}[{i}] said: 450 4.7.1 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{d}.html (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp defer (-44) H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 450 4.7.1 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{d}.html"),
    ("grey2", "4.7.1", False,
     "host {h}[{i}] said: 451 4.7.1 Greylisting in action, please come back later (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp defer (-44) H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 451 4.7.1 Greylisting in action, please come back later"),
    ("timeout", "4.4.1", True,
     "connect to {h}[{i}]:25: Connection timed out",
     "R=dnslookup T=remote_smtp defer (110): Connection timed out"),
    ("full", "4.2.2", False,
     "host {h}[{i}] said: 452 4.2.2 <{r}>: Mailbox full, try again later (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp defer (-44) H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 452 4.2.2 <{r}>: Mailbox full, try again later"),
    ("rate", "4.7.0", False,
     "host {h}[{i}] said: 421 4.7.0 Too many connections from your IP, try again later (in reply to MAIL FROM command)",
     "R=dnslookup T=remote_smtp defer (-46) H={h} [{i}]: SMTP error from remote mail server after MAIL FROM:<{s}> SIZE={z}: 421 4.7.0 Too many connections from your IP, try again later"),
    ("dns", "4.4.3", True,
     "Host or domain name not found. Name service error for name={d} type=MX: Host not found, try again",
     "R=dnslookup defer (-1): host lookup did not complete"),
    ("refused", "4.4.1", True,
     "connect to {h}[{i}]:25: Connection refused",
     "R=dnslookup T=remote_smtp defer (111): Connection refused"),
]
DEFER_W = [0.30, 0.15, 0.20, 0.10, 0.10, 0.07, 0.08]
# Bounce reasons (5xx).
BOUNCE = [
    ("unknown", "5.1.1", False,
     "host {h}[{i}] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("nouser", "5.1.1", False,
     "host {h}[{i}] said: 550 5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 550 5.1.1 The email account that you tried to reach does not exist."),
    ("spam", "5.7.1", False,
     "host {h}[{i}] said: 554 5.7.1 Message rejected due to content restrictions (in reply to end of DATA command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after end of data: 554 5.7.1 Message rejected due to content restrictions"),
    ("disabled", "5.2.1", False,
     "host {h}[{i}] said: 550 5.2.1 <{r}>: Mailbox disabled for this recipient (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 550 5.2.1 <{r}>: Mailbox disabled for this recipient"),
    ("quota", "5.2.2", False,
     "host {h}[{i}] said: 552 5.2.2 <{r}>: Mailbox quota exceeded (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 552 5.2.2 <{r}>: Mailbox quota exceeded"),
    ("policy", "5.7.1", False,
     "host {h}[{i}] said: 550 5.7.1 Service unavailable; client [198.51.100.1] blocked using bl.example.net (in reply to RCPT TO command)",
     "R=dnslookup T=remote_smtp H={h} [{i}]: SMTP error from remote mail server after RCPT TO:<{r}>: 550 5.7.1 Service unavailable; client [198.51.100.1] blocked using bl.example.net"),
]
BOUNCE_W = [0.45, 0.2, 0.1, 0.1, 0.1, 0.05]
NXDOMAIN = ("nxdomain", "5.4.4", True,
            "Host or domain name not found. Name service error for name={d} type=A: Host not found",
            "Unrouteable address")
BOUNCE_NX = len(BOUNCE)
BOUNCE.append(NXDOMAIN)


def cum(ws):
    out, s = [], 0.0
    for w in ws:
        s += w
        out.append(s)
    return [x / s for x in out]


DEFER_C = cum(DEFER_W)
BOUNCE_C = cum(BOUNCE_W)

# --------------------------------------------------------------------------------------------------------------
# Model objects


class Domain:
    __slots__ = ("name", "mx", "ip", "pf_relay", "ex_host", "kind", "local")

    def __init__(self, name, mx, ip, kind="remote"):
        self.name = name
        self.mx = mx
        self.ip = ip
        self.kind = kind  # remote | invalid | local
        self.local = kind == "local"
        self.pf_relay = f"{mx}[{ip}]:25"
        self.ex_host = f"{mx} [{ip}]"


class Customer:
    __slots__ = ("kind", "login", "mech", "ips", "names", "senders", "user", "uid", "book", "batchy", "nl",
                 "domains", "null_share", "submission", "tls", "helo", "account", "accounts")


class Message:
    __slots__ = ("t_s", "t_acc", "kind", "account", "ip", "cname", "helo", "port", "login", "mech", "uid", "user",
                 "sender", "size", "msgid", "rcpts", "doms", "defl", "final", "dreason", "breason", "state",
                 "pending", "natt", "gen", "parent", "tls", "pf", "ex", "cport", "done")


class Ev:
    """A rejected attempt or an authentication failure (one log line each)."""
    __slots__ = ("t", "kind", "ip", "helo", "login", "sender", "rcpt", "port", "cport", "mech", "tls", "reason")


# One recipient line of one delivery attempt is a tuple
# (recipient index, code 0 sent / 1 deferred / 2 bounced, time, connect seconds, transfer seconds, group, first in group).


# --------------------------------------------------------------------------------------------------------------
# Output: time-ordered line buffer with day rotation


_first = operator.itemgetter(0)


class LogWriter:
    """Collects (key, text) lines, sorts them by time, stamps them and writes them to one file per local day."""

    def __init__(self, path_base: str, style: str, host: str, tz_off: int, day0_local: int, rotate: bool,
                 sink: bool = False):
        self.base = path_base
        self.style = style  # classic | rfc3339 | exim
        self.host = host
        self.off = tz_off
        self.day0 = day0_local  # local seconds of midnight of the first day
        self.rotate = rotate
        self.sink = sink
        self.buf = []
        self.seq = 0
        self.bytes = 0
        self.lines = 0
        self.files = []  # [day_index, path, bytes, lines, first_t, last_t]
        self.fh = None
        self.cur_day = None
        self.next_boundary = -1  # forces opening the first file
        self.last_sec = -2
        self.pre = ""
        self.first_t = None
        self.last_t = None
        tzs = tz_text(tz_off, True)
        self.post = f"{tzs} {host} "

    def add(self, t_us: int, text: str):
        """Queues one line; flush() sorts by time."""
        self.buf.append((t_us, text))

    def _open_day(self, day):
        if self.fh is not None:
            self.fh.close()
        self.cur_day = day
        self.next_boundary = self.day0 + (day + 1) * 86400 - self.off if self.rotate else 1 << 62
        if self.sink:
            self.fh = None
            return
        path = f"{self.base}.day{day:04d}.tmp" if self.rotate else self.base
        self.fh = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 22)
        self.files.append([day, path, 0, 0])

    def flush(self, watermark_us: int | None):
        """Writes, in time order, every queued line earlier than the watermark (all lines when None)."""
        buf = self.buf
        if not buf:
            return
        buf.sort(key=_first)  # stable: lines with equal times keep the order they were made in
        cut = len(buf) if watermark_us is None else bisect.bisect_left(buf, watermark_us, key=_first)
        if cut == 0:
            return
        if self.first_t is None:
            self.first_t = buf[0][0]
        self.last_t = buf[cut - 1][0]
        out = []
        append = out.append
        pre = self.pre
        rfc = self.style == "rfc3339"
        post = self.post
        sec = self.last_sec
        nxt = (sec + 1) * US  # first microsecond of the next second: recompute the stamp from there on
        for us, text in itertools.islice(buf, cut):
            if us >= nxt:
                sec = us // US
                nxt = (sec + 1) * US
                if sec >= self.next_boundary:
                    if out:
                        self._write(out)
                        out = []
                        append = out.append
                    self._open_day((sec + self.off - self.day0) // 86400 if self.rotate else 0)
                pre = self._stamp(sec)
            if rfc:
                append(f"{pre}{us % US:06d}{post}{text}")
            else:
                append(pre + text)
        self._write(out)
        self.last_sec = sec
        self.pre = pre
        del buf[:cut]

    def _stamp(self, sec):
        tm = time.gmtime(sec + self.off)
        if self.style == "rfc3339":
            return (f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}T"
                    f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}.")
        if self.style == "classic":
            return (f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} "
                    f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {self.host} ")
        return (f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d} "
                f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} ")

    def _write(self, out):
        if not out:
            return
        s = "\n".join(out)
        s += "\n"
        n = len(s)
        nlines = len(out)
        self.bytes += n
        self.lines += nlines
        if self.fh is not None:
            self.fh.write(s)
            f = self.files[-1]
            f[2] += n
            f[3] += nlines

    def close(self):
        self.flush(None)
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def finish_files(w: LogWriter, gzip_single: bool, rotate_k: int | None, end_local_sec: int) -> list:
    """Renames day files into a logrotate set (newest plain, .1 plain, older .gz), or gzips a single file."""
    if w.sink:
        return []
    result = []
    if not w.rotate:
        path = w.base
        if gzip_single:
            gz = path + ".gz"
            with open(path, "rb") as src, open(gz, "wb") as raw:
                with gzip.GzipFile(filename=os.path.basename(path), mode="wb", fileobj=raw, compresslevel=6,
                                   mtime=end_local_sec) as g:
                    shutil.copyfileobj(src, g, 1 << 22)
            os.remove(path)
            path = gz
        result.append({"path": os.path.basename(path), "bytes_uncompressed": w.bytes, "lines": w.lines})
        return result
    files = w.files
    # Merge the oldest days so that at most rotate_k + 1 files remain (live file plus K rotated ones).
    groups = [[f] for f in files]
    while len(groups) > rotate_k + 1:
        groups[1] = groups[0] + groups[1]
        groups.pop(0)
    n = len(groups)
    for gi, grp in enumerate(groups):
        idx = n - 1 - gi  # 0 = newest
        name = w.base if idx == 0 else f"{w.base}.{idx}"
        compress = idx >= 2
        target = name + ".gz" if compress else name
        nbytes = sum(f[2] for f in grp)
        nlines = sum(f[3] for f in grp)
        mtime = w.day0 + (grp[-1][0] + 1) * 86400 - w.off
        if compress:
            with open(target, "wb") as raw:
                with gzip.GzipFile(filename=os.path.basename(name), mode="wb", fileobj=raw, compresslevel=6,
                                   mtime=mtime) as g:
                    for f in grp:
                        with open(f[1], "rb") as src:
                            shutil.copyfileobj(src, g, 1 << 22)
                        os.remove(f[1])
        else:
            if len(grp) == 1:
                os.replace(grp[0][1], target)
            else:
                with open(target, "wb") as dst:
                    for f in grp:
                        with open(f[1], "rb") as src:
                            shutil.copyfileobj(src, dst, 1 << 22)
                        os.remove(f[1])
        os.utime(target, (mtime, mtime))
        result.append({"path": os.path.basename(target), "bytes_uncompressed": nbytes, "lines": nlines,
                       "days": [d[0] for d in grp]})
    result.reverse()
    return result


# --------------------------------------------------------------------------------------------------------------
# Renderers


class PidPool:
    """A few long-lived worker processes, replaced now and then by new ones with higher pids."""

    def __init__(self, rng, start, size, churn):
        self.rng = rng
        self.next = start
        self.size = size
        self.churn = churn
        self.pool = [self._new() for _ in range(size)]

    def _new(self):
        self.next += self.rng.randint(1, 40)
        if self.next > 4_190_000:
            self.next = 1000
        return self.next

    def get(self):
        r = self.rng
        i = r.randrange(self.size)
        if r.random() < self.churn:
            self.pool[i] = self._new()
        return self.pool[i]


class PostfixRenderer:
    def __init__(self, w: LogWriter, rng: random.Random, host: str, long_ids: bool, filter_share: float,
                 sasl_user_in_warning: float):
        self.w = w
        self.r = rng
        self.host = host
        self.long = long_ids
        self.filter_share = filter_share
        self.sasl_warn = sasl_user_in_warning
        self.inode = rng.randint(51 ** 3, 51 ** 4 - 1)
        self.hinode = rng.randint(0x100000, 0x7FFFFF)
        self.qmgr = rng.randint(900, 2000)
        self.pickup = PidPool(rng, 3000, 1, 0.001)
        self.cleanup = PidPool(rng, 3100, 3, 0.002)
        self.smtpd = PidPool(rng, 3200, 6, 0.05)
        self.smtp = PidPool(rng, 3300, 12, 0.02)
        self.bounce = PidPool(rng, 3400, 2, 0.01)
        self.local = PidPool(rng, 3500, 2, 0.01)
        self.fsmtpd = PidPool(rng, 3600, 3, 0.05)
        self.amavis = [rng.randint(5000, 9000) + 7 * i for i in range(4)]
        self.amavis_n = [1] * 4
        self.dkim = rng.randint(700, 890)
        self.anvil = rng.randint(4000, 4100)
        self.filtered = 0
        self.qsec = -1
        self.qsec_s = ""
        self.t2 = digit_table(B52, 2)  # 52**2 == 2704

    def qid(self, t_us):
        if self.long:
            self.inode += self.r.randint(1, 9)
            sec, us = divmod(t_us, US)
            t2 = self.t2
            if sec != self.qsec:
                self.qsec = sec
                self.qsec_s = f"{t2[sec // 7311616]}{t2[sec // 2704 % 2704]}{t2[sec % 2704]}"
            return f"{self.qsec_s}{t2[us // 2704]}{t2[us % 2704]}z{enc(self.inode, B51, 4)}"
        self.hinode += self.r.randint(1, 17)
        return f"{t_us % US:05X}{self.hinode:X}"

    # -- submission
    def accept(self, m: Message, t1: int):
        w, r = self.w, self.r
        add = w.add
        t = m.t_s
        qid = self.qid(m.t_acc - r.randint(20_000, 120_000))
        m.pf = [qid, None, 0, m.t_acc]  # queue id, re-injected queue id, size of the queued copy, its arrival
        size = m.size
        if m.kind == "local":
            pk = self.pickup.get()
            add(m.t_acc - 30_000, f"postfix/pickup[{pk}]: {qid}: uid={m.uid} from=<{m.user if m.sender == m.user + '@' + self.host else m.sender}>")
            msgid = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(m.t_acc // US))}.{qid}@{self.host}"
            add(m.t_acc - 20_000, f"postfix/cleanup[{self.cleanup.get()}]: {qid}: message-id=<{msgid}>")
        else:
            sasl = m.kind == "sasl"
            prog = "postfix/submission/smtpd" if (sasl and m.port == 587) else "postfix/smtpd"
            pid = self.smtpd.get()
            cl = f"{m.cname}[{m.ip}]"
            add(t, f"{prog}[{pid}]: connect from {cl}")
            t += r.randint(20_000, 90_000)
            if m.tls is not None:
                tl = TLS_IN[m.tls]
                add(t, f"{prog}[{pid}]: Anonymous TLS connection established from {cl}: {tl[0]} with cipher {tl[1]} ({tl[2]} bits)"
                       + (" key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256" if tl[0] == "TLSv1.3" else ""))
            if sasl:
                add(m.t_acc - 60_000, f"{prog}[{pid}]: {qid}: client={cl}, sasl_method={m.mech}, sasl_username={m.login}")
            else:
                add(m.t_acc - 60_000, f"{prog}[{pid}]: {qid}: client={cl}")
            msgid = m.msgid
            add(m.t_acc - 40_000, f"postfix/cleanup[{self.cleanup.get()}]: {qid}: message-id=<{msgid}>")
            if sasl:
                add(m.t_acc - 10_000, f"opendkim[{self.dkim}]: {qid}: DKIM-Signature field added (s=mail, d={m.sender.partition('@')[2] or self.host})")
            n = len(m.rcpts)
            tls = m.tls is not None
            cmds = (3 if tls else 1) + (1 if sasl else 0) + n + 3
            add(m.t_acc + r.randint(2_000, 60_000),
                f"{prog}[{pid}]: disconnect from {cl} ehlo={2 if tls else 1}{' starttls=1' if tls else ''}"
                f"{' auth=1' if sasl else ''} mail=1 rcpt={n} data=1 quit=1 commands={cmds}")
        add(m.t_acc, f"postfix/qmgr[{self.qmgr}]: {qid}: from=<{m.sender}>, size={size}, nrcpt={len(m.rcpts)} (queue active)")
        m.pf[2] = size
        if r.random() < self.filter_share:
            self._filter(m, t1, msgid)

    def _filter(self, m: Message, t1: int, msgid: str):
        """The content-filter hop: deliver to amavis on :10024, re-injected on :10025 as a new queue ID."""
        w, r = self.w, self.r
        add = w.add
        self.filtered += 1
        qid = m.pf[0]
        span = t1 - m.t_acc
        th = m.t_acc + span // 5
        te = m.t_acc + span * 3 // 4
        nq = self.qid(te - 8_000)
        m.pf[1] = nq
        size2 = m.size + r.randint(700, 1400)
        m.pf[2] = size2
        m.pf[3] = te - 5_000
        pid = self.fsmtpd.get()
        n = len(m.rcpts)
        add(te - 12_000, f"postfix/10025/smtpd[{pid}]: connect from localhost[127.0.0.1]")
        add(te - 9_000, f"postfix/10025/smtpd[{pid}]: {nq}: client=localhost[127.0.0.1]")
        add(te - 7_000, f"postfix/cleanup[{self.cleanup.get()}]: {nq}: message-id=<{msgid}>")
        add(te - 5_000, f"postfix/qmgr[{self.qmgr}]: {nq}: from=<{m.sender}>, size={size2}, nrcpt={n} (queue active)")
        add(te - 4_000, f"postfix/10025/smtpd[{pid}]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={n + 4}")
        k = r.randrange(4)
        apid = self.amavis[k]
        self.amavis_n[k] += 1
        if self.amavis_n[k] > 40:
            self.amavis[k] += r.randint(50, 400)
            self.amavis_n[k] = 1
        src = f"[{m.ip}]:{m.cport} [{m.ip}]" if m.kind != "local" else "LOCAL [127.0.0.1]"
        rc = ",".join(f"<{a}>" for a in m.rcpts)
        hits = f"{r.uniform(-3, 3):.3f}"
        ms = (te - th) // 1000
        add(te - 3_000, f"amavis[{apid}]: ({apid}-{self.amavis_n[k]:02d}) Passed CLEAN {{RelayedOutbound}}, ORIGINATING "
                        f"{src} <{m.sender}> -> {rc}, Queue-ID: {qid}, Message-ID: <{msgid}>, mail_id: "
                        f"{enc(r.getrandbits(64), B62, 12)[:12]}, Hits: {hits}, size: {m.size}, queued_as: {nq}, {ms} ms")
        spid = self.smtp.get()
        a = (th - m.t_acc) / US
        dd = (te - th) / US
        tl = te - 2_000
        delay = fd((tl - m.t_acc) / US)
        dl = f"{fd(a)}/0.01/0/{fd(dd)}"
        for i, rc1 in enumerate(m.rcpts):
            add(tl + i, f"postfix/amavis/smtp[{spid}]: {qid}: to=<{rc1}>, relay=127.0.0.1[127.0.0.1]:10024, delay={delay}, "
                        f"delays={dl}, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {nq})")
        add(tl + n + 500, f"postfix/qmgr[{self.qmgr}]: {qid}: removed")

    # -- delivery attempt
    def attempt(self, m: Message, t: int, res: list, expired: bool, ndr: Message | None, t_done: int,
                retry: bool):
        w, r = self.w, self.r
        add = w.add
        qid = m.pf[1] or m.pf[0]
        if retry:
            add(t, f"postfix/qmgr[{self.qmgr}]: {qid}: from=<{m.sender}>, size={m.pf[2]}, nrcpt={len(m.rcpts)} (queue active)")
        t_acc = m.pf[3]
        a = fd((t - t_acc) / US)
        pid = 0
        g_last = -1
        rcpts, doms = m.rcpts, m.doms
        for ri, code, tl, xc, xd, g, _ in res:
            d = doms[ri]
            rc = rcpts[ri]
            if g != g_last:
                g_last = g
                pid = self.local.get() if d.local else self.smtp.get()
                if code != 1 or not DEFER[m.dreason[ri]][2]:
                    if not d.local and d.kind != "invalid" and r.random() < 0.45:
                        add(tl - 2 - int(xd * US * 0.9),
                            f"postfix/smtp[{pid}]: {'Trusted' if r.random() < 0.6 else 'Untrusted'} TLS connection established to "
                            f"{d.pf_relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
                            f"server-signature RSA-PSS (2048 bits) server-digest SHA256")
            delay = fd((tl - t_acc) / US)
            if d.local:
                add(tl, f"postfix/local[{pid}]: {qid}: to=<{rc}>, relay=local, delay={delay}, delays={a}/0/0/{fd(xd)}, "
                        f"dsn=2.0.0, status=sent (delivered to mailbox)")
                continue
            if code == 0:
                add(tl, f"postfix/smtp[{pid}]: {qid}: to=<{rc}>, relay={d.pf_relay}, delay={delay}, "
                        f"delays={a}/0.01/{fd(xc)}/{fd(xd)}, dsn=2.0.0, status=sent ({reply250(tl, m.msgid)})")
            else:
                if code == 1:
                    key, dsn, none, ptxt, _ = DEFER[m.dreason[ri]]
                    status = "deferred"
                else:
                    key, dsn, none, ptxt, _ = BOUNCE[m.breason[ri]]
                    status = "bounced"
                txt = ptxt.format(r=rc, h=d.mx, i=d.ip, d=d.name, s=m.sender, z=m.size)
                relay = "none" if none else d.pf_relay
                dl = f"{a}/0.01/{fd(xc)}/0" if none else f"{a}/0.01/{fd(xc)}/{fd(xd)}"
                add(tl, f"postfix/smtp[{pid}]: {qid}: to=<{rc}>, relay={relay}, delay={delay}, delays={dl}, dsn={dsn}, status={status} ({txt})")
        if expired:
            add(expired, f"postfix/qmgr[{self.qmgr}]: {qid}: from=<{m.sender}>, status=expired, returned to sender")
        if ndr is not None:
            nq = self.qid(ndr.t_acc - 2_000)
            ndr.pf = [nq, None, ndr.size, ndr.t_acc]
            add(ndr.t_acc - 2_000, f"postfix/cleanup[{self.cleanup.get()}]: {nq}: message-id=<{time.strftime('%Y%m%d%H%M%S', time.gmtime(ndr.t_acc // US))}.{nq}@{self.host}>")
            add(ndr.t_acc - 1_000, f"postfix/bounce[{self.bounce.get()}]: {qid}: sender non-delivery notification: {nq}")
            add(ndr.t_acc, f"postfix/qmgr[{self.qmgr}]: {nq}: from=<>, size={ndr.size}, nrcpt=1 (queue active)")
        if t_done:
            add(t_done, f"postfix/qmgr[{self.qmgr}]: {qid}: removed")

    # -- rejected attempts and authentication failures
    def reject(self, e: Ev):
        add = self.w.add
        pid = self.smtpd.get()
        prog = "postfix/submission/smtpd" if e.port == 587 else "postfix/smtpd"
        cl = f"unknown[{e.ip}]"
        if e.reason == "relay":
            txt = f"554 5.7.1 <{e.rcpt}>: Relay access denied"
        elif e.reason == "owner":
            txt = f"553 5.7.1 <{e.sender}>: Sender address rejected: not owned by user {e.login}"
        else:
            txt = f"450 4.1.8 <{e.sender}>: Sender address rejected: Domain not found"
        add(e.t, f"{prog}[{pid}]: NOQUEUE: reject: RCPT from {cl}: {txt}; from=<{e.sender}> to=<{e.rcpt}> proto=ESMTP helo=<{e.helo}>")

    def authfail(self, e: Ev):
        add, r = self.w.add, self.r
        pid = self.smtpd.get()
        prog = "postfix/submission/smtpd" if e.port == 587 else "postfix/smtpd"
        cl = f"unknown[{e.ip}]"
        add(e.t - 900_000, f"{prog}[{pid}]: connect from {cl}")
        if r.random() < 0.5:
            add(e.t - 1_000, f"dovecot: auth: passwd-file({e.login},{e.ip}): {'Password mismatch' if r.random() < 0.7 else 'unknown user'}")
        tail = f", sasl_username={e.login}" if r.random() < self.sasl_warn else ""
        add(e.t, f"{prog}[{pid}]: warning: {cl}: SASL {e.mech} authentication failed: authentication failure{tail}")
        add(e.t + 5_000 + r.randint(0, 3 * US), f"{prog}[{pid}]: disconnect from {cl} ehlo=1 auth=0/1 quit=1 commands=2/3")

    def noise(self, t: int, kind: int, info):
        add, r = self.w.add, self.r
        if kind == 0:
            ts = time.gmtime((t - r.randint(60, 500) * US) // US + info)
            st = f"{MONTHS[ts.tm_mon - 1]} {ts.tm_mday:2d} {ts.tm_hour:02d}:{ts.tm_min:02d}:{ts.tm_sec:02d}"
            ip = f"198.51.100.{r.randint(2, 254)}"
            add(t, f"postfix/anvil[{self.anvil}]: statistics: max connection rate {r.randint(1, 30)}/60s for (submission:{ip}) at {st}")
            add(t + 300, f"postfix/anvil[{self.anvil}]: statistics: max connection count {r.randint(1, 6)} for (submission:{ip}) at {st}")
            add(t + 600, f"postfix/anvil[{self.anvil}]: statistics: max cache size {r.randint(2, 40)} at {st}")
            self.anvil += r.randint(10, 900)
        elif kind == 1:
            ts = time.gmtime((t // US) + info - 300)
            add(t, f"postfix/scache[{self.anvil + 3}]: statistics: start interval {MONTHS[ts.tm_mon - 1]} {ts.tm_mday:2d} {ts.tm_hour:02d}:{ts.tm_min:02d}:{ts.tm_sec:02d}")
            add(t + 200, f"postfix/scache[{self.anvil + 3}]: statistics: domain lookup hits={r.randint(0, 90)} miss={r.randint(1, 90)} success={r.randint(0, 99)}%")
        elif kind == 2:
            u = info
            add(t, f"dovecot: imap-login: Login: user=<{u[0]}>, method=PLAIN, rip={u[1]}, lip=198.51.100.1, "
                   f"mpid={r.randint(10000, 99999)}, TLS, session=<{enc(r.getrandbits(60), B62, 10)[:12]}>")
        elif kind == 3:
            add(t, f"CRON[{r.randint(20000, 90000)}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")
        elif kind == 4:
            add(t, f"systemd[1]: Starting logrotate.service - Rotate log files...")
            add(t + 180_000, f"systemd[1]: logrotate.service: Deactivated successfully.")
            add(t + 181_000, f"systemd[1]: Finished logrotate.service - Rotate log files.")


class EximRenderer:
    def __init__(self, w: LogWriter, rng: random.Random, host: str, new_ids: bool):
        self.w = w
        self.r = rng
        self.host = host
        self.new = new_ids
        self.pid = rng.randint(2000, 30000)
        self.qrun = rng.randint(1000, 5000)
        self.t3 = digit_table(B62, 3)  # 62**3 == 238328
        self.hosts = {}
        self.qsec = -1
        self.qsec_s = ""

    def eid(self, t_us):
        self.pid += 1 + int(self.r.random() * 97)
        if self.pid >= 62 ** 6:
            self.pid = 1000
        sec, us = divmod(t_us, US)
        t3 = self.t3
        if sec != self.qsec:
            self.qsec = sec
            self.qsec_s = f"{t3[sec // 238328]}{t3[sec % 238328]}"
        p = self.pid
        if self.new:  # 6 + 11 + 4 characters: seconds, pid, microseconds
            return f"{self.qsec_s}-00000{t3[p // 238328]}{t3[p % 238328]}-{B62[us // 238328]}{t3[us % 238328]}"
        return f"{self.qsec_s}-{t3[p // 238328]}{t3[p % 238328]}-{enc(us // 500, B62, 2)}"

    def accept(self, m: Message, t1: int):
        eid = self.eid(m.t_acc)
        m.ex = eid
        snd = m.sender or "<>"
        if m.kind == "local":
            self.w.add(m.t_acc, f"{eid} <= {snd} U={m.user} P=local S={m.size} id=E{eid}@{self.host}")
            return
        key = (m.ip, m.helo, m.login, m.tls, m.port)
        parts = self.hosts.get(key)
        if parts is None:  # the client's part of the line, around the client port
            if m.kind == "sasl" or m.cname == "unknown":
                h = f"H=({m.helo}) [{m.ip}]:"
            else:
                h = f"H={m.cname} [{m.ip}]:"
            x = f" X={TLS_IN[m.tls][3]} CV=no" if m.tls is not None else ""
            p = ("esmtpsa" if m.tls is not None else "esmtpa") if m.kind == "sasl" else ("esmtps" if m.tls is not None else "esmtp")
            a = f" A={m.mech_ex()}:{m.login}" if m.kind == "sasl" else ""
            parts = self.hosts[key] = (h, f" I=[198.51.100.1]:{m.port} P={p}{x}{a} S=")
        self.w.add(m.t_acc, f"{eid} <= {snd} {parts[0]}{m.cport}{parts[1]}{m.size} id={m.msgid}")

    def attempt(self, m: Message, t: int, res: list, expired: bool, ndr: Message | None, t_done: int,
                retry: bool):
        add = self.w.add
        eid = m.ex
        rcpts, doms = m.rcpts, m.doms
        for ri, code, tl, _, _, _, first in res:
            d = doms[ri]
            rc = rcpts[ri]
            if code == 0:
                if d.local:
                    add(tl, f"{eid} => {rc.partition('@')[0]} <{rc}> R=local_user T=mail_spool")
                    continue
                add(tl, f"{eid} {'=>' if first else '->'} {rc} R=dnslookup T=remote_smtp H={d.ex_host} "
                        f"X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"{reply250(tl, m.msgid)}\"")
            elif code == 1:
                txt = DEFER[m.dreason[ri]][4].format(r=rc, h=d.mx, i=d.ip, d=d.name, s=m.sender, z=m.size)
                add(tl, f"{eid} == {rc} {txt}")
            else:
                br = m.breason[ri]
                txt = BOUNCE[br][4].format(r=rc, h=d.mx, i=d.ip, d=d.name, s=m.sender, z=m.size)
                add(tl, f"{eid} ** {rc}{': ' if br == BOUNCE_NX else ' '}{txt}")
        if expired:
            i = 0
            for x in res:
                if x[1] == 1:
                    add(expired + i, f"{eid} ** {rcpts[x[0]]}: retry timeout exceeded")
                    i += 1
        if ndr is not None:
            nid = self.eid(ndr.t_acc)
            ndr.ex = nid
            add(ndr.t_acc, f"{nid} <= <> R={eid} U=Debian-exim P=local S={ndr.size}")
        if t_done:
            add(t_done, f"{eid} Completed")

    def reject(self, e: Ev):
        x = f" X={TLS_IN[e.tls][3]} CV=no" if e.tls is not None else ""
        if e.reason == "relay":
            txt = "relay not permitted"
            a = ""
        elif e.reason == "owner":
            txt = f"sender address not owned by {e.login}"
            a = f" A=dovecot_{e.mech.lower()}:{e.login}"
        else:
            txt = "Sender verify failed"
            a = ""
        self.w.add(e.t, f"H=({e.helo}) [{e.ip}]:{e.cport} I=[198.51.100.1]:{e.port}{x}{a} F=<{e.sender}> rejected RCPT <{e.rcpt}>: {txt}")

    def authfail(self, e: Ev):
        self.w.add(e.t, f"dovecot_{e.mech.lower()} authenticator failed for ({e.helo}) [{e.ip}]:{e.cport}: 535 Incorrect authentication data (set_id={e.login})")

    def noise(self, t: int, kind: int, info):
        add, r = self.w.add, self.r
        if kind == 0:
            self.qrun += r.randint(100, 3000)
            add(t, f"Start queue run: pid={self.qrun}")
            add(t + r.randint(50_000, 900_000), f"End queue run: pid={self.qrun}")
        elif kind == 1:
            add(t, f"no host name found for IP address 198.18.{r.randint(0, 255)}.{r.randint(1, 254)}")
        elif kind == 3:
            ip = f"198.18.{r.randint(0, 255)}.{r.randint(1, 254)}"
            add(t, f"SMTP connection from [{ip}]:{r.randint(1025, 65535)} I=[198.51.100.1]:25 lost D=0.{r.randint(1, 999):03d}s")


def _mech_ex(self):
    return "dovecot_plain" if self.mech == "PLAIN" else "dovecot_login"


Message.mech_ex = _mech_ex

# --------------------------------------------------------------------------------------------------------------
# The traffic model


class Model:
    def __init__(self, a, n_messages: int, writers: dict, stop_bytes: int | None, calib: bool = False):
        self.a = a
        self.r = FastRandom(f"relaysum-genlog-{a.seed}-model")
        self.host = a.host
        self.tz = parse_tz(a.tz)
        st = _dt.datetime.fromisoformat(a.start)
        self.start_local = int(st.replace(tzinfo=_dt.timezone.utc).timestamp())
        self.start = (self.start_local - self.tz) * US
        self.span = int(a.days * 86400 * US)
        self.t_end = self.start + self.span - 90 * US  # no episode starts after this
        self.arr_end = self.start + self.span - 600 * US
        self.lifetime = int(a.queue_lifetime * 3600 * US)
        self.n = n_messages
        self.stop_bytes = stop_bytes
        self.renderers = []
        self.writers = writers
        if "postfix" in writers:
            self.renderers.append(PostfixRenderer(writers["postfix"], FastRandom(f"relaysum-genlog-{a.seed}-postfix"),
                                                  a.host, a.queue_ids == "long", a.filter_share, 0.5))
        if "exim" in writers:
            self.renderers.append(EximRenderer(writers["exim"], FastRandom(f"relaysum-genlog-{a.seed}-exim"),
                                               a.host, a.exim_ids == "new"))
        self.heap = []
        self.hseq = 0
        self.by_sender = {}
        self.by_account = {}
        self.tot = dict(messages=0, generated=0, rejects=0, auth_failures=0, recipients=0, delivered=0, deferred=0,
                        bounced=0, bytes=0, completed=0, open_at_end=0, expired_messages=0, generated_completed=0,
                        generated_open_at_end=0, compromised_messages=0)
        self.last_arrival = self.start
        self.stopped = False
        self._build_world()

    # -- world
    def _ip4(self, net, lo, hi):
        return f"{net}.{self.r.randint(lo, hi)}"

    def _build_world(self):
        r = self.r
        a = self.a
        host = self.host
        # Recipient domains: big mailbox providers plus a long tail.
        self.domains = []
        dw = []
        mxip = 0

        def mx_ip():
            nonlocal mxip
            mxip += 1
            if r.random() < 0.15:
                return f"2001:db8:f:{mxip // 200:x}::{mxip % 200 + 1:x}"
            return f"203.0.113.{128 + (mxip * 37) % 126}"

        for name, wgt in BIG:
            self.domains.append(Domain(name, f"mx{r.randint(1, 3)}.{name}", mx_ip()))
            dw.append(wgt)
        tail = max(200, a.recipient_domains)
        used = set()
        for i in range(tail):
            while True:
                nm = f"{r.choice(WORDS)}{r.choice(WORDS)}{r.randint(1, 999)}.{r.choice(('example', 'example', 'test'))}"
                if nm not in used:
                    used.add(nm)
                    break
            self.domains.append(Domain(nm, r.choice(("mx", "mail", "smtp", "mx1", "in")) + "." + nm, mx_ip()))
            dw.append(0.45 / (i + 1) ** 0.7)
        for i in range(max(5, tail // 100)):
            nm = f"{r.choice(WORDS)}{r.randint(1, 99)}.invalid"
            self.domains.append(Domain(nm, nm, "", kind="invalid"))
            dw.append(0.0015)
        self.dom_c = cum(dw)
        # A global pool of recipient addresses with popularity.
        self.pool = []
        for i in range(20000):
            d = self.domains[bisect.bisect_left(self.dom_c, r.random())]
            lp = self._local_part()
            self.pool.append((lp, d, f"{lp}@{d.name}"))
        # Message sizes: a log-normal body (median ~6 kB) with a long tail, drawn from a table for speed.
        self.sizes = [min(30_000_000, max(380, int(math.exp(r.gauss(8.7, 1.25))))) for _ in range(8192)]
        # Customers.
        self.local_dom = Domain(host, host, "", kind="local")
        self.customers = []
        nc = a.customers
        n_local = max(2, nc // 30)
        n_ip = int(nc * 0.3)
        n_sasl = nc - n_local - n_ip
        cdoms_used = set()

        def cust_domain():
            while True:
                nm = f"{r.choice(WORDS)}{r.randint(1, 400)}.{'example' if r.random() < 0.7 else 'test'}"
                if nm not in cdoms_used and nm not in used:
                    cdoms_used.add(nm)
                    return Domain(nm, f"mx.{nm}", mx_ip())

        ip4_used = set()

        def client_ip(prefixes):
            while True:
                p = r.choice(prefixes)
                if p == "v6":
                    ip = f"2001:db8:0:{r.randint(0x20, 0x2f):x}::{r.randint(2, 0xffff):x}"
                else:
                    ip = f"{p}.{r.randint(2, 254)}"
                if ip not in ip4_used and ip != "198.51.100.1":
                    ip4_used.add(ip)
                    return str(ipaddress.ip_address(ip))

        for i in range(n_sasl):
            c = Customer()
            c.kind = "sasl"
            doms = [cust_domain() for _ in range(1 if r.random() < 0.85 else r.randint(2, 3))]
            c.domains = doms
            fn = r.choice(FIRST)
            if r.random() < 0.6:
                c.login = f"{fn}@{doms[0].name}"
                c.senders = [c.login] + [f"{r.choice(ROLES)}@{d.name}" for d in doms[: r.randint(0, len(doms))]]
            else:
                c.login = f"u{r.randint(1000, 99999)}"
                c.senders = [f"{r.choice(ROLES + FIRST)}@{d.name}" for d in doms for _ in range(r.randint(1, 3))]
            c.senders = list(dict.fromkeys(c.senders))
            c.mech = "PLAIN" if r.random() < 0.7 else "LOGIN"
            c.ips = [client_ip(["198.51.100", "203.0.113", "v6"]) for _ in range(r.randint(1, 4))]
            c.names = ["unknown"] * len(c.ips)
            c.submission = r.random() < 0.75
            c.null_share = 0.0
            self._cust_common(c)
            self.customers.append(c)
        for i in range(n_ip):
            c = Customer()
            c.kind = "ip"
            doms = [cust_domain() for _ in range(1 if r.random() < 0.6 else r.randint(2, 6))]
            c.domains = doms
            c.login = None
            c.mech = None
            c.ips = [client_ip(["192.0.2", "192.0.2", "v6"]) for _ in range(1 if r.random() < 0.7 else r.randint(2, 3))]
            c.names = [f"{r.choice(('mail', 'smtp', 'web', 'srv', 'mx'))}{k + 1}.{doms[0].name}" if r.random() < 0.8 else "unknown"
                       for k in range(len(c.ips))]
            c.senders = list(dict.fromkeys(f"{r.choice(ROLES + NOREPLY + FIRST)}@{d.name}" for d in doms
                                           for _ in range(r.randint(1, 4))))
            c.null_share = 0.05 if r.random() < 0.25 else 0.0
            c.submission = False
            self._cust_common(c)
            self.customers.append(c)
        local_users = [("www-data", 33), ("root", 0), ("nagios", 112), ("backup", 34), ("shopapp", 1001),
                       ("wpuser", 1002), ("cronjobs", 1003), ("billing", 1004)]
        for i in range(n_local):
            c = Customer()
            c.kind = "local"
            u, uid = local_users[i % len(local_users)]
            if i >= len(local_users):
                u, uid = f"site{i}", 1000 + i
            c.user, c.uid = u, uid
            c.domains = [cust_domain()]
            c.senders = [f"{u}@{host}"] + ([f"{r.choice(NOREPLY)}@{c.domains[0].name}"] if r.random() < 0.6 else [])
            c.ips, c.names, c.login, c.mech = [], [], None, None
            c.null_share = 0.0
            c.submission = False
            self._cust_common(c)
            self.customers.append(c)
        # Activity: Zipf over a shuffled order.
        order = list(range(len(self.customers)))
        r.shuffle(order)
        w = [0.0] * len(order)
        for rank, ci in enumerate(order):
            w[ci] = 1.0 / (rank + 1) ** 0.95
        self.cust_c = cum(w)
        # The account(s) to compromise.
        self.compromise = []
        sasl_idx = [i for i, c in enumerate(self.customers) if c.kind == "sasl"]
        for k in range(self.a.compromised if self.n >= 500 else 0):
            ci = sasl_idx[(k * 7 + r.randrange(len(sasl_idx))) % len(sasl_idx)]
            t0 = self.start + int(self.span * r.uniform(0.55, 0.8))
            nmsg = min(self.n // 25, r.randint(150, 400))
            self.compromise.append((ci, t0, nmsg))
        # Logins attackers try.
        self.guess = [c.login for c in self.customers if c.kind == "sasl"][:50] + \
            [f"{x}@{self.customers[i % len(self.customers)].domains[0].name}" for i, x in enumerate(("admin", "info", "test", "postmaster", "office", "sales"))] + \
            ["admin", "test", "info", "user", "guest", "root", "support"]

    def _cust_common(self, c):
        r = self.r
        c.account = f"sasl:{c.login}" if c.kind == "sasl" else f"local:{c.user}" if c.kind == "local" else None
        c.accounts = [f"ip:{ip}" for ip in c.ips]
        c.batchy = r.random() < 0.08
        c.nl = r.random() < 0.04
        c.tls = None if r.random() < 0.15 else r.randrange(len(TLS_IN))
        c.helo = r.choice(HELOS).format(r.choice(("7F3K2Q", "A1B2C3", "PC01", "X270", str(r.randint(2, 250)))))
        nb = int(r.expovariate(1 / 60)) + 5
        if c.nl:
            nb = r.randint(300, 2000)
        book = []
        for _ in range(nb):
            if r.random() < 0.5:
                book.append(self.pool[r.randrange(len(self.pool))])
            else:
                d = self.domains[bisect.bisect_left(self.dom_c, r.random())]
                lp = self._local_part()
                book.append((lp, d, f"{lp}@{d.name}"))
        c.book = book

    def _local_part(self):
        r = self.r
        x = r.random()
        if x < 0.45:
            return f"{r.choice(FIRST)}.{r.choice(WORDS)}"
        if x < 0.75:
            return f"{r.choice(FIRST)}{r.randint(1, 9999)}"
        if x < 0.9:
            return r.choice(ROLES)
        return f"{r.choice(FIRST)}_{r.choice(FIRST)}"

    # -- heap
    def push(self, t, fn, arg):
        self.hseq += 1
        heapq.heappush(self.heap, (t, self.hseq, fn, arg))

    # -- arrivals on a diurnal grid
    def _grid(self, n):
        r = self.r
        bin_us = 600 * US
        nb = max(1, (self.arr_end - self.start) // bin_us)
        ws = []
        for b in range(nb):
            tl = (self.start + b * bin_us) // US + self.tz
            h = (tl % 86400) / 3600
            wd = ((tl // 86400) + 3) % 7  # 0 = Monday
            day = 0.12 + 0.88 * math.exp(-((h - 13.0) / 4.2) ** 2) + 0.25 * math.exp(-((h - 20.5) / 1.5) ** 2)
            if wd >= 5:
                day *= 0.45
            ws.append(day * math.exp(r.gauss(0, 0.25)))
        tot = sum(ws)
        self.g_w = ws
        self.g_tot = tot
        self.g_bin = 0
        self.g_cum = 0.0
        self.g_binus = bin_us
        self.g_n = n

    def _grid_time(self, i):
        u = (i + self.r.random()) / self.g_n * self.g_tot
        ws = self.g_w
        while self.g_bin < len(ws) - 1 and self.g_cum + ws[self.g_bin] < u:
            self.g_cum += ws[self.g_bin]
            self.g_bin += 1
        frac = min(1.0, max(0.0, (u - self.g_cum) / ws[self.g_bin]))
        return self.start + self.g_bin * self.g_binus + int(frac * self.g_binus)

    # -- run
    def run(self):
        r = self.r
        n_comp = sum(x[2] for x in self.compromise)
        n_grid = max(1, self.n - n_comp)
        self._grid(n_grid)
        self.i = 0
        self.batch_left = 0
        self.batch_c = None
        self.push(self._grid_time(0), self.ev_arrival, None)
        for ci, t0, nmsg in self.compromise:
            self.push(t0, self.ev_compromise, [ci, nmsg, t0])
        self.comp_gap = min(25.0, self.span / US * 0.12 / max(1, max((x[2] for x in self.compromise), default=1)))
        scale = self.n / max(1e-9, self.span / (86400 * US))  # messages per day
        self.rej_gap = 86400 * US / max(0.01, scale * self.a.reject_rate)
        self.af_gap = 86400 * US / max(0.01, scale * self.a.authfail_rate / 12)  # bursts of ~12 failures
        self.push(self.start + int(r.expovariate(1) * self.rej_gap), self.ev_reject, None)
        self.push(self.start + int(r.expovariate(1) * self.af_gap), self.ev_authburst, None)
        self.push(self.start + r.randint(1, 600) * US, self.ev_noise, 0)
        self.push(self.start + r.randint(1, 1800) * US, self.ev_noise, 1)
        self.push(self.start + r.randint(1, 900) * US, self.ev_noise, 2)
        self.push(self.start + r.randint(1, 3600) * US, self.ev_noise, 3)
        nxt = self.start_local - self.start_local % 86400 + 86400 + r.randint(1, 900)
        self.push((nxt - self.tz) * US, self.ev_noise, 4)
        heap = self.heap
        writers = list(self.writers.values())
        t_end = self.t_end
        count = 0
        mask = 1023 if self.stop_bytes is None else 31  # check the size often when it is the stop condition
        while heap:
            if heap[0][0] > t_end:
                break
            t, _, fn, arg = heapq.heappop(heap)
            self.now = t
            fn(t, arg)
            count += 1
            if count & mask == 0:
                for w in writers:
                    if len(w.buf) > 60000:
                        w.flush(t)
                if self.stop_bytes is not None and not self.stopped:
                    # written bytes plus the queued lines at the average line length so far
                    est = max(w.bytes + len(w.buf) * (w.bytes // w.lines if w.lines else 180) for w in writers)
                    if est >= self.stop_bytes:
                        self.stopped = True
                        self.t_end = t_end = min(t_end, t + 120 * US)  # let first attempts finish
        # Messages still queued when the log ends.
        for t, _, fn, arg in heap:
            if fn == self.ev_retry and arg.done == 0:
                arg.done = -1
                self._tally(arg)
        self.end_time = min(self.t_end, self.now)

    # -- events
    def ev_arrival(self, t, _):
        r = self.r
        if self.stopped:
            return
        if self.batch_left > 0:
            self.batch_left -= 1
            c = self.batch_c
        else:
            c = self.customers[bisect.bisect_left(self.cust_c, r.random())]
            if (c.batchy or c.nl) and r.random() < 0.15:
                self.batch_left = r.randint(5, 60) if c.nl else r.randint(3, 20)
                self.batch_c = c
        self._new_message(c, t, newsletter=c.nl and self.batch_left > 0)
        self.i += 1
        if self.i < self.g_n:
            self.push(max(t + 1, self._grid_time(self.i)), self.ev_arrival, None)

    def ev_compromise(self, t, st):
        ci, left, t0 = st
        if self.stopped:
            return
        c = self.customers[ci]
        self._new_message(c, t, spam=True)
        self.tot["compromised_messages"] += 1
        if self.r.random() < 0.08:
            self._reject_event(t + 400_000, "owner", c)
        st[1] -= 1
        if st[1] > 0:
            self.push(t + int(self.r.expovariate(1 / self.comp_gap) * US) + 1, self.ev_compromise, st)

    def _new_message(self, c: Customer, t_s: int, newsletter=False, spam=False):
        r = self.r
        m = Message()
        m.t_s = t_s
        m.gen = False
        m.parent = None
        m.kind = c.kind
        m.natt = 0
        m.done = 0
        m.tls = c.tls
        m.cport = r.randint(1025, 65535)
        if c.kind == "local":
            m.account = c.account
            m.uid, m.user = c.uid, c.user
            m.ip = m.cname = m.helo = m.login = m.mech = None
            m.port = 0
            m.tls = None
        else:
            k = r.randrange(len(c.ips))
            m.ip, m.cname = c.ips[k], c.names[k]
            m.uid = m.user = None
            if c.kind == "sasl":
                m.login, m.mech = c.login, c.mech
                m.account = c.account
                m.port = 587 if c.submission else 25
                m.helo = c.helo
                if spam:
                    m.ip = f"198.18.{r.randint(0, 255)}.{r.randint(1, 254)}"
                    m.helo = f"[{m.ip}]"
            else:
                m.login = m.mech = None
                m.account = c.accounts[k]
                m.port = 25
                m.helo = m.cname if m.cname != "unknown" else f"{c.domains[0].name}"
        if c.null_share and r.random() < c.null_share:
            m.sender = ""
        else:
            m.sender = c.senders[0] if (len(c.senders) == 1 or r.random() < 0.5) else c.senders[r.randrange(len(c.senders))]
        # Recipients.
        if not m.sender:
            nr = 1  # a forwarded bounce goes back to one address
        elif spam:
            nr = r.randint(5, 30)
        elif newsletter:
            nr = 1 if r.random() < 0.8 else 40
        else:
            x = r.random()
            nr = 1 if x < 0.72 else 2 if x < 0.84 else 3 if x < 0.9 else r.randint(4, 9) if x < 0.98 else r.randint(10, 50)
        book = c.book
        pool = self.pool
        rnd = r.random
        if nr == 1 and not spam:
            e = book[int(rnd() * len(book))] if rnd() < 0.85 else pool[int(rnd() * len(pool))]
            rc, dm = [e[2]], [e[1]]
        else:
            seen = set()
            rc, dm = [], []
            tries = 0
            while len(rc) < nr and tries < nr * 4:
                tries += 1
                if spam:
                    lp, d, _ = pool[int(rnd() * len(pool))]
                    addr = f"{lp}{r.randint(1, 99)}@{d.name}"
                else:
                    _, d, addr = book[int(rnd() * len(book))] if rnd() < 0.85 else pool[int(rnd() * len(pool))]
                if addr in seen:
                    continue
                seen.add(addr)
                rc.append(addr)
                dm.append(d)
        # Group recipients by domain (delivery order), preserving first appearance.
        if len(rc) > 1:
            order = {}
            for i, d in enumerate(dm):
                order.setdefault(d.name, []).append(i)
            idx = [i for lst in order.values() for i in lst]
            rc = [rc[i] for i in idx]
            dm = [dm[i] for i in idx]
        m.rcpts, m.doms = rc, dm
        # Size.
        if spam:
            m.size = int(r.uniform(2500, 9000))
        elif newsletter:
            m.size = int(math.exp(r.gauss(10.4, 0.4)))
        else:
            m.size = self.sizes[int(rnd() * 8192)]
        m.msgid = self._msgid(m, c, t_s)
        self._fates(m, spam)
        dur = int((0.15 + r.expovariate(1 / 0.6) + m.size / 4e6) * US)
        m.t_acc = t_s + min(dur, 20 * US)
        t1 = m.t_acc + int(r.uniform(0.5, 3.0) * US)
        for rd in self.renderers:
            rd.accept(m, t1)
        self.attempt(m, t1, False)

    def _msgid(self, m, c, t):
        r = self.r
        dom = m.sender.partition("@")[2] or (c.domains[0].name if c.domains else self.host)
        k = r.random()
        ts = t // US
        if k < 0.35:
            return f"{r.getrandbits(40):010X}.{r.getrandbits(20):05X}@{dom}"
        if k < 0.6:
            return f"{ts:x}.{r.getrandbits(32):X}@{dom}"
        if k < 0.8:
            return f"{r.getrandbits(128):032x}@{dom}"
        return f"{r.getrandbits(64):x}-{ts}@mail.{dom}"

    def _fates(self, m: Message, spam: bool):
        r = self.r
        a = self.a
        n = len(m.rcpts)
        m.defl = [0] * n
        m.final = [0] * n  # 0 deliver, 2 bounce
        m.dreason = [0] * n
        m.breason = [0] * n
        m.state = [0] * n  # 0 none, 1 delivered, 2 deferred, 3 bounced
        m.pending = list(range(n))
        pd, pb, pdb, ps = a.p_defer, a.p_bounce, a.p_defer_bounce, a.p_stuck
        if spam:
            pd, pb, pdb, ps = 0.25, 0.25, 0.05, 0.03
        dc, bc = DEFER_C, BOUNCE_C
        for i in range(n):
            d = m.doms[i]
            if d.kind == "invalid":
                m.final[i] = 2
                m.breason[i] = BOUNCE_NX
                continue
            x = r.random()
            if x < pd:
                rs = bisect.bisect_left(dc, r.random())
                m.dreason[i] = rs
                m.defl[i] = 1 if rs < 2 else min(12, 1 + int(r.expovariate(0.6)))
            elif x < pd + pb:
                m.final[i] = 2
                m.breason[i] = bisect.bisect_left(bc, r.random())
            elif x < pd + pb + pdb:
                m.final[i] = 2
                m.breason[i] = bisect.bisect_left(bc, r.random())
                m.dreason[i] = bisect.bisect_left(dc, r.random())
                m.defl[i] = 1 + int(r.expovariate(0.5))
            elif x < pd + pb + pdb + ps:
                m.dreason[i] = 2 + r.randrange(2) * 4  # timeout or refused: never gets through
                m.defl[i] = NEVER

    def attempt(self, m: Message, t: int, retry: bool):
        """One delivery run over the message's pending recipients at time t."""
        r = self.r
        rnd = r.random
        m.natt += 1
        expired = (t - m.t_acc) >= self.lifetime
        res = []
        still = []
        g = -1
        dname = None
        c = dd = 0.0
        gt = t
        first = True
        latest = t
        state, doms, defl, final = m.state, m.doms, m.defl, m.final
        sz = m.size / 2.5e6
        any_bounce = False
        for ri in m.pending:
            dm = doms[ri]
            if dm.name != dname:  # a new destination: its own connection
                dname = dm.name
                g += 1
                gt = t + 5_000 + int(rnd() * 395_000)
                c = 0.03 + rnd() * 0.87
                dd = 0.05 + rnd() * 1.45 + sz
                first = True
            if defl[ri] > 0:
                defl[ri] -= 1
                code = 1
                dr = m.dreason[ri]
                if dr == 2:  # connection timed out
                    tl = gt + 30 * US
                    cc, d2 = 30.0, 0.0
                elif DEFER[dr][2]:
                    tl = gt + int(c * US)
                    cc, d2 = c, 0.0
                else:
                    tl = gt + int((c + 0.2) * US)
                    cc, d2 = c, 0.2
                state[ri] = 2
                still.append(ri)
            else:
                code = final[ri]
                if dm.kind == "invalid":
                    tl = gt + 100_000
                    cc, d2 = 0.1, 0.0
                else:
                    tl = gt + int((c + dd) * US)
                    cc, d2 = c, dd
                if code == 0:
                    state[ri] = 1
                else:
                    state[ri] = 3
                    any_bounce = True
            tl += len(res)  # distinct, ordered times within one attempt
            res.append((ri, code, tl, cc, d2, g, first and code == 0))
            if code == 0:
                first = False
            if tl > latest:
                latest = tl
        m.pending = still
        t_exp = 0
        if still and expired:
            t_exp = latest + r.randint(100, 2_000)
            latest = t_exp + len(still)
            for ri in still:
                state[ri] = 3
            any_bounce = True
            if not m.gen:
                self.tot["expired_messages"] += 1
        done = not still or t_exp
        ndr = None
        t_done = 0
        if any_bounce and m.sender and not m.gen:
            ndr = self._ndr(m, latest + r.randint(5_000, 20_000))
            latest = ndr.t_acc
        if done:
            t_done = latest + r.randint(200, 5_000)
        for rd in self.renderers:
            rd.attempt(m, t, res, t_exp, ndr, t_done, retry)
        if done:
            m.done = 1
            m.pending = []
            self._tally(m)
        else:
            n = m.natt
            back = min(300 * 2 ** (n - 1), 4000) * US
            self.push(latest + int(back * r.uniform(1.0, 1.25)), self.ev_retry, m)
        if ndr is not None:
            self.attempt(ndr, ndr.t_acc + r.randint(30_000, 600_000), False)

    def ev_retry(self, t, m):
        self.attempt(m, t, True)

    def _ndr(self, m: Message, t: int) -> Message:
        r = self.r
        n = Message()
        n.t_s = n.t_acc = t
        n.gen = True
        n.parent = m
        n.kind = "gen"
        n.natt = 0
        n.done = 0
        n.sender = ""
        n.size = 2200 + min(m.size, 50_000) + r.randint(0, 600)
        n.msgid = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(t // US))}.{r.getrandbits(40):X}@{self.host}"
        n.rcpts = [m.sender]
        dom = m.sender.partition("@")[2]
        d = None
        if dom == self.host:
            d = self.local_dom
        else:
            d = self._sender_domain(dom)
        n.doms = [d]
        n.defl = [0 if (d.local or r.random() < 0.96) else 1 + int(r.expovariate(0.7))]
        n.final = [0]
        n.dreason = [2]
        n.breason = [0]
        n.state = [0]
        n.pending = [0]
        self.tot["generated"] += 1
        return n

    def _sender_domain(self, name):
        cache = self.__dict__.setdefault("_sdom", {})
        d = cache.get(name)
        if d is None:
            for c in self.customers:
                for cd in c.domains:
                    cache[cd.name] = cd
            d = cache.get(name)
            if d is None:
                d = Domain(name, f"mx.{name}", "203.0.113.250")
                cache[name] = d
        return d

    def _tally(self, m: Message):
        tot = self.tot
        if m.gen:
            if m.done == 1:
                tot["generated_completed"] += 1
            else:
                tot["generated_open_at_end"] += 1
            return
        st = m.state
        dl = st.count(1)
        df = st.count(2)
        bo = st.count(3)
        n = len(st)
        size = m.size
        for table, k in ((self.by_sender, m.sender or "<>"), (self.by_account, m.account)):
            cur = table.get(k)
            if cur is None:
                table[k] = [1, n, dl, df, bo, size]
            else:
                cur[0] += 1
                cur[1] += n
                cur[2] += dl
                cur[3] += df
                cur[4] += bo
                cur[5] += size
        tot["messages"] += 1
        tot["recipients"] += n
        tot["delivered"] += dl
        tot["deferred"] += df
        tot["bounced"] += bo
        tot["bytes"] += m.size
        if m.done == 1:
            tot["completed"] += 1
        else:
            tot["open_at_end"] += 1

    # -- rejects, authentication failures, noise
    def _reject_event(self, t, reason, c=None, k=1):
        """One refused SMTP session: k rejected RCPTs from the same client and sender."""
        r = self.r
        e = Ev()
        e.t = t
        e.reason = reason
        e.cport = r.randint(1025, 65535)
        e.tls = None if r.random() < 0.4 else r.randrange(len(TLS_IN))
        e.mech = "PLAIN"
        e.login = None
        e.rcpt = self.pool[r.randrange(len(self.pool))][2]
        if reason == "owner":
            if c is None:
                c = self.customers[bisect.bisect_left(self.cust_c, r.random())]
                while c.kind != "sasl":
                    c = self.customers[r.randrange(len(self.customers))]
            e.login = c.login
            e.mech = c.mech
            e.ip = c.ips[0]
            e.helo = f"[{e.ip}]"
            e.port = 587
            e.sender = f"{r.choice(ROLES + FIRST)}@{r.choice(self.domains[:10]).name}"
        else:
            e.ip = f"198.18.{r.randint(0, 255)}.{r.randint(1, 254)}" if r.random() < 0.85 else f"2001:db8:bad::{r.randint(1, 0xffff):x}"
            e.helo = r.choice(("User", "ylmf-pc", "[" + e.ip + "]", "WIN-4Q5ATG1", f"mail{r.randint(1, 99)}.spam.invalid"))
            e.port = 25
            if reason == "relay":
                e.sender = f"{r.choice(FIRST)}{r.randint(1, 999)}@{r.choice(self.domains[10:60]).name}"
            else:
                e.sender = f"{r.choice(FIRST)}@{r.choice(WORDS)}{r.randint(1, 999)}.invalid"
        for j in range(k):
            if j:
                e.t += r.randint(20_000, 300_000)
                e.rcpt = self.pool[r.randrange(len(self.pool))][2]
            self.tot["rejects"] += 1
            for rd in self.renderers:
                rd.reject(e)

    def ev_reject(self, t, _):
        r = self.r
        x = r.random()
        reason = "relay" if x < 0.6 else "owner" if x < 0.8 else "sender"
        self._reject_event(t, reason, k=1 if r.random() < 0.7 else r.randint(2, 3))
        self.push(t + int(r.expovariate(1) * self.rej_gap) + 1, self.ev_reject, None)

    def ev_authburst(self, t, st):
        r = self.r
        if st is None:
            # a new burst: an attacker, or a customer with a wrong password
            if r.random() < 0.2:
                c = self.customers[bisect.bisect_left(self.cust_c, r.random())]
                if c.kind == "sasl":
                    st = [r.randint(1, 3), c.ips[0], [c.login], c.mech, 587 if c.submission else 25, f"[{c.ips[0]}]"]
            if st is None:
                ip = f"198.18.{r.randint(0, 255)}.{r.randint(1, 254)}"
                st = [max(1, int(r.expovariate(1 / 14))), ip, self.guess, "LOGIN" if r.random() < 0.8 else "PLAIN",
                      587 if r.random() < 0.6 else 25, r.choice(("User", "ylmf-pc", f"[{ip}]", "WIN-CLJ1B0GQ6JP"))]
            self.push(t + int(r.expovariate(1) * self.af_gap) + 1, self.ev_authburst, None)
        e = Ev()
        e.t = t + US
        e.kind = "auth"
        e.ip = st[1]
        e.login = st[2][r.randrange(len(st[2]))]
        e.mech = st[3]
        e.port = st[4]
        e.helo = st[5]
        e.cport = r.randint(1025, 65535)
        self.tot["auth_failures"] += 1
        for rd in self.renderers:
            rd.authfail(e)
        st[0] -= 1
        if st[0] > 0:
            self.push(t + r.randint(2, 25) * US, self.ev_authburst, st)

    def ev_noise(self, t, kind):
        r = self.r
        if kind == 0:
            info = self.tz
            for rd in self.renderers:
                rd.noise(t, 0, info)
            nxt = t + r.randint(300, 1200) * US
        elif kind == 1:
            for rd in self.renderers:
                rd.noise(t, 1, self.tz)
            nxt = t + r.randint(600, 3600) * US
        elif kind == 2:
            c = self.customers[bisect.bisect_left(self.cust_c, r.random())]
            if c.kind == "sasl" and c.login:
                for rd in self.renderers:
                    rd.noise(t, 2, (c.login, c.ips[0]))
            nxt = t + int(r.expovariate(1 / 400) * US) + 1
        elif kind == 3:
            for rd in self.renderers:
                rd.noise(t, 3, None)
            nxt = t + 3600 * US
        else:
            for rd in self.renderers:
                rd.noise(t, 4, None) if isinstance(rd, PostfixRenderer) else rd.noise(t, 0, None)
            nxt = t + 86400 * US
        self.push(nxt, self.ev_noise, kind)


# --------------------------------------------------------------------------------------------------------------
# Driver


def write_truth(dirpath: str, model: Model, files: dict, account_local_postfix: bool):
    os.makedirs(dirpath, exist_ok=True)
    hdr = "key,messages,recipients,delivered,deferred,bounced,bytes\n"

    def dump(name, table, keymap=None):
        rows = {}
        for k, v in table.items():
            kk = keymap(k) if keymap else k
            cur = rows.get(kk)
            if cur is None:
                rows[kk] = list(v)
            else:
                for i in range(6):
                    cur[i] += v[i]
        with open(os.path.join(dirpath, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(hdr)
            for k in sorted(rows):
                v = rows[k]
                f.write(f"{k},{v[0]},{v[1]},{v[2]},{v[3]},{v[4]},{v[5]}\n")

    dump("truth-sender.csv", model.by_sender)
    if account_local_postfix is not None:
        if account_local_postfix:
            uids = {f"local:{c.user}": f"local:{c.uid}" for c in model.customers if c.kind == "local"}
            dump("truth-account.csv", model.by_account, lambda k: uids.get(k, k))
        else:
            dump("truth-account.csv", model.by_account)
    tot = dict(model.tot)
    tot["senders"] = len(model.by_sender)
    tot["accounts"] = len(model.by_account)
    tot["log_start"] = iso_utc(model.start)
    tot["log_end"] = iso_utc(model.end_time)
    tot["compromised"] = [{"account": f"sasl:{model.customers[ci].login}", "start": iso_utc(t0), "messages_planned": n}
                          for ci, t0, n in model.compromise]
    tot["files"] = files
    pf = [rd for rd in model.renderers if isinstance(rd, PostfixRenderer)]
    if pf and (account_local_postfix or account_local_postfix is None):
        tot["postfix_content_filtered"] = pf[0].filtered
    with open(os.path.join(dirpath, "truth-totals.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(tot, f, indent=2, sort_keys=True)
        f.write("\n")


def build(a, n_messages, out, stop_bytes=None, sink=False):
    tz = parse_tz(a.tz)
    st = _dt.datetime.fromisoformat(a.start)
    start_local = int(st.replace(tzinfo=_dt.timezone.utc).timestamp())
    day0 = start_local - start_local % 86400
    mtas = ["postfix", "exim"] if a.mta == "both" else [a.mta]
    writers = {}
    for mta in mtas:
        d = os.path.join(out, mta) if a.mta == "both" else out
        if not sink:
            os.makedirs(d, exist_ok=True)
        base = os.path.join(d, "mail.log" if mta == "postfix" else "mainlog")
        style = a.stamp if mta == "postfix" else "exim"
        writers[mta] = LogWriter(base, style, a.host, tz, day0, a.rotate is not None, sink=sink)
    model = Model(a, n_messages, writers, stop_bytes)
    model.run()
    for w in writers.values():
        w.close()
    return model, writers, mtas, start_local, day0


def main(argv=None):
    p = argparse.ArgumentParser(description="Generate realistic Postfix/Exim relay logs plus their ground truth.")
    p.add_argument("--mta", choices=("postfix", "exim", "both"), default="postfix")
    p.add_argument("--messages", type=int, default=10000, help="accepted messages to generate (default 10000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default="2026-11-07T00:00:00", help="local start time (default 2026-11-07T00:00:00)")
    p.add_argument("--days", type=float, default=1.0)
    p.add_argument("--tz", default="+00:00", help="local time zone offset of the relay, e.g. +01:00 (default +00:00)")
    p.add_argument("--stamp", choices=("classic", "rfc3339"), default="classic", help="Postfix syslog stamp style")
    p.add_argument("--host", default="relay1.example")
    p.add_argument("--out", required=True)
    p.add_argument("--rotate", type=int, default=None, metavar="K",
                   help="split by local day into a logrotate set: live file plus K rotated ones (.1 plain, .2.gz ...)")
    p.add_argument("--gzip", action="store_true", help="gzip the single output file (without --rotate)")
    p.add_argument("--target-bytes", type=int, default=None,
                   help="generate until the (uncompressed) log reaches this size; --messages is then ignored")
    p.add_argument("--queue-ids", choices=("long", "short"), default="long", help="Postfix queue ID style")
    p.add_argument("--exim-ids", choices=("new", "old"), default="new", help="Exim message ID format")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--recipient-domains", type=int, default=3000)
    p.add_argument("--filter-share", type=float, default=0.30, help="Postfix messages through the content filter")
    p.add_argument("--queue-lifetime", type=float, default=48.0, help="hours until deferred mail expires (default 48)")
    p.add_argument("--p-defer", type=float, default=0.06, help="recipient deferred, later delivered")
    p.add_argument("--p-bounce", type=float, default=0.025, help="recipient bounced at once (5xx)")
    p.add_argument("--p-defer-bounce", type=float, default=0.008, help="recipient deferred, then bounced")
    p.add_argument("--p-stuck", type=float, default=0.004, help="recipient deferred until it expires")
    p.add_argument("--reject-rate", type=float, default=0.03, help="rejected RCPTs per accepted message")
    p.add_argument("--authfail-rate", type=float, default=0.05, help="SASL failures per accepted message")
    p.add_argument("--compromised", type=int, default=1, help="SASL accounts that send a spam run (default 1)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.rotate is not None and a.rotate < 1:
        p.error("--rotate needs K >= 1")
    t0 = time.time()
    out = a.out
    os.makedirs(out, exist_ok=True)
    n = a.messages
    stop = None
    if a.target_bytes:
        # Calibrate bytes per message on a small run of the same model, then aim 25 % high and stop at the size.
        cal_n = 4000
        cm, cw, _, _, _ = build(a, cal_n, out, sink=True)
        per = max(w.bytes for w in cw.values()) / max(1, cm.tot["messages"])
        n = int(a.target_bytes / per * 1.25) + 100
        stop = a.target_bytes
    model, writers, mtas, start_local, day0 = build(a, n, out, stop_bytes=stop)
    end_local = model.end_time // US + model.tz
    files = {}
    for mta in mtas:
        files[mta] = finish_files(writers[mta], a.gzip and a.rotate is None, a.rotate, end_local)
    if a.mta == "both":
        for mta in mtas:
            write_truth(os.path.join(out, mta), model, {mta: files[mta]}, mta == "postfix")
        write_truth(out, model, files, None)
    else:
        write_truth(out, model, files, a.mta == "postfix")
    dt = time.time() - t0
    total = sum(w.bytes for w in writers.values())
    if not a.quiet:
        print(f"genlog: {model.tot['messages']} messages, {model.tot['generated']} generated, "
              f"{sum(w.lines for w in writers.values())} lines, {total / 1e6:.1f} MB in {dt:.1f} s "
              f"({total / 1e6 / max(dt, 1e-9):.1f} MB/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
