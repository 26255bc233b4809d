#!/usr/bin/env python3
"""Labelled scenarios for evaluating `relaysum anomalies`: weeks of per-account relay traffic with injected incidents.

One seeded traffic model (accounts with their own volumes, hours, client networks, senders and bounce rates) is
rendered as a Postfix ``mail.log`` and an Exim ``mainlog`` through genlog.py's renderers, so both logs carry the
same traffic. The first ``--days - --eval-days`` days are normal history; in the evaluation period the model
injects compromises (``fast_burst``, ``slow_drip``, ``ip_relay_new_sender``, ``brute_force_login``) and benign
bursts (``newsletter``, ``weekly_newsletter``, ``large_cc``, ``outage``, ``traveller``, ``new_account``) and writes
them to ``labels.csv``. Python 3.11 standard library only; the same arguments always give byte-identical output.

    python3 Benchmarks/scenarios.py --seed 1 --out /tmp/scen1          # DIR/postfix/mail.log, DIR/exim/mainlog
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import datetime as _dt
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import genlog as G  # noqa: E402

US = G.US
HOUR = 3600 * US
DAY = 86400 * US

COMPROMISE_KINDS = ("fast_burst", "slow_drip", "ip_relay_new_sender", "brute_force_login")
BENIGN_KINDS = ("newsletter", "large_cc", "outage", "traveller", "new_account", "weekly_newsletter")

# The mailbox providers an outage makes unreachable (the biggest destinations in genlog's recipient model).
OUTAGE_DOMAINS = ("mail.example", "post.test", "webmail.example", "inbox.test", "freemail.example")

# Hour-of-day weights (local time = UTC here) and the weekend factor of each profile.
PROFILES = {
    "office": ([0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.1, 0.4, 0.9, 1.0, 1.0, 0.95, 0.6, 0.8, 0.95, 0.9, 0.8, 0.55,
                0.3, 0.15, 0.1, 0.08, 0.05, 0.03], 0.12),
    "home": ([0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.3, 0.35, 0.3, 0.3, 0.35, 0.4, 0.35, 0.3, 0.35, 0.45, 0.6,
              0.8, 1.0, 1.0, 0.85, 0.5, 0.2], 1.1),
    "shop": ([0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.25, 0.5, 0.8, 0.9, 1.0, 1.0, 1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 1.0,
              1.0, 0.9, 0.7, 0.5, 0.3], 0.85),
    "server": ([0.5, 0.45, 1.6, 0.45, 0.45, 0.5, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8,
                0.7, 0.65, 0.6, 0.55, 0.5], 0.7),
}


def iso(t_us: int) -> str:
    return G.iso_utc(t_us)


class Net:
    """One usual client network of an account: a fixed address, a dynamic pool in one /24, an ISP range of several
    /24s, or an IPv6 /48 whose interface ID changes daily."""

    __slots__ = ("kind", "base", "fixed", "span")

    def __init__(self, kind, base, fixed=None, span=1):
        self.kind = kind  # static | dynamic | isp | v6
        self.base = base  # "198.18.7" / ("198.19", 8) / "2001:db8:1a2"
        self.fixed = fixed
        self.span = span

    def address(self, r) -> str:
        if self.kind == "static":
            return self.fixed
        if self.kind == "dynamic":
            return f"{self.base}.{r.randint(2, 254)}"
        if self.kind == "isp":
            pre, third = self.base
            return f"{pre}.{third + r.randrange(self.span)}.{r.randint(2, 254)}"
        return f"{self.base}:{r.randint(0, 0xff):x}::{r.randint(2, 0xffff):x}"


class Account:
    """One outgoing user with its normal behaviour (genlog's renderers read the Customer-like fields)."""

    def __init__(self):
        self.kind = "sasl"
        self.account = ""
        self.login = None
        self.mech = None
        self.submission = True
        self.tls = None
        self.helo = ""
        self.nets = []
        self.net_w = []
        self.ips = []
        self.names = []
        self.senders = []
        self.domains = []
        self.book = []
        self.user = None
        self.uid = None
        self.rpd = 10.0
        self.rpm = 1.5
        self.profile = "office"
        self.p_bounce = 0.02
        self.p_defer = 0.04
        self.first_day = 0
        self.weekly = None  # (weekday, hour, recipients) of a regular newsletter
        self.today = (-1, None)


class ScenMessage(G.Message):
    """A genlog Message that may carry attributes of its own (genlog's Message has __slots__)."""


class Scenario(G.Model):
    """genlog's traffic model (delivery attempts, retries, bounces, truth tally) with scenario accounts."""

    def __init__(self, a, writers):
        self.sa = a
        super().__init__(a, 1000, writers, None)
        for rd in self.renderers:
            if isinstance(rd, G.PostfixRenderer):
                rd.sasl_warn = 1.0  # Postfix 3.x logs sasl_username= on every failed login it can attribute

    # -- world
    def _build_world(self):
        a = self.sa
        super()._build_world()  # recipient domains, address pool, sizes (and a few customers we replace)
        r = self.r
        self.eval_start = self.start + (a.days - a.eval_days) * DAY
        self.eval_end = self.start + a.days * DAY
        self.big = {d.name: d for d in self.domains if d.name in OUTAGE_DOMAINS}
        self.big_c = G.cum([w for _, w in G.BIG])
        self.v4_nets = [f"198.18.{i}" for i in range(256)]
        r.shuffle(self.v4_nets)
        self.isp_blocks = [("198.19", 4 * i) for i in range(16)]  # 198.19.0.0/24 .. 198.19.63.0/24, four /24s each
        self.new_v4 = [f"198.19.{i}" for i in range(64, 250)]  # never used by any account's normal traffic
        r.shuffle(self.new_v4)
        self.v6_n = 0x100
        self.relay_ips = [f"192.0.2.{i}" for i in range(2, 255)] + [f"203.0.113.{i}" for i in range(2, 128)]
        self.relay_n = 0
        self.used_domains = set()
        self.accounts = []
        n = a.accounts
        n_local = max(2, n // 40)
        n_ip = int(n * 0.25)
        n_sasl = n - n_local - n_ip
        for _ in range(n_sasl):
            self.accounts.append(self._sasl_account())
        for _ in range(n_ip):
            self.accounts.append(self._ip_account())
        for i in range(n_local):
            self.accounts.append(self._local_account(i))
        # Some accounts join during the history period (a shorter baseline).
        hist_days = a.days - a.eval_days
        for acc in self.accounts:
            if acc.kind != "local" and r.random() < 0.08:
                acc.first_day = r.randint(3, max(4, hist_days - 7))
        # A few big senders (hundreds of recipients a day).
        for acc in [x for x in self.accounts if x.kind == "sasl"][:3]:
            acc.rpd = r.uniform(250, 600)
            acc.profile = "office"
        self.customers = self.accounts  # genlog's truth writer and NDR routing read these
        self.incidents = []
        self.outages = []
        self.specs = []  # (time, kind, payload) of everything to send
        self.travel = {}  # account -> (start, end, address) of a trip

    def _v6_net(self):
        self.v6_n += 1
        return Net("v6", f"2001:db8:{self.v6_n:x}")

    def _new_ip(self, v6_share=0.2):
        """A client address in a network no account has used."""
        r = self.r
        if r.random() < v6_share:
            self.v6_n += 1
            return f"2001:db8:{self.v6_n:x}:{r.randint(0, 0xff):x}::{r.randint(2, 0xffff):x}"
        return f"{self.new_v4.pop()}.{r.randint(2, 254)}"

    def _domain(self):
        r = self.r
        while True:
            nm = f"{r.choice(G.WORDS)}{r.choice(G.WORDS)}{r.randint(1, 99)}.{'example' if r.random() < 0.7 else 'test'}"
            if nm not in self.used_domains:
                self.used_domains.add(nm)
                return G.Domain(nm, f"mx.{nm}", f"203.0.113.{200 + r.randrange(50)}")

    def _common(self, acc, profile_weights):
        r = self.r
        acc.profile = r.choices(list(PROFILES), weights=profile_weights)[0]
        acc.rpd = min(600.0, max(2.0, math.exp(r.gauss(math.log(18), 1.05))))
        acc.rpm = min(6.0, 1.0 + r.expovariate(1 / 0.7))
        acc.p_bounce = r.uniform(0.008, 0.045)
        acc.p_defer = r.uniform(0.02, 0.07)
        acc.tls = None if r.random() < 0.15 else r.randrange(len(G.TLS_IN))
        nb = int(min(600, 8 + acc.rpd * r.uniform(1.5, 5)))
        acc.book = list({e[2]: e for e in (self._address() for _ in range(nb))}.values())  # distinct addresses
        if r.random() < 0.06:
            n = int(min(800, 20 + acc.rpd * r.uniform(3, 8)))
            acc.weekly = (r.randrange(5), r.randint(8, 16), n, self._bulk_info(acc, n, acc.p_bounce / 2))

    def _address(self):
        """A recipient: a third at the big mailbox providers, the rest across the long tail of domains."""
        r = self.r
        x = r.random()
        if x < 0.35:
            d = self.domains[bisect.bisect_left(self.big_c, r.random())]
        elif x < 0.65:
            return self.pool[r.randrange(len(self.pool))]
        else:
            d = self.domains[bisect.bisect_left(self.dom_c, r.random())]
        lp = self._local_part()
        return (lp, d, f"{lp}@{d.name}")

    def _sasl_account(self):
        r = self.r
        acc = Account()
        acc.kind = "sasl"
        acc.domains = [self._domain() for _ in range(1 if r.random() < 0.85 else 2)]
        fn = r.choice(G.FIRST)
        if r.random() < 0.6:
            acc.login = f"{fn}{r.randint(1, 99)}@{acc.domains[0].name}"
            acc.senders = [acc.login] + ([f"{r.choice(G.ROLES)}@{acc.domains[0].name}"] if r.random() < 0.4 else [])
        else:
            acc.login = f"u{r.randint(10000, 99999)}"
            acc.senders = list(dict.fromkeys(f"{r.choice(G.ROLES + G.FIRST)}@{d.name}" for d in acc.domains
                                             for _ in range(r.randint(1, 2))))
        acc.account = f"sasl:{acc.login}"
        acc.mech = "PLAIN" if r.random() < 0.7 else "LOGIN"
        acc.submission = r.random() < 0.8
        acc.helo = r.choice(G.HELOS).format(r.choice(("7F3K2Q", "A1B2C3", "PC01", "X270", str(r.randint(2, 250)))))
        nn = r.choices((1, 2, 3), weights=(0.45, 0.4, 0.15))[0]
        for k in range(nn):
            x = r.random()
            if x < 0.3 and self.v4_nets:
                b = self.v4_nets.pop()
                acc.nets.append(Net("static", b, fixed=f"{b}.{r.randint(2, 254)}"))
            elif x < 0.6 and self.v4_nets:
                acc.nets.append(Net("dynamic", self.v4_nets.pop()))
            elif x < 0.8:
                acc.nets.append(Net("isp", r.choice(self.isp_blocks), span=4))
            else:
                acc.nets.append(self._v6_net())
        acc.net_w = G.cum([0.8 if k == 0 else 0.2 / (nn - 1) for k in range(nn)])
        self._common(acc, (0.6, 0.4, 0, 0))
        return acc

    def _ip_account(self):
        r = self.r
        acc = Account()
        acc.kind = "ip"
        acc.domains = [self._domain() for _ in range(1 if r.random() < 0.6 else r.randint(2, 4))]
        if r.random() < 0.15 or self.relay_n >= len(self.relay_ips):
            self.v6_n += 1
            ip = f"2001:db8:{self.v6_n:x}::{r.randint(2, 0xffff):x}"
        else:
            ip = self.relay_ips[self.relay_n]
            self.relay_n += 1
        acc.ips = [ip]
        acc.names = [f"{r.choice(('mail', 'smtp', 'web', 'srv', 'www'))}.{acc.domains[0].name}" if r.random() < 0.8
                     else "unknown"]
        acc.account = f"ip:{ip}"
        acc.helo = acc.names[0] if acc.names[0] != "unknown" else acc.domains[0].name
        acc.senders = list(dict.fromkeys(f"{r.choice(G.ROLES + G.NOREPLY)}@{d.name}" for d in acc.domains
                                         for _ in range(r.randint(1, 3))))
        self._common(acc, (0.2, 0, 0.5, 0.3))
        return acc

    def _local_account(self, i):
        r = self.r
        acc = Account()
        acc.kind = "local"
        users = [("www-data", 33), ("root", 0), ("nagios", 112), ("backup", 34), ("shopapp", 1001)]
        acc.user, acc.uid = users[i] if i < len(users) else (f"site{i}", 1000 + i)
        acc.account = f"local:{acc.user}"
        acc.domains = [self._domain()]
        acc.senders = [f"{acc.user}@{self.host}"] + [f"{r.choice(G.NOREPLY)}@{acc.domains[0].name}"]
        self._common(acc, (0, 0, 0, 1))
        acc.rpd = min(acc.rpd, 40.0)
        return acc

    # -- the traffic plan
    def _poisson(self, lam):
        r = self.r
        if lam <= 0:
            return 0
        if lam > 40:
            return max(0, int(r.gauss(lam, math.sqrt(lam)) + 0.5))
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= r.random()
            if p <= limit:
                return k
            k += 1

    def _normal_traffic(self, acc, first_day=None, last_day=None):
        """Arrivals of an account's everyday mail, hour by hour."""
        r = self.r
        weights, weekend = PROFILES[acc.profile]
        tot = sum(weights)
        mpd = acc.rpd / acc.rpm
        d0 = acc.first_day if first_day is None else first_day
        d1 = self.sa.days if last_day is None else last_day
        for day in range(d0, d1):
            t_day = self.start + day * DAY
            wd = ((t_day // US // 86400) + 3) % 7  # 0 = Monday
            f = (weekend if wd >= 5 else 1.0) * math.exp(r.gauss(0, 0.35))
            for h in range(24):
                n = self._poisson(mpd * weights[h] / tot * f)
                for _ in range(n):
                    self.specs.append((t_day + h * HOUR + r.randrange(HOUR), "normal", (acc, None)))
            if acc.weekly and wd == acc.weekly[0]:
                t = t_day + acc.weekly[1] * HOUR + r.randrange(HOUR)
                ts = self._burst(acc, t, acc.weekly[2], r.uniform(0.5, 1.5) * HOUR, "bulk", acc.weekly[3])
                if t >= self.eval_start:
                    self._label("weekly_newsletter", acc.account, min(ts), max(ts), recipients=acc.weekly[2])

    def _burst(self, acc, t0, nrcpt, dur, kind, info):
        """nrcpt recipients over dur microseconds in messages of a size fitting the kind."""
        r = self.r
        left = nrcpt
        times = []
        while left > 0:
            if kind == "bulk":
                k = 1 if r.random() < 0.6 else min(left, r.randint(20, 50))
            elif kind == "spam":
                k = min(left, r.choice((1, 1, 1, r.randint(2, 10), r.randint(10, 50))))
            else:
                k = min(left, r.randint(1, 4))
            k = min(k, left)
            left -= k
            times.append(k)
        n = len(times)
        out = []
        for i, k in enumerate(times):
            t = t0 + int(dur * (i + r.random()) / n)
            self.specs.append((t, kind, (acc, (k, info))))
            out.append(t)
        return out

    def _plan(self):
        a = self.sa
        r = self.r
        hist = [x for x in self.accounts if x.kind != "local" and x.first_day == 0]
        r.shuffle(hist)
        used = set()

        def pick(kind_filter, pred=None):
            for acc in hist:
                if acc.account in used or acc.kind != kind_filter:
                    continue
                if pred is not None and not pred(acc):
                    continue
                used.add(acc.account)
                return acc
            raise SystemExit(f"scenarios: not enough accounts for the incidents (raise --accounts above {a.accounts})")

        def when(lo_h, hi_margin_h, day_hours=None):
            for _ in range(200):
                t = self.eval_start + int(r.uniform(lo_h * HOUR, self.eval_end - self.eval_start - hi_margin_h * HOUR))
                if day_hours is not None:
                    h = (t // HOUR) % 24
                    wd = ((t // DAY) + 3) % 7
                    if not (day_hours[0] <= h < day_hours[1]) or wd >= 5:
                        continue
                if all(not (t - 3 * HOUR < o[1] and o[0] < t + 6 * HOUR) for o in self.outages):
                    return t
            return t

        per = a.per_kind
        # Relay-wide outages first, so that the other incidents keep clear of them.
        for _ in range(a.outages):
            t = when(6, 10, (8, 16))  # on a working day, when it hurts
            dur = int(r.uniform(1, 4) * HOUR)
            self.outages.append((t, t + dur, r.choice((2, 6))))  # deferral reason: connection timed out / refused
            self._label("outage", "*", t, t + dur)
        # The everyday traffic of everyone (new accounts and incident victims included).
        for acc in self.accounts:
            if acc.first_day < a.days - a.eval_days:
                self._normal_traffic(acc)
        # Background: failed logins from scanners and customers' typos; relay-denied attempts.
        self._background()

        for i in range(per):
            # fast_burst: hundreds to thousands of recipients in 1-2 h from a network the account never used.
            acc = pick("sasl")
            t0 = when(2, 6)
            ips = [self._new_ip() for _ in range(r.choice((1, 1, 2, 3)))]
            info = self._spam_info(acc, ips, r.uniform(0.2, 0.6), r.uniform(0.08, 0.25), own_sender=r.random() < 0.6)
            ts = self._burst(acc, t0, r.randint(300, 3000), r.uniform(1, 2) * HOUR, "spam", info)
            self._label("fast_burst", acc.account, min(ts), max(ts), ips=ips)

            # slow_drip: 15-60 recipients an hour for 6-48 h from new networks; one victim per seed sends more than
            # that on its own.
            rate = r.uniform(15, 60)
            if i == 0:
                acc = pick("sasl", lambda x: self._peak_hour(x) > 20)
                rate = r.uniform(15, min(60.0, 0.9 * self._peak_hour(acc)))
            else:
                acc = pick("sasl")
            hours = r.uniform(6, 48)
            t0 = when(2, hours + 4)
            ips = [self._new_ip() for _ in range(r.choice((1, 2, 3)))]
            info = self._spam_info(acc, ips, r.uniform(0.15, 0.45), r.uniform(0.05, 0.2), own_sender=True)
            ts = self._burst(acc, t0, int(rate * hours), hours * HOUR, "drip", info)
            self._label("slow_drip", acc.account, min(ts), max(ts), ips=ips, rate_per_hour=round(rate, 1),
                        normal_rcpts_per_day=round(acc.rpd, 1))

            # ip_relay_new_sender: a customer's hacked web server, from its usual address, as senders it never used.
            acc = pick("ip")
            t0 = when(2, 8)
            fake_dom = [self._domain().name for _ in range(r.randint(1, 3))]
            senders = [f"{r.choice(G.FIRST + G.NOREPLY)}{r.randint(1, 999)}@{r.choice(fake_dom + [acc.domains[0].name])}"
                       for _ in range(r.randint(1, 6))]
            info = self._spam_info(acc, [acc.ips[0]], r.uniform(0.25, 0.6), r.uniform(0.08, 0.25), senders=senders)
            ts = self._burst(acc, t0, r.randint(150, 1500), r.uniform(1, 6) * HOUR, "spam", info)
            self._label("ip_relay_new_sender", acc.account, min(ts), max(ts), senders=senders)

            # brute_force_login: hundreds of failed logins from one or a few addresses, then a login that works.
            acc = pick("sasl")
            t0 = when(5, 6)
            ips = [self._new_ip(0.1) for _ in range(r.choice((1, 1, 2, 3)))]
            nfail = r.randint(150, 900)
            bf_dur = int(r.uniform(0.3, 3) * HOUR)
            for k in range(nfail):
                self.specs.append((t0 - bf_dur + int(bf_dur * (k + r.random()) / nfail), "authfail",
                                   (acc, (ips[k % len(ips)], acc.login))))
            t_ok = t0 + r.randint(30, 900) * US
            info = self._spam_info(acc, [ips[-1]], r.uniform(0.2, 0.55), r.uniform(0.08, 0.25), own_sender=True)
            ts = self._burst(acc, t_ok, r.randint(200, 1500), r.uniform(0.7, 2) * HOUR, "spam", info)
            self._label("brute_force_login", acc.account, min(ts), max(ts), ips=ips, failed_logins=nfail,
                        failures_from=iso(t0 - bf_dur))

            # newsletter: 5-20x the account's normal hourly volume for 1-3 h, usual network, low bounce.
            acc = pick("sasl" if i % 2 == 0 else "ip")
            t0 = when(2, 8, (8, 17))
            peak_hour = self._peak_hour(acc)
            mult = r.uniform(5, 20)
            hours = r.uniform(1, 3)
            n = int(max(40, mult * peak_hour) * hours)
            info = self._bulk_info(acc, n, r.uniform(0.003, 0.025))
            ts = self._burst(acc, t0, n, hours * HOUR, "bulk", info)
            self._label("newsletter", acc.account, min(ts), max(ts), recipients=n, times_peak_hour=round(mult, 1))

            # large_cc: 1-3 messages of 100-300 recipients each, usual network and sender.
            acc = pick("sasl")
            t0 = when(2, 8, (8, 17))
            ts = []
            for k in range(r.randint(1, 3)):
                n = r.randint(100, 300)
                t = t0 + k * r.randint(60, 5400) * US
                self.specs.append((t, "cc", (acc, (n, self._bulk_info(acc, n, r.uniform(0.005, 0.04))))))
                ts.append(t)
            self._label("large_cc", acc.account, min(ts), max(ts))

            # traveller: normal mail, for a while, from a network the account never used.
            acc = pick("sasl", lambda x: x.rpd >= 8)
            t0 = when(2, 60, (7, 12))
            dur = int(r.uniform(5, 48) * HOUR)
            ip = self._new_ip(0.3)
            self.travel[acc.account] = (t0, t0 + dur, ip)
            self._label("traveller", acc.account, t0, t0 + dur, ips=[ip])

            # new_account: a customer that starts sending during the evaluation period.
            acc = self._sasl_account() if i % 2 == 0 else self._ip_account()
            acc.rpd = min(acc.rpd, 120.0)
            acc.first_day = a.days - a.eval_days + r.randint(0, max(0, a.eval_days - 3))
            self.accounts.append(acc)
            k0 = len(self.specs)
            self._normal_traffic(acc)
            ts = [s[0] for s in self.specs[k0:]]
            if ts:
                self._label("new_account", acc.account, min(ts), self.eval_end, rcpts_per_day=round(acc.rpd, 1))

    @staticmethod
    def _peak_hour(acc):
        """Expected recipients in the account's busiest hour of a weekday."""
        weights, _ = PROFILES[acc.profile]
        return acc.rpd * max(weights) / sum(weights)

    def _spam_info(self, acc, ips, p_bounce, p_defer, own_sender=False, senders=None):
        r = self.r
        if senders is None:
            if own_sender:
                senders = [acc.senders[0]]
            else:
                senders = [f"{r.choice(G.FIRST)}{r.randint(1, 99)}@{r.choice(acc.domains).name}",
                           f"{r.choice(G.ROLES)}@{self._domain().name}"]
        return {"ips": ips, "pb": p_bounce, "pd": p_defer, "senders": senders,
                "helo": r.choice(("User", "ylmf-pc", "WIN-4Q5ATG1", "[{ip}]", "localhost"))}

    def _bulk_info(self, acc, n, p_bounce):
        """A list of n subscribers (the account's book first, then addresses across many domains)."""
        r = self.r
        lst = list(acc.book[: n // 3])
        seen = {e[2] for e in lst}
        while len(lst) < n:
            e = self._address()
            if e[2] in seen or e[1].kind == "invalid":
                continue
            seen.add(e[2])
            lst.append(e)
        r.shuffle(lst)
        return {"list": lst, "pos": 0, "pb": p_bounce}

    def _background(self):
        a = self.sa
        r = self.r
        span = a.days * DAY
        logins = [x.login for x in self.accounts if x.kind == "sasl"]
        # Password scanners: short bursts against real and guessed logins; none of them ever logs in.
        t = self.start
        while True:
            t += int(r.expovariate(1 / (2 * HOUR)))
            if t >= self.start + span - HOUR:
                break
            ip = f"198.19.{r.randint(250, 255)}.{r.randint(2, 254)}"
            target = [r.choice(logins)] if r.random() < 0.5 else [r.choice(logins) for _ in range(5)] + ["admin", "info"]
            for k in range(max(1, int(r.expovariate(1 / 15)))):
                self.specs.append((t + k * r.randint(2, 30) * US, "authfail", (None, (ip, r.choice(target)))))
        # Customers mistyping their password (from their usual network).
        sasl = [x for x in self.accounts if x.kind == "sasl" and x.first_day == 0]
        for _ in range(int(a.days * 2)):
            acc = r.choice(sasl)
            t = self.start + r.randrange(span)
            ip = acc.nets[0].address(r)
            for k in range(r.randint(1, 4)):
                self.specs.append((t + k * r.randint(3, 40) * US, "authfail", (acc, (ip, acc.login))))
        # Relay-denied attempts.
        t = self.start
        while True:
            t += int(r.expovariate(1 / (0.5 * HOUR)))
            if t >= self.start + span - HOUR:
                break
            self.specs.append((t, "reject", None))

    def _label(self, kind, account, start, end, **details):
        cls = "compromise" if kind in COMPROMISE_KINDS else "benign"
        self.incidents.append({"kind": kind, "class": cls, "account": account, "start": start, "end": end,
                               **details})

    # -- running
    def run(self):
        self._plan()
        self.specs.sort(key=lambda s: s[0])
        heap = self.heap
        for t, kind, payload in self.specs:
            if t < self.start + self.sa.days * DAY - 120 * US:
                self.push(t, self.ev_spec, (kind, payload))
        writers = list(self.writers.values())
        t_end = self.start + self.sa.days * DAY - 60 * US
        count = 0
        while heap:
            if heap[0][0] > t_end:
                break
            t, _, fn, arg = heapq.heappop(heap)
            self.now = t
            fn(t, arg)
            count += 1
            if count & 1023 == 0:
                for w in writers:
                    if len(w.buf) > 60000:
                        w.flush(t)
        for t, _, fn, arg in heap:
            if fn == self.ev_retry and arg.done == 0:
                arg.done = -1
                self._tally(arg)
        self.end_time = min(t_end, self.now)

    def ev_spec(self, t, arg):
        kind, payload = arg
        if kind == "authfail":
            self._authfail(t, *payload)
        elif kind == "reject":
            self._reject_event(t, "relay")
        else:
            self._send(t, kind, *payload)

    def _authfail(self, t, acc, p):
        r = self.r
        ip, login = p
        e = G.Ev()
        e.t = t
        e.kind = "auth"
        e.ip = ip
        e.login = login
        e.mech = acc.mech if acc is not None else ("LOGIN" if r.random() < 0.8 else "PLAIN")
        e.port = 587 if (acc is None or acc.submission) else 25
        e.helo = f"[{ip}]" if acc is None else acc.helo
        e.cport = r.randint(1025, 65535)
        self.tot["auth_failures"] += 1
        for rd in self.renderers:
            rd.authfail(e)

    def _client(self, acc, t, primary=False):
        """The address an account's mail comes from at time t (bulk mail: from its main network)."""
        r = self.r
        if acc.kind == "ip":
            return acc.ips[0]
        tr = self.travel.get(acc.account)
        if tr is not None and tr[0] <= t < tr[1]:
            return tr[2]
        day = (t - self.start) // DAY
        if acc.today[0] != day:
            # Dynamic networks hand out a new address each day; the phone or home network now and then.
            acc.today = (day, [n.address(r) for n in acc.nets])
        k = bisect.bisect_left(acc.net_w, r.random()) if len(acc.nets) > 1 and not primary else 0
        return acc.today[1][min(k, len(acc.nets) - 1)]

    def _send(self, t, kind, acc, extra):
        r = self.r
        m = ScenMessage()
        m.t_s = t
        m.gen = False
        m.parent = None
        m.kind = acc.kind
        m.natt = 0
        m.done = 0
        m.tls = acc.tls
        m.cport = r.randint(1025, 65535)
        info = extra[1] if extra is not None else None
        spam = kind in ("spam", "drip")
        if acc.kind == "local":
            m.account = acc.account
            m.uid, m.user = acc.uid, acc.user
            m.ip = m.cname = m.helo = m.login = m.mech = None
            m.port = 0
            m.tls = None
        else:
            m.uid = m.user = None
            m.account = acc.account
            m.ip = r.choice(info["ips"]) if spam else self._client(acc, t, kind in ("bulk", "cc"))
            m.cname = acc.names[0] if acc.kind == "ip" else "unknown"
            if acc.kind == "sasl":
                m.login, m.mech = acc.login, acc.mech
                m.port = 587 if acc.submission else 25
                m.helo = info["helo"].format(ip=m.ip) if spam else acc.helo
            else:
                m.login = m.mech = None
                m.port = 25
                m.helo = acc.helo
        if spam:
            m.sender = r.choice(info["senders"])
        elif len(acc.senders) == 1 or r.random() < 0.6:
            m.sender = acc.senders[0]
        else:
            m.sender = acc.senders[r.randrange(len(acc.senders))]
        # Recipients.
        rc, dm = [], []
        if kind == "normal":
            nr = 1 if acc.rpm <= 1.0 else min(40, 1 + int(r.expovariate(1 / (acc.rpm - 1.0)) + 0.5))
            book = acc.book
            seen = set()
            for _ in range(nr * 3):
                if len(rc) >= nr:
                    break
                if r.random() < 0.85:
                    e = book[int(len(book) * r.random() ** 2)]
                else:
                    e = self.pool[r.randrange(len(self.pool))]
                if e[2] in seen:
                    continue
                seen.add(e[2])
                rc.append(e[2])
                dm.append(e[1])
        elif kind in ("bulk", "cc") and info is not None:
            lst = info["list"]
            for _ in range(extra[0]):
                e = lst[info["pos"] % len(lst)]
                info["pos"] += 1
                rc.append(e[2])
                dm.append(e[1])
        else:  # spam: harvested addresses, many at the big mailbox providers
            seen = set()
            while len(rc) < extra[0]:
                if r.random() < 0.5:
                    d = self.domains[r.randrange(len(G.BIG))]
                    addr = f"{r.choice(G.FIRST)}{r.choice(('.', '_', ''))}{r.choice(G.WORDS)}{r.randint(1, 999)}@{d.name}"
                else:
                    lp, d, _ = self.pool[r.randrange(len(self.pool))]
                    addr = f"{lp}{r.randint(1, 99)}@{d.name}"
                if addr in seen:
                    continue
                seen.add(addr)
                rc.append(addr)
                dm.append(d)
        if not rc:
            return
        if len(rc) > 1:
            order = {}
            for i, d in enumerate(dm):
                order.setdefault(d.name, []).append(i)
            idx = [i for lst in order.values() for i in lst]
            rc = [rc[i] for i in idx]
            dm = [dm[i] for i in idx]
        m.rcpts, m.doms = rc, dm
        if spam:
            m.size = int(r.uniform(2500, 9000))
        elif kind == "bulk":
            m.size = int(math.exp(r.gauss(10.4, 0.4)))
        else:
            m.size = self.sizes[r.randrange(len(self.sizes))]
        m.msgid = self._msgid(m, acc, t)
        if spam:
            self._fates_p(m, info["pb"], info["pd"], 0.04, 0.02)
        elif kind in ("bulk", "cc") and info is not None:
            self._fates_p(m, info["pb"], acc.p_defer, 0.002, 0.002)
        else:
            self._fates_p(m, acc.p_bounce, acc.p_defer, 0.004, 0.002)
        dur = int((0.15 + r.expovariate(1 / 0.6) + m.size / 4e6 + len(rc) * 0.01) * US)
        m.t_acc = t + min(dur, 20 * US)
        t1 = m.t_acc + int(r.uniform(0.5, 3.0) * US)
        for rd in self.renderers:
            rd.accept(m, t1)
        self.attempt(m, t1, False)

    def _fates_p(self, m, pb, pd, pdb, ps):
        """Each recipient's fate: bounced (pb), deferred then delivered (pd), deferred then bounced (pdb), deferred
        until it expires (ps), else delivered at once."""
        r = self.r
        n = len(m.rcpts)
        m.defl = [0] * n
        m.final = [0] * n
        m.dreason = [0] * n
        m.breason = [0] * n
        m.state = [0] * n
        m.pending = list(range(n))
        for i in range(n):
            if m.doms[i].kind == "invalid":
                m.final[i] = 2
                m.breason[i] = G.BOUNCE_NX
                continue
            x = r.random()
            if x < pb:
                m.final[i] = 2
                m.breason[i] = bisect.bisect_left(G.BOUNCE_C, r.random())
            elif x < pb + pd:
                rs = bisect.bisect_left(G.DEFER_C, r.random())
                m.dreason[i] = rs
                m.defl[i] = 1 if rs < 2 else min(8, 1 + int(r.expovariate(0.6)))
            elif x < pb + pd + pdb:
                m.final[i] = 2
                m.breason[i] = bisect.bisect_left(G.BOUNCE_C, r.random())
                m.dreason[i] = bisect.bisect_left(G.DEFER_C, r.random())
                m.defl[i] = 1 + int(r.expovariate(0.5))
            elif x < pb + pd + pdb + ps:
                m.dreason[i] = 2 + r.randrange(2) * 4
                m.defl[i] = G.NEVER

    def attempt(self, m, t, retry):
        # During an outage every attempt to the big providers is deferred; the next retry after it gets through.
        for o0, o1, reason in self.outages:
            if o0 <= t < o1:
                for ri in m.pending:
                    if m.doms[ri].name in self.big and m.defl[ri] == 0:
                        m.defl[ri] = 1
                        m.dreason[ri] = reason
                break
        super().attempt(m, t, retry)


def write_labels(out, model):
    incs = sorted(model.incidents, key=lambda x: (x["start"], x["kind"], x["account"]))
    with open(os.path.join(out, "labels.csv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("id,kind,class,account,start,end\n")
        for i, x in enumerate(incs, 1):
            x["id"] = i
            f.write(f"{i},{x['kind']},{x['class']},{x['account']},{iso(x['start'])},{iso(x['end'])}\n")
    meta = {
        "log_start": iso(model.start), "eval_start": iso(model.eval_start), "eval_end": iso(model.eval_end),
        "accounts": [{"account": x.account, "kind": x.kind, "rcpts_per_day": round(x.rpd, 1), "profile": x.profile,
                      "first_day": x.first_day, "senders": x.senders,
                      "networks": [n.fixed or (n.base if isinstance(n.base, str) else f"{n.base[0]}.{n.base[1]}/22")
                                   for n in x.nets] or x.ips}
                     for x in model.accounts],
        "incidents": [{**x, "start": iso(x["start"]), "end": iso(x["end"])} for x in incs],
    }
    with open(os.path.join(out, "incidents.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


def generate(seed=1, out="scenario", accounts=120, days=35, eval_days=7, mta="both", per_kind=3, outages=2,
             start="2026-10-05T00:00:00", quiet=True):
    """Writes one scenario; returns the model (tests and detection_eval.py call this)."""
    a = argparse.Namespace(
        seed=f"scen-{seed}", host="relay1.example", tz="+00:00", start=start, days=days, eval_days=eval_days,
        queue_lifetime=48.0, filter_share=0.3, queue_ids="long", exim_ids="new", p_defer=0.04, p_bounce=0.02,
        p_defer_bounce=0.004, p_stuck=0.002, reject_rate=0.02, authfail_rate=0.0, compromised=0, customers=12,
        recipient_domains=3000, accounts=accounts, per_kind=per_kind, outages=outages, stamp="rfc3339", mta=mta)
    if days - eval_days < 7:
        raise SystemExit("scenarios: --days must leave at least 7 days of history before --eval-days")
    t0 = time.time()
    st = _dt.datetime.fromisoformat(start)
    start_local = int(st.replace(tzinfo=_dt.timezone.utc).timestamp())
    day0 = start_local - start_local % 86400
    mtas = ["postfix", "exim"] if mta == "both" else [mta]
    writers = {}
    for m in mtas:
        d = os.path.join(out, m)
        os.makedirs(d, exist_ok=True)
        base = os.path.join(d, "mail.log" if m == "postfix" else "mainlog")
        writers[m] = G.LogWriter(base, "rfc3339" if m == "postfix" else "exim", a.host, 0, day0, False)
    model = Scenario(a, writers)
    model.run()
    files = {}
    for m in mtas:
        writers[m].close()
        files[m] = G.finish_files(writers[m], False, None, model.end_time // US)
        G.write_truth(os.path.join(out, m), model, {m: files[m]}, m == "postfix")
    write_labels(out, model)
    if not quiet:
        lines = sum(w.lines for w in writers.values())
        print(f"scenarios: seed {seed}: {model.tot['messages']} messages, {len(model.accounts)} accounts, "
              f"{len(model.incidents)} incidents, {lines} lines in {time.time() - t0:.1f} s", file=sys.stderr)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description="Generate labelled relay-log scenarios for evaluating anomaly detection.")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="directory: writes postfix/mail.log, exim/mainlog, labels.csv")
    p.add_argument("--accounts", type=int, default=120, help="accounts with history (default 120)")
    p.add_argument("--days", type=int, default=35, help="days of log in all (default 35)")
    p.add_argument("--eval-days", type=int, default=7, help="the last days, where incidents happen (default 7)")
    p.add_argument("--mta", choices=("postfix", "exim", "both"), default="both")
    p.add_argument("--per-kind", type=int, default=3, help="incidents of each kind except outage (default 3)")
    p.add_argument("--outages", type=int, default=2, help="relay-wide delivery outages (default 2)")
    p.add_argument("--start", default="2026-10-05T00:00:00", help="UTC start of the log (default 2026-10-05T00:00:00)")
    a = p.parse_args(argv)
    generate(a.seed, a.out, a.accounts, a.days, a.eval_days, a.mta, a.per_kind, a.outages, a.start, quiet=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
