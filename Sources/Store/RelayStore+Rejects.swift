import GRDB

/// What `relaysum rejects` groups by.
package enum RejectGrouping: String, CaseIterable, Sendable {
    case clientIP = "client-ip"
    /// `sasl:<login>` when the session had logged in, else `ip:<client address>` (SPEC: outgoing user).
    case account
    case sender
    /// The reply code, enhanced status and reason text, without the leading `<address>: ` that names the refused
    /// item, so one reason given to many recipients is one row.
    case reason
}

/// Which column rejected attempts are sorted by: every column but `key` largest (or latest) first, then by key.
package enum RejectSort: String, CaseIterable, Sendable {
    case key
    case attempts
    case clients
    case firstSeen = "first-seen"
    case lastSeen = "last-seen"
}

extension RejectSort: ReportSortColumn {}

/// One row of `relaysum rejects`: `key,attempts,clients,senders,recipients,first_seen,last_seen`.
package struct RejectRow: Sendable, Equatable {
    package var key: String?
    package var attempts: Int64
    /// Distinct client addresses, senders and recipients among the attempts.
    package var clients: Int64
    package var senders: Int64
    package var recipients: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(
        key: String?, attempts: Int64, clients: Int64, senders: Int64, recipients: Int64, firstSeen: Int64,
        lastSeen: Int64
    ) {
        self.key = key
        self.attempts = attempts
        self.clients = clients
        self.senders = senders
        self.recipients = recipients
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// One row of `relaysum rejects --auth-failures`: `key,attempts,clients,logins,first_seen,last_seen`.
package struct AuthFailureRow: Sendable, Equatable {
    package var key: String?
    package var attempts: Int64
    /// Distinct client addresses and logins tried.
    package var clients: Int64
    package var logins: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(key: String?, attempts: Int64, clients: Int64, logins: Int64, firstSeen: Int64, lastSeen: Int64) {
        self.key = key
        self.attempts = attempts
        self.clients = clients
        self.logins = logins
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

extension RelayStore {
    /// Rejected attempts per key (`filter` on the time of the attempt), most attempts first.
    package func rejects(
        by grouping: RejectGrouping, filter: MessageFilter, sort: RejectSort = .attempts, top: Int?
    )
        throws -> [RejectRow]
    {
        let key: String
        switch grouping {
        case .clientIP: key = "client_ip"
        case .account:
            key = """
                CASE WHEN login IS NOT NULL AND login != '' THEN 'sasl:' || login
                    WHEN client_ip IS NOT NULL THEN 'ip:' || client_ip END
                """
        case .sender: key = "CASE WHEN sender = '' THEN '<>' ELSE sender END"
        case .reason: key = "relaysum_reject_reason(code, dsn, reason)"
        }
        var parts = Self.eventConditions(filter)
        if let s = filter.sender { parts.append(s.condition(sender: "sender", domain: nil)) }
        let w = SQLCondition.all(parts)
        let limit = top.map { " LIMIT \($0)" } ?? ""
        return try query { db in
            db.add(function: Self.rejectReasonFunction)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(key) AS key, count(*) AS attempts, count(DISTINCT client_ip) AS clients,
                        count(DISTINCT sender) AS senders, count(DISTINCT recipient) AS recipients,
                        min(at) AS first_seen, max(at) AS last_seen
                    FROM rejects WHERE \(w.sql) GROUP BY 1 ORDER BY \(sort.orderSQL)\(limit)
                    """, arguments: w.arguments
            ).map { row in
                RejectRow(
                    key: row["key"], attempts: row["attempts"], clients: row["clients"], senders: row["senders"],
                    recipients: row["recipients"], firstSeen: row["first_seen"], lastSeen: row["last_seen"])
            }
        }
    }

    /// Failed SMTP AUTH attempts per client address, login (`account`: `sasl:<login>`) or reason.
    package func authFailures(
        by grouping: RejectGrouping, filter: MessageFilter, sort: RejectSort = .attempts, top: Int?
    ) throws -> [AuthFailureRow] {
        let key: String
        switch grouping {
        case .clientIP: key = "client_ip"
        case .account: key = "CASE WHEN login IS NOT NULL AND login != '' THEN 'sasl:' || login END"
        case .reason: key = "reason"
        case .sender: throw StoreError("failed logins have no sender: group them by client-ip, account or reason")
        }
        let w = SQLCondition.all(Self.eventConditions(filter))
        let limit = top.map { " LIMIT \($0)" } ?? ""
        return try query { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(key) AS key, count(*) AS attempts, count(DISTINCT client_ip) AS clients,
                        count(DISTINCT login) AS logins, min(at) AS first_seen, max(at) AS last_seen
                    FROM auth_failures WHERE \(w.sql) GROUP BY 1 ORDER BY \(sort.orderSQL)\(limit)
                    """, arguments: w.arguments
            ).map { row in
                AuthFailureRow(
                    key: row["key"], attempts: row["attempts"], clients: row["clients"], logins: row["logins"],
                    firstSeen: row["first_seen"], lastSeen: row["last_seen"])
            }
        }
    }

    /// The `reason` key of a rejected attempt: the text without a leading `<address>: ` (the refused item, so one
    /// reason given to many recipients is one row), after the reply code and enhanced status unless the text starts
    /// with them already: `554 5.7.1 Relay access denied`.
    package static func rejectReason(code: String?, dsn: String?, reason: String) -> String {
        var text = Substring(reason)
        if text.hasPrefix("<"), let end = text.range(of: ">: ") { text = text[end.upperBound...] }
        let lead = text.split(separator: " ", maxSplits: 2).prefix(2)
        let prefix = [code, dsn].compactMap { $0 }.filter { !$0.isEmpty && !lead.contains(Substring($0)) }
        return (prefix + [String(text)]).joined(separator: " ")
    }

    private static let rejectReasonFunction = DatabaseFunction(
        "relaysum_reject_reason", argumentCount: 3, pure: true
    ) { values in
        rejectReason(
            code: String.fromDatabaseValue(values[0]), dsn: String.fromDatabaseValue(values[1]),
            reason: String.fromDatabaseValue(values[2]) ?? "")
    }

    /// Time and relay conditions on a table of events stamped `at`.
    static func eventConditions(_ f: MessageFilter) -> [SQLCondition] {
        var parts = SQLCondition.range("at", from: f.since, to: f.until)
        if let host = f.host { parts.append(SQLCondition("host = ?", [host])) }
        return parts
    }
}
