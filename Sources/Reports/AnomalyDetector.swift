import Config
import Foundation
import Store

/// A window of one account's sending judged unusual against its own history.
package struct AnomalyFinding: Sendable, Equatable {
    package enum Verdict: String, Sendable, CaseIterable {
        case compromised, review
    }

    /// What made a window unusual.
    package enum Signal: String, Sendable, CaseIterable, Comparable {
        /// Recipients per hour far above the account's normal busy hour.
        case volume
        /// Bounced and deferred recipients, beyond the relay's own deferrals, far above the account's usual share.
        case failures
        /// A client network the account never used, or more client addresses in an hour than ever.
        case newNetwork = "new-network"
        /// A login that succeeded from a new network after a burst of failed logins.
        case bruteForce = "brute-force"
        /// Sender domains the account never used.
        case newSender = "new-sender"
        /// Recipient domains per hour far above the account's normal.
        case spread

        package static func < (a: Signal, b: Signal) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    package var account: String
    package var windowStart: Int64
    package var windowEnd: Int64
    package var verdict: Verdict
    package var score: Double
    package var signals: [Signal]
    package var reasons: [String]
    package var messages: Int64
    package var recipients: Int64
    package var failed: Int64
}

/// What the detector reads: hourly activity of the accounts active in the period, with their baselines.
package struct AnomalyInput: Sendable {
    /// The period judged, whole UTC hours: `since <= hour < until`.
    package var since: Int64
    package var until: Int64
    /// Hours of the accounts to judge, from the start of their baseline to `until`.
    package var hours: [AccountHour]
    /// Every account's hours in the period (the whole relay), for relay-wide failure shares.
    package var relayHours: [AccountHour]
    /// Networks and sender addresses of the accounts' hours in the period, with their first use.
    package var keys: [AccountHourKey]
    /// Every sender address each account used, with the hour of its first use.
    package var senderFirstHours: [String: [String: Int64]]
    /// Failed logins from `since - auth_lookback_hours` to `until`.
    package var authFailures: [AuthFailureHour]
    /// Windows already judged before, left out of the baselines.
    package var flagged: [String: [ClosedRange<Int64>]]
    /// The oldest hour of data: a baseline starts no earlier (hours before it are unknown, not quiet).
    package var dataStart: Int64

    package init(
        since: Int64, until: Int64, hours: [AccountHour], relayHours: [AccountHour], keys: [AccountHourKey],
        senderFirstHours: [String: [String: Int64]], authFailures: [AuthFailureHour],
        flagged: [String: [ClosedRange<Int64>]], dataStart: Int64 = .min
    ) {
        self.dataStart = dataStart
        self.since = since
        self.until = until
        self.hours = hours
        self.relayHours = relayHours
        self.keys = keys
        self.senderFirstHours = senderFirstHours
        self.authFailures = authFailures
        self.flagged = flagged
    }
}

/// Judges each account's hours in a period against its own trailing baseline (or, for an account without enough
/// history, against the relay's typical account), then joins flagged hours into windows and gives each a verdict.
/// Each day of the period has its own baseline: the `baseline_days` before it, less hours already flagged.
///
/// Signals (thresholds in `AnomalyThresholds`):
/// - volume: an hour's recipients at least `volume_minimum` and `volume_factor` × the account's busy hour (its
///   `quantile` hour, quiet hours counted); or a window's recipients that many times its busy day per day;
/// - failures: bounced recipients, and deferred ones beyond the rest of the relay's deferral share in those hours
///   (an outage is everyone's), over the window, or over the mail from new networks alone;
/// - new network: a client network first used in the last 24 h by an account with history, or more client
///   addresses in one hour than `clients_minimum` and than ever;
/// - brute force: `auth_failure_minimum` failed logins from the new network (for the login, or with none logged),
///   or five times as many for the login from anywhere, in the `auth_lookback_hours` before it sent from there;
/// - new sender: a sender domain the account first used in the last 24 h;
/// - spread: recipient domains in an hour far above its normal.
///
/// A window is `compromised` when volume comes with a new network, brute force or new sender (access signals), or
/// with failures that are at least `failure_share` bounces; when failures come with an access signal and at least
/// `compromise_minimum` recipients; when brute force comes with that many recipients; or when two or more new
/// networks and more client addresses than ever send that many. Any other flagged window is `review`.
package struct AnomalyDetector {
    package var thresholds: AnomalyThresholds
    /// The organisation a sender domain belongs to (its registrable domain): `news.shop.example` is no new sender
    /// for an account that sent as `shop.example`.
    package var organisation: @Sendable (String) -> String

    package init(
        thresholds: AnomalyThresholds = AnomalyThresholds(),
        organisation: @escaping @Sendable (String) -> String = AnomalyDetector.lastTwoLabels
    ) {
        self.thresholds = thresholds
        self.organisation = organisation
    }

    /// `mail.shop.example` → `shop.example`: the registrable domain where the Public Suffix List is not at hand.
    package static func lastTwoLabels(_ domain: String) -> String {
        let labels = domain.split(separator: ".")
        return labels.count <= 2 ? domain : labels.suffix(2).joined(separator: ".")
    }

    static let hour = RelayStore.hourSeconds
    /// How long a network or sender address counts as new after its first use.
    static let newForHours: Int64 = 24

    /// The account's normal, from its baseline hours.
    struct Baseline {
        var activeHours = 0
        var recipientsQuantile: Double = 0
        /// The same quantile of whole days' recipients (for windows that last).
        var recipientsDayQuantile: Double = 0
        var domainsQuantile: Double = 0
        var maxClients: Int64 = 0
        var failedShare: Double = 0
        /// Hours from the account's first activity in the baseline to its end.
        var spanHours: Int64 = 0
        var isNew: Bool { activeHours < minimumHours || spanHours < minimumSpanHours }

        /// Each measure the larger of this baseline's and `other`'s.
        func atLeast(_ other: Baseline) -> Baseline {
            var b = self
            b.recipientsQuantile = max(b.recipientsQuantile, other.recipientsQuantile)
            b.recipientsDayQuantile = max(b.recipientsDayQuantile, other.recipientsDayQuantile)
            b.domainsQuantile = max(b.domainsQuantile, other.domainsQuantile)
            b.maxClients = max(b.maxClients, other.maxClients)
            b.failedShare = max(b.failedShare, other.failedShare)
            return b
        }
        var minimumHours: Int
        var minimumSpanHours: Int64 = 0
    }

    struct RelayHour {
        var recipients: Int64 = 0
        var deferred: Int64 = 0
    }

    /// One hour's evidence for one account.
    struct HourEvidence {
        var hour: AccountHour
        /// The account's baseline on this hour's day, and what it is judged against (the relay's typical account
        /// when it is new).
        var base: Baseline
        var ref: Baseline
        var signals: Set<AnomalyFinding.Signal> = []
        var adjustedFailed: Double = 0
        var newNetworks: [(String, Int64)] = []
        /// Recipients from the new networks, and those of them that failed beyond the relay's own share.
        var newNetworkRecipients: Int64 = 0
        var newNetworkFailed: Double = 0
        /// More client addresses in the hour than `clients_minimum` and than ever before.
        var manyClients = false

        /// Volume or failures together with a new network, brute force or a new sender.
        var looksCompromised: Bool {
            (signals.contains(.volume) || signals.contains(.failures))
                && !signals.isDisjoint(with: [.newNetwork, .bruteForce, .newSender])
        }
        var newSenderDomains: [String] = []
        var bruteForce: (failures: Int64, from: String)?
    }

    package func detect(_ input: AnomalyInput) -> [AnomalyFinding] {
        let t = thresholds
        let day = 24 * Self.hour
        let baselineLength = Int64(t.baselineDays) * day
        var relay: [Int64: RelayHour] = [:]
        for h in input.relayHours {
            relay[h.hour, default: RelayHour()].recipients += h.recipients
            relay[h.hour, default: RelayHour()].deferred += h.deferred
        }
        let byAccount = Dictionary(grouping: input.hours, by: \.account).mapValues { $0.sorted { $0.hour < $1.hour } }
        let keysByAccount = Dictionary(grouping: input.keys, by: \.account)
            .mapValues { Dictionary(grouping: $0, by: \.hour) }
        let senderDomains = input.senderFirstHours.mapValues(senderDomainFirstHours)
        var failuresByLogin: [String: [AuthFailureHour]] = [:]
        for f in input.authFailures { failuresByLogin[f.login ?? "", default: []].append(f) }
        // Hours flagged earlier (stored findings) and in this run leave the baselines of later days.
        var excluded = input.flagged
        var evidence: [String: [HourEvidence]] = [:]

        // Each day of the period is judged against the days before it.
        var dayStart = input.since / day * day
        while dayStart < input.until {
            let from = max(dayStart, input.since)
            let to = min(dayStart + day, input.until)
            let activeToday = byAccount.compactMap { account, hours -> (String, ArraySlice<AccountHour>)? in
                let today = Self.slice(hours, from: from, to: to).filter { $0.messages > 0 }
                return today.isEmpty ? nil : (account, ArraySlice(today))
            }
            var baselines: [String: Baseline] = [:]
            let baselineFrom = max(dayStart - baselineLength, min(input.dataStart, dayStart))
            for (account, _) in activeToday {
                baselines[account] = baseline(
                    Self.slice(byAccount[account]!, from: baselineFrom, to: dayStart),
                    from: baselineFrom, to: dayStart, excluding: excluded[account] ?? [])
            }
            // A new account is judged against the relay's typical account: the median of established accounts'
            // busy hours.
            let established = baselines.values.filter { !$0.isNew }
            let relayTypical = Baseline(
                activeHours: t.historyMinimumHours,
                recipientsQuantile: Self.median(established.map(\.recipientsQuantile)),
                recipientsDayQuantile: Self.median(established.map(\.recipientsDayQuantile)),
                domainsQuantile: Self.median(established.map(\.domainsQuantile)),
                maxClients: Int64(Self.median(established.map { Double($0.maxClients) })),
                failedShare: Self.median(established.map(\.failedShare)), minimumHours: 0)
            for (account, today) in activeToday {
                let base = baselines[account]!
                // A new account's little history still counts: the larger of it and the relay's typical account.
                let ref = base.isNew ? base.atLeast(relayTypical) : base
                for h in today {
                    let e = judgeHour(
                        h, base: base, ref: ref, relay: relay[h.hour] ?? RelayHour(),
                        keys: keysByAccount[account]?[h.hour] ?? [], senderDomains: senderDomains[account] ?? [:],
                        failures: failuresByLogin, baselineStart: dayStart - baselineLength)
                    if !e.signals.isEmpty { evidence[account, default: []].append(e) }
                    // An hour that looks like an intruder's leaves later baselines; a newsletter's stays in them.
                    if e.looksCompromised { excluded[account, default: []].append(h.hour...(h.hour + Self.hour - 1)) }
                }
            }
            dayStart += day
        }
        var findings: [AnomalyFinding] = []
        for (account, hours) in evidence {
            findings += windows(hours).map { judge(account: account, $0) }
        }
        return findings.sorted { ($0.windowStart, $0.account) < ($1.windowStart, $1.account) }
    }

    /// The hours of a sorted list with `from <= hour < to`.
    static func slice(_ hours: [AccountHour], from: Int64, to: Int64) -> [AccountHour] {
        var lo = 0
        var hi = hours.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hours[mid].hour < from { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < hours.count && hours[end].hour < to { end += 1 }
        return Array(hours[lo..<end])
    }

    /// The signals of one account's hour.
    func judgeHour(
        _ h: AccountHour, base: Baseline, ref: Baseline, relay r: RelayHour, keys: [AccountHourKey],
        senderDomains: [String: Int64], failures: [String: [AuthFailureHour]], baselineStart: Int64
    ) -> HourEvidence {
        let t = thresholds
        var e = HourEvidence(hour: h, base: base, ref: ref)
        // The relay's deferral share in this hour without this account: a delivery outage defers everyone's mail.
        // (Deferrals only: another account's spam run bounces, and must not excuse this one's bounces.)
        let othersRecipients = r.recipients - h.recipients
        let othersShare = othersRecipients > 0 ? Double(r.deferred - h.deferred) / Double(othersRecipients) : 0
        e.adjustedFailed =
            Double(h.bounced) + max(0, Double(h.deferred) - othersShare * Double(h.recipients))
        if Double(h.recipients) >= volumeThreshold(ref) { e.signals.insert(.volume) }
        if failuresFlag(recipients: h.recipients, failed: e.adjustedFailed, base: ref) { e.signals.insert(.failures) }
        if Double(h.domains) >= max(Double(t.spreadMinimum), t.spreadFactor * ref.domainsQuantile) {
            e.signals.insert(.spread)
        }
        let recent = h.hour - Self.newForHours * Self.hour
        if !base.isNew {
            for k in keys where k.kind == .network && k.firstHour > recent && k.firstHour >= baselineStart {
                e.newNetworks.append((k.key, k.recipients))
                e.newNetworkRecipients += k.recipients
                e.newNetworkFailed += max(0, Double(k.failed) - othersShare * Double(k.recipients))
            }
            if !e.newNetworks.isEmpty { e.signals.insert(.newNetwork) }
            if h.clients >= t.clientsMinimum && h.clients > base.maxClients {
                e.manyClients = true
                e.signals.insert(.newNetwork)
            }
            for k in keys where k.kind == .sender {
                guard let d = MessageRecord.domain(of: k.key), let first = senderDomains[organisation(d)] else {
                    continue
                }
                if first > recent && first >= baselineStart && !e.newSenderDomains.contains(d) {
                    e.newSenderDomains.append(d)
                }
            }
            if !e.newSenderDomains.isEmpty { e.signals.insert(.newSender) }
        }
        if h.account.hasPrefix("sasl:"), !e.newNetworks.isEmpty {
            let login = String(h.account.dropFirst(5))
            let lookbackStart = h.hour - Int64(t.authLookbackHours) * Self.hour
            var count: Int64 = 0
            var worst: (Int64, String) = (0, "")
            // Failed logins for this login, and those whose login was not logged, from the new networks; failed
            // logins for this login from elsewhere count when there are five times as many (a botnet's guesses
            // come from many networks, a mistyped password on the road from one).
            let newNetworks = Set(e.newNetworks.map(\.0))
            let fromNew = { (f: AuthFailureHour) in
                f.clientIP.flatMap(RelayStore.network(of:)).map(newNetworks.contains) ?? false
            }
            let recent = ((failures[login] ?? []) + (failures[""] ?? []).filter(fromNew)).filter {
                $0.hour >= lookbackStart && $0.hour <= h.hour
            }
            let near = recent.filter(fromNew).reduce(Int64(0)) { $0 + $1.failures }
            let all = recent.reduce(Int64(0)) { $0 + $1.failures }
            count = near >= t.authFailureMinimum ? near : (all >= 5 * t.authFailureMinimum ? all : 0)
            for f in recent where f.failures > worst.0 { worst = (f.failures, f.clientIP ?? "unknown") }
            if count >= t.authFailureMinimum {
                e.bruteForce = (count, worst.1)
                e.signals.insert(.bruteForce)
            }
        }
        return e
    }

    // MARK: signals

    func volumeThreshold(_ b: Baseline) -> Double {
        max(Double(thresholds.volumeMinimum), thresholds.volumeFactor * b.recipientsQuantile)
    }

    func failuresFlag(recipients: Int64, failed: Double, base: Baseline) -> Bool {
        guard recipients > 0, failed >= Double(thresholds.failureMinimum) else { return false }
        let share = failed / Double(recipients)
        return share >= thresholds.failureShare && share >= base.failedShare + thresholds.failureMargin
    }

    func baseline(_ hours: [AccountHour], from: Int64, to: Int64, excluding: [ClosedRange<Int64>]) -> Baseline {
        let kept = hours.filter { h in !excluding.contains { $0.contains(h.hour) } }
        let excludedHours = excluding.reduce(Int64(0)) { n, r in
            let lo = max(r.lowerBound, from)
            let hi = min(r.upperBound, to - 1)
            return n + (hi >= lo ? (hi - lo) / Self.hour + 1 : 0)
        }
        let totalHours = max(Int((to - from) / Self.hour - excludedHours), kept.count)
        var b = Baseline(
            minimumHours: thresholds.historyMinimumHours,
            minimumSpanHours: Int64(thresholds.historyMinimumDays) * 24)
        b.activeHours = kept.filter { $0.messages > 0 }.count
        if let first = kept.first(where: { $0.messages > 0 }) { b.spanHours = (to - first.hour) / Self.hour }
        b.recipientsQuantile = Self.quantile(kept.map { Double($0.recipients) }, of: totalHours, thresholds.quantile)
        b.domainsQuantile = Self.quantile(kept.map { Double($0.domains) }, of: totalHours, thresholds.quantile)
        var days: [Int64: Double] = [:]
        for h in kept { days[h.hour / (24 * Self.hour), default: 0] += Double(h.recipients) }
        b.recipientsDayQuantile = Self.quantile(
            Array(days.values), of: max(days.count, (totalHours + 23) / 24), thresholds.quantile)
        b.maxClients = kept.map(\.clients).max() ?? 0
        let rcpt = kept.reduce(Int64(0)) { $0 + $1.recipients }
        b.failedShare = rcpt > 0 ? Double(kept.reduce(Int64(0)) { $0 + $1.failed }) / Double(rcpt) : 0
        return b
    }

    /// The `q` quantile of `values` padded with zeros to `count` values (the quiet hours).
    static func quantile(_ values: [Double], of count: Int, _ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let sorted = values.sorted()
        let zeros = count - sorted.count
        let rank = min(count - 1, max(0, Int((q * Double(count)).rounded(.up)) - 1))
        return rank < zeros ? 0 : sorted[rank - zeros]
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func senderDomainFirstHours(_ senders: [String: Int64]) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for (address, first) in senders {
            guard let d = MessageRecord.domain(of: address).map(organisation) else { continue }
            result[d] = min(result[d] ?? first, first)
        }
        return result
    }

    // MARK: windows and verdicts

    /// Flagged hours joined into windows; a gap of one quiet hour does not split a window, and hours that send
    /// from the same new network within `newForHours` are one window (an intruder's first test and the burst
    /// after it are one incident, which started with the first).
    func windows(_ evidence: [HourEvidence]) -> [[HourEvidence]] {
        var result: [[HourEvidence]] = []
        for e in evidence.sorted(by: { $0.hour.hour < $1.hour.hour }) {
            if let current = result.last, let last = current.last {
                let near = e.hour.hour - last.hour.hour <= 2 * Self.hour
                let networks = Set(e.newNetworks.map(\.0))
                let sameNetwork =
                    !networks.isEmpty && e.hour.hour - last.hour.hour <= Self.newForHours * Self.hour
                    && current.contains { w in w.newNetworks.contains { networks.contains($0.0) } }
                if near || sameNetwork {
                    result[result.count - 1].append(e)
                    continue
                }
            }
            result.append([e])
        }
        return result
    }

    func judge(account: String, _ window: [HourEvidence]) -> AnomalyFinding {
        let t = thresholds
        let base = window[0].base
        let ref = window[0].ref
        var signals = window.reduce(into: Set<AnomalyFinding.Signal>()) { $0.formUnion($1.signals) }
        let messages = window.reduce(Int64(0)) { $0 + $1.hour.messages }
        let recipients = window.reduce(Int64(0)) { $0 + $1.hour.recipients }
        let failed = window.reduce(0.0) { $0 + $1.adjustedFailed }
        let rawFailed = window.reduce(Int64(0)) { $0 + $1.hour.failed }
        if failuresFlag(recipients: recipients, failed: failed, base: ref) { signals.insert(.failures) }
        // The mail from new networks on its own: an intruder's share of failures is diluted by the owner's mail.
        let newRecipients = window.reduce(Int64(0)) { $0 + $1.newNetworkRecipients }
        let newFailed = window.reduce(0.0) { $0 + $1.newNetworkFailed }
        let newNetworkFailures =
            !signals.contains(.failures) && failuresFlag(recipients: newRecipients, failed: newFailed, base: ref)
        if newNetworkFailures { signals.insert(.failures) }
        // A volume that lasts: the window's recipients against the account's busy day (as many days as it lasts).
        let hours = (window.last!.hour.hour - window.first!.hour.hour) / Self.hour + 1
        let expected = ref.recipientsDayQuantile * max(1, Double(hours) / 24)
        let sustained =
            !signals.contains(.volume) && hours > 1
            && Double(recipients) >= max(Double(t.volumeMinimum), t.volumeFactor * expected)
        if sustained { signals.insert(.volume) }
        var networks: [String: Int64] = [:]
        for e in window { for (n, r) in e.newNetworks { networks[n, default: 0] += r } }
        // Several new networks and more client addresses than ever: many hands on one login.
        let distributed = networks.count >= 2 && window.contains { $0.manyClients }
        let access = signals.contains(.newNetwork) || signals.contains(.bruteForce) || signals.contains(.newSender)
        let enough = recipients >= t.compromiseMinimum
        // From the usual network and addresses, a burst whose failures are mostly deferrals is a newsletter meeting
        // the big mailbox providers' rate limits; it takes bounces to make it an intruder's.
        let bounced = window.reduce(Int64(0)) { $0 + $1.hour.bounced }
        let bouncedEnough = recipients > 0 && Double(bounced) / Double(recipients) >= t.failureShare
        let compromised =
            (signals.contains(.volume) && ((signals.contains(.failures) && (access || bouncedEnough)) || access))
            || (signals.contains(.failures) && access && enough)
            || (signals.contains(.bruteForce) && enough) || (distributed && enough)

        var reasons: [String] = []
        var score = 0.0
        let peak = window.max { $0.hour.recipients < $1.hour.recipients }!.hour
        // Volume scores by how far past its threshold it went (1 = just at it).
        if sustained {
            let d = ref.recipientsDayQuantile
            let threshold = max(Double(t.volumeMinimum), t.volumeFactor * expected)
            score += min(Double(recipients) / threshold, 10)
            let against =
                !base.isNew
                ? "\(Self.number(Double(recipients) / max(expected, 1)))× its \(Self.percentileName(t.quantile)) "
                    + "day (\(Self.number(d)))"
                : d > 0
                    ? "a new account; its or the relay's typical busiest day is \(Self.number(d))"
                    : "a new account with no history to compare"
            reasons.append("\(recipients) recipients in \(hours) h, \(against)")
        } else if signals.contains(.volume) {
            let q = ref.recipientsQuantile
            score += min(Double(peak.recipients) / volumeThreshold(ref), 10)
            let against =
                !base.isNew
                ? "\(Self.number(Double(peak.recipients) / max(q, 1)))× its \(Self.percentileName(t.quantile)) hour "
                    + "(\(Self.number(q)))"
                : q > 0
                    ? "a new account; its or the relay's typical busiest hour is \(Self.number(q))"
                    : "a new account with no history to compare"
            reasons.append("\(peak.recipients) recipients in 1 h from \(Self.clock(peak.hour)), \(against)")
        }
        if newNetworkFailures {
            let share = newFailed / Double(newRecipients)
            score += min(share / t.failureShare, 4)
            reasons.append(
                "\(Self.percent(share)) of the \(newRecipients) recipients from new networks bounced or deferred "
                    + "(usually \(Self.percent(ref.failedShare)))")
        } else if signals.contains(.failures) {
            // The window's share when it is over the threshold, else the worst hour that was.
            let windowShare = recipients > 0 ? failed / Double(recipients) : 0
            let worst = window.filter { $0.signals.contains(.failures) }.max {
                $0.adjustedFailed / Double(max($0.hour.recipients, 1))
                    < $1.adjustedFailed / Double(max($1.hour.recipients, 1))
            }
            let (n, f, adjusted, when): (Int64, Int64, Double, String)
            if windowShare >= t.failureShare || worst == nil {
                (n, f, adjusted, when) = (recipients, rawFailed, failed, "")
            } else {
                let w = worst!
                (n, f, adjusted, when) = (
                    w.hour.recipients, w.hour.failed, w.adjustedFailed, " in the hour from \(Self.clock(w.hour.hour))"
                )
            }
            let share = n > 0 ? adjusted / Double(n) : 0
            score += min(share / t.failureShare, 4)
            var text = "\(Self.percent(share)) of \(n) recipients\(when) bounced or deferred (\(f)"
            if Int64(adjusted.rounded()) < f { text += ", \(Int64(adjusted.rounded())) beyond the relay's own" }
            text += "; usually \(Self.percent(ref.failedShare)))"
            reasons.append(text)
        }
        if !networks.isEmpty {
            score += 1
            let list = networks.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) (\($0.value) recipients)" }
            reasons.append("first time from " + list.joined(separator: ", "))
        }
        let clients = window.map(\.hour.clients).max() ?? 0
        if signals.contains(.newNetwork) && clients >= t.clientsMinimum && clients > base.maxClients {
            score += 1
            reasons.append("\(clients) client addresses in one hour (at most \(base.maxClients) before)")
        }
        if let b = window.compactMap(\.bruteForce).max(by: { $0.failures < $1.failures }) {
            score += 1 + min(Double(b.failures) / 100, 2)
            reasons.append(
                "\(b.failures) failed logins in the \(t.authLookbackHours) h before, most from \(b.from), "
                    + "then a login from a new network")
        }
        var senderDomains: [String] = []
        for e in window { for d in e.newSenderDomains where !senderDomains.contains(d) { senderDomains.append(d) } }
        if !senderDomains.isEmpty {
            score += 1
            let more = senderDomains.count > 3 ? " and \(senderDomains.count - 3) more" : ""
            reasons.append(
                "sent as \(senderDomains.count) sender domain(s) it never used: "
                    + senderDomains.prefix(3).joined(separator: ", ") + more)
        }
        if signals.contains(.spread) {
            let d = window.map(\.hour.domains).max() ?? 0
            score += 0.5
            let against =
                !base.isNew
                ? "its \(Self.percentileName(t.quantile)) hour: \(Self.number(ref.domainsQuantile))"
                : ref.domainsQuantile > 0
                    ? "a new account; its or the relay's typical busiest hour: \(Self.number(ref.domainsQuantile))"
                    : "a new account with no history to compare"
            reasons.append("recipients at \(d) domains in 1 h (\(against))")
        }
        return AnomalyFinding(
            account: account, windowStart: window.first!.hour.hour, windowEnd: window.last!.hour.hour + Self.hour,
            verdict: compromised ? .compromised : .review, score: (score * 10).rounded() / 10,
            signals: signals.sorted(), reasons: reasons, messages: messages, recipients: recipients,
            failed: rawFailed)
    }

    // MARK: words

    static func number(_ x: Double) -> String {
        x >= 10 || x == x.rounded() ? String(Int64(x.rounded())) : String(format: "%.1f", x)
    }

    static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded())) %" }

    static func percentileName(_ q: Double) -> String {
        let p = Int((q * 100).rounded())
        let suffix = (p % 100 >= 11 && p % 100 <= 13) ? "th" : ([1: "st", 2: "nd", 3: "rd"][p % 10] ?? "th")
        return "\(p)\(suffix)-percentile"
    }

    static func clock(_ t: Int64) -> String {
        let s = ISO8601.utc(t)
        return String(s.dropFirst(11).prefix(5)) + " UTC"
    }
}
