import Config
import Foundation
import Store

/// Decides what is reported and builds the reports not yet stored: one per message the relay refused for its content
/// after DATA, and one per `compromised` finding (a representative message of the window, `Incidents:` counting the
/// window's messages). Reads the store; writes nothing (`RelayStore.insertARFReports` stores the result).
package struct ReportPlanner {
    /// What one planning run found.
    package struct Plan: Sendable {
        /// New reports, `pending` or `held` by the per-account limit, oldest activity first.
        package var reports: [ARFReportRecord] = []
        /// Reports that could not be built because no abuse address is configured for them, by account.
        package var unaddressed: [String: Int] = [:]
        /// Findings whose window has no stored message left to report.
        package var emptyFindings = 0
    }

    package var store: RelayStore
    package var configuration: RelaysumConfiguration
    /// `relaysum/<version>`.
    package var userAgent: String
    package var now: Int64

    package init(store: RelayStore, configuration: RelaysumConfiguration, userAgent: String, now: Int64) {
        self.store = store
        self.configuration = configuration
        self.userAgent = userAgent
        self.now = now
    }

    /// Plans reports for activity at or after `since` (all stored activity when nil).
    package func plan(since: Int64? = nil) throws -> Plan {
        let existing = try store.arfReportSummaries()
        let known = Set(existing.map(\.sourceKey))
        var limiter = AccountLimiter(
            limit: configuration.report.limit, seconds: Int64(configuration.report.limitHours) * 3600,
            reports: existing.filter { $0.state != .held }.map { ($0.account, $0.kind, $0.eventAt) })
        var plan = Plan()

        // Compromised accounts first: a report about a whole window matters more than one about a single message.
        for finding in try store.findings(from: since, verdict: "compromised") {
            let key = "finding:\(finding.account):\(finding.windowStart)"
            if known.contains(key) { continue }
            let messages = try store.messages(
                account: finding.account, from: finding.windowStart, to: finding.windowEnd, limit: 1000)
            // The representative: the message with the most failed recipients, the earliest of those.
            guard let message = messages.max(by: { $0.deferred + $0.bounced < $1.deferred + $1.bounced }) else {
                plan.emptyFindings += 1
                continue
            }
            let representative =
                messages.first { $0.deferred + $0.bounced == message.deferred + message.bounced } ?? message
            let domain = MessageRecord.domain(of: representative.sender)
            guard let to = configuration.abuseAddress(account: finding.account, senderDomain: domain) else {
                plan.unaddressed[finding.account, default: 0] += 1
                continue
            }
            let report = compromisedReport(finding, representative, to: to, key: key)
            plan.reports.append(
                record(
                    report, key: key, kind: "compromised", account: finding.account, to: to,
                    eventAt: finding.windowStart, limiter: &limiter))
        }

        for group in Self.group(try store.contentRejects(since: since)) {
            let first = group[0].record
            let key =
                first.queueID.map { "reject:\(first.host):\($0):\(first.at)" } ?? "reject:#\(group[0].rowID)"
            if known.contains(key) { continue }
            let account = first.login.flatMap { $0.isEmpty ? nil : "sasl:\($0)" } ?? first.clientIP.map { "ip:\($0)" }
            let domain = first.sender.flatMap(MessageRecord.domain(of:))
            guard let to = configuration.abuseAddress(account: account, senderDomain: domain) else {
                plan.unaddressed[account ?? "(unknown account)", default: 0] += 1
                continue
            }
            let report = try rejectReport(group.map(\.record), account: account, to: to, key: key)
            plan.reports.append(
                record(report, key: key, kind: "reject", account: account, to: to, eventAt: first.at, limiter: &limiter)
            )
        }
        return plan
    }

    private func record(
        _ report: AbuseReport, key: String, kind: String, account: String?, to: String, eventAt: Int64,
        limiter: inout AccountLimiter
    ) -> ARFReportRecord {
        let allowed = limiter.admit(account: account, kind: kind, at: eventAt)
        return ARFReportRecord(
            sourceKey: key, kind: kind, account: account, abuseAddress: to, eventAt: eventAt,
            message: FeedbackReport.build(report), state: allowed ? .pending : .held, createdAt: now)
    }

    /// Rows of one refused message: the same relay and queue ID within an hour (a content filter's discard is
    /// logged once per recipient). Rows without a queue ID stand alone.
    static func group(_ rows: [ContentRejectRow]) -> [[ContentRejectRow]] {
        var groups: [[ContentRejectRow]] = []
        var open: [String: Int] = [:]
        for row in rows {
            guard let qid = row.record.queueID else {
                groups.append([row])
                continue
            }
            let key = row.record.host + "\u{0}" + qid
            if let i = open[key], row.record.at - groups[i][0].record.at < 3600 {
                groups[i].append(row)
            } else {
                open[key] = groups.count
                groups.append([row])
            }
        }
        return groups
    }

    private func base(
        to: String, key: String, summary: String, details: [AbuseReport.Detail], subject: String
    ) -> AbuseReport {
        let host = configuration.reportingHost
        return AbuseReport(
            from: configuration.reportFrom, to: to, date: now,
            messageID: "relaysum-" + String(Self.hash(key), radix: 16) + "@" + host, reportingMTA: host,
            userAgent: userAgent, summary: summary, details: details, fallbackSubject: subject, originalMailFrom: nil,
            originalRecipients: [], totalRecipients: 0, maxRecipients: configuration.report.maxRecipients,
            arrivalDate: nil, sourceIP: nil, incidents: 1, originalMessageID: nil, originalSubject: nil,
            originalFrom: nil, trace: nil)
    }

    private func rejectReport(
        _ rows: [RejectRecord], account: String?, to: String, key: String
    ) throws -> AbuseReport {
        let first = rows[0]
        var recipients: [String] = []
        for r in rows { if let a = r.recipient, !a.isEmpty, !recipients.contains(a) { recipients.append(a) } }
        let stored = try first.queueID.flatMap {
            try store.messageDetails(host: first.host, queueID: $0, near: first.at)
        }
        let what: String
        switch first.kind {
        case .checkReject: what = "The relay's \(first.stage == "BODY" ? "body" : "header") checks rejected a message"
        case .discard: what = "The relay's content checks discarded a message"
        default:
            what =
                first.stage == "CONTENT-FILTER"
                ? "The relay's content filter blocked a message as spam"
                : "The relay rejected a message for its content at \(first.stage ?? "DATA")"
        }
        var details: [AbuseReport.Detail] = []
        if let account { details.append(.init("Account", account)) }
        details.append(.init("Envelope sender", first.sender.map { $0.isEmpty ? "<>" : "<\($0)>" } ?? "(not logged)"))
        let client = [first.clientName, first.clientIP.map { "[\($0)]" }].compactMap { $0 }.joined(separator: " ")
        if !client.isEmpty { details.append(.init("Client", client)) }
        details.append(.init("Relay", first.host))
        if let qid = first.queueID { details.append(.init(first.mta == .exim ? "Message ID" : "Queue ID", qid)) }
        details.append(.init("Time", MIMEText.date(first.at)))
        let reason = [first.code, first.dsn, first.reason].compactMap { $0 }.filter { !$0.isEmpty }
        details.append(.init("Reason", reason.joined(separator: " ")))
        var r = base(
            to: to, key: key, summary: what + ". One report per message (RFC 5965 section 2e).", details: details,
            subject: "Abuse report: message from \(account ?? "an unknown account") blocked by \(first.host)")
        r.originalMailFrom = first.sender
        r.originalRecipients = recipients
        r.totalRecipients = max(recipients.count, stored?.announcedRecipients ?? 0)
        r.arrivalDate = first.at
        r.sourceIP = first.clientIP
        r.originalMessageID = stored?.messageID
        r.originalSubject = Self.loggedHeader("Subject", in: first.reason)
        r.originalFrom = Self.loggedHeader("From", in: first.reason).flatMap(Self.bareAddress)
        r.trace = .init(
            clientName: first.clientName, clientIP: first.clientIP, relay: first.host, queueID: first.queueID)
        return r
    }

    private func compromisedReport(
        _ f: AnomalyFindingRecord, _ m: StoredMessage, to: String, key: String
    ) -> AbuseReport {
        var details: [AbuseReport.Detail] = [
            .init("Account", f.account),
            .init("Window", "\(MIMEText.date(f.windowStart)) to \(MIMEText.date(f.windowEnd))"),
            .init(
                "In the window",
                "\(f.messages) messages (Incidents in part 2) to \(f.recipients) recipients, \(f.failed) of them "
                    + "bounced or deferred"),
            .init("Score", String(format: "%.2f", f.score)),
            .init("Why", f.reasons),
            .init(
                "Example",
                "the message below, from the relay \(m.host), \(m.mta == "exim" ? "message" : "queue") ID \(m.queueID)"),
        ]
        let client = [m.clientName, m.clientIP.map { "[\($0)]" }].compactMap { $0 }.joined(separator: " ")
        if !client.isEmpty { details.append(.init("Client", client)) }
        var r = base(
            to: to, key: key,
            summary: "relaysum judged the account \(f.account) compromised: its mail in this window departs from its "
                + "own baseline. This report describes one representative message; Incidents counts the messages of "
                + "the window.",
            details: details, subject: "Abuse report: account \(f.account) appears compromised")
        r.originalMailFrom = m.sender
        r.originalRecipients = m.recipients.map(\.address)
        r.totalRecipients = Int(m.recipientCount)
        r.arrivalDate = m.receivedAt
        r.sourceIP = m.clientIP
        r.incidents = Int(max(1, f.messages))
        r.originalMessageID = m.messageID
        r.trace = .init(clientName: m.clientName, clientIP: m.clientIP, relay: m.host, queueID: m.queueID)
        return r
    }

    /// The value of a header check's `(header Name: value)` in a logged reason, if any.
    static func loggedHeader(_ name: String, in reason: String) -> String? {
        guard let start = reason.range(of: "(header \(name): ", options: .caseInsensitive) else { return nil }
        var value = reason[start.upperBound...]
        if value.hasSuffix(")") { value = value.dropLast() }
        return String(value)
    }

    /// `Name <a@b>` or `a@b` → `a@b`.
    static func bareAddress(_ value: String) -> String? {
        if let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close {
            return String(value[value.index(after: open)..<close])
        }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

/// The per-account limit: at most `limit` reports of one kind about one account whose activity lies within
/// `seconds` of each other (`[report] limit`, `limit_hours`); 0 is no limit.
struct AccountLimiter {
    var limit: Int
    var seconds: Int64
    var times: [String: [Int64]] = [:]

    init(limit: Int, seconds: Int64, reports: [(String?, String, Int64)]) {
        self.limit = limit
        self.seconds = seconds
        for (account, kind, at) in reports { times[Self.key(account, kind), default: []].append(at) }
    }

    private static func key(_ account: String?, _ kind: String) -> String { kind + "\u{0}" + (account ?? "") }

    /// True (and counted) when a report of `kind` about `account` for activity at `at` is within the limit.
    mutating func admit(account: String?, kind: String, at: Int64) -> Bool {
        let key = Self.key(account, kind)
        if limit > 0 {
            let near = times[key, default: []].filter { abs($0 - at) < seconds }.count
            if near >= limit { return false }
        }
        times[key, default: []].append(at)
        return true
    }
}
