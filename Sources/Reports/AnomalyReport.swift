import Config
import Foundation
import Store

/// `relaysum anomalies`: brings the account activity up to date, judges a period, stores the findings and prints
/// them.
package enum AnomalyReport {
    package static let columns = [
        "account", "window_start", "window_end", "verdict", "score", "reasons", "signals", "messages", "recipients",
        "failed",
    ]

    /// Hours a run without `--since` judges again before where the last run ended: messages of those hours may
    /// have been completed since.
    static let overlapHours: Int64 = 2

    /// The whole hours judged: [since, until) rounded out to hours. Without `--until`: up to the end of the newest
    /// hour with activity (not the clock, so old logs can be judged too). Without `--since`: from where the last
    /// run ended (less `overlapHours`), or, the first time, from the oldest activity, so a fresh database is
    /// judged whole, each day against the days before it.
    package static func period(
        since: Int64?, until: Int64?, activity: ClosedRange<Int64>?, lastJudged: Int64?
    ) -> Range<Int64>? {
        let h = RelayStore.hourSeconds
        guard let activity else { return nil }
        let end = until.map { ($0 + h - 1) / h * h } ?? (activity.upperBound + h)
        let start =
            since.map { $0 / h * h }
            ?? max(activity.lowerBound, (lastJudged ?? activity.lowerBound) - overlapHours * h)
        return start < end ? start..<end : nil
    }

    /// Judges the period and stores the findings (replacing earlier judgements of windows starting in it). Returns
    /// the findings of the period; without `since`, only those not found the same by an earlier run.
    package static func run(
        store: RelayStore, since: Int64?, until: Int64?, account: String?, thresholds: AnomalyThresholds,
        now: Int64
    ) throws -> [AnomalyFinding] {
        try store.refreshActivity()
        let activity = try store.activityHours()
        guard
            let judged = period(
                since: since, until: until, activity: activity,
                lastJudged: account == nil ? try store.lastJudgedUntil() : nil)
        else { return [] }
        var input = try loadInput(
            store: store, since: judged.lowerBound, until: judged.upperBound, account: account, thresholds: thresholds)
        input.dataStart = activity?.lowerBound ?? judged.lowerBound
        // Sender domains are compared by registrable domain, with Debian's Public Suffix List when installed.
        let detector =
            (try? PublicSuffixList()).map { list in
                AnomalyDetector(thresholds: thresholds, organisation: { list.fold($0) })
            } ?? AnomalyDetector(thresholds: thresholds)
        let findings = detector.detect(input)
        // A run that goes on from the last shows what is new or changed; one with --since shows everything.
        let known = Set(
            try store.findings(from: judged.lowerBound, to: judged.upperBound).map {
                "\($0.account) \($0.windowStart) \($0.windowEnd) \($0.verdict)"
            })
        try store.saveFindings(
            findings.map {
                AnomalyFindingRecord(
                    account: $0.account, windowStart: $0.windowStart, windowEnd: $0.windowEnd,
                    verdict: $0.verdict.rawValue, score: $0.score, reasons: $0.reasons.joined(separator: "; "),
                    messages: $0.messages, recipients: $0.recipients, failed: $0.failed, detectedAt: now)
            }, period: judged, account: account, at: now)
        if since != nil { return findings }
        return findings.filter {
            !known.contains("\($0.account) \($0.windowStart) \($0.windowEnd) \($0.verdict.rawValue)")
        }
    }

    static func loadInput(
        store: RelayStore, since: Int64, until: Int64, account: String?, thresholds: AnomalyThresholds
    ) throws -> AnomalyInput {
        let h = RelayStore.hourSeconds
        let baselineStart = since - Int64(thresholds.baselineDays) * 24 * h
        // One read of the baseline and the period: the period's hours of every account are the relay's.
        let all = try store.accountHours(from: baselineStart, to: until)
        let relayHours = all.filter { $0.hour >= since }
        let active = Set(
            relayHours.filter { $0.messages > 0 && (account == nil || $0.account == account) }.map(\.account))
        let hours = all.filter { active.contains($0.account) }
        let keys = try store.accountHourKeys(from: since, to: until).filter { active.contains($0.account) }
        let senders = try store.senderFirstHours().filter { active.contains($0.key) }
        let auth = try store.authFailureHours(from: since - Int64(thresholds.authLookbackHours) * h, to: until)
        var flagged: [String: [ClosedRange<Int64>]] = [:]
        for f in try store.findings(from: baselineStart, to: since, verdict: "compromised")
        where active.contains(f.account) {
            flagged[f.account, default: []].append(f.windowStart...(f.windowEnd - 1))
        }
        return AnomalyInput(
            since: since, until: until, hours: hours, relayHours: relayHours, keys: keys, senderFirstHours: senders,
            authFailures: auth, flagged: flagged)
    }

    package static func render(_ findings: [AnomalyFinding], as format: OutputFormat) -> String {
        let rows: [[Cell]] = findings.map { f in
            [
                .text(f.account), .time(f.windowStart), .time(f.windowEnd), .text(f.verdict.rawValue),
                .decimal(f.score),
                format == .json ? .list(f.reasons) : .text(f.reasons.joined(separator: "; ")),
                .list(f.signals.map(\.rawValue)), .number(f.messages), .number(f.recipients), .number(f.failed),
            ]
        }
        return TableFormat(columns: columns).render(rows, as: format)
    }
}
