import GRDB

/// What a summary groups by (SPEC: `summary --by`).
package enum SummaryGrouping: String, CaseIterable, Sendable {
    case sender
    case senderDomain = "sender-domain"
    case account
    case clientIP = "client-ip"
    case recipientDomain = "recipient-domain"
}

/// One row of a summary: SPEC columns `key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen`.
package struct SummaryRow: Sendable, Equatable, Codable {
    /// The sender as logged (null sender `<>`), or the domain, account, IP or recipient domain; nil when unknown.
    package var key: String?
    package var messages: Int64
    package var recipients: Int64
    package var delivered: Int64
    package var deferred: Int64
    package var bounced: Int64
    package var bytes: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(
        key: String?, messages: Int64, recipients: Int64, delivered: Int64, deferred: Int64, bounced: Int64,
        bytes: Int64, firstSeen: Int64, lastSeen: Int64
    ) {
        self.key = key
        self.messages = messages
        self.recipients = recipients
        self.delivered = delivered
        self.deferred = deferred
        self.bounced = bounced
        self.bytes = bytes
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// Which messages a report covers.
package struct MessageFilter: Sendable {
    /// Received at or after (seconds since the epoch, UTC).
    package var since: Int64?
    /// Received before.
    package var until: Int64?
    /// One relay of several.
    package var host: String?

    package init(since: Int64? = nil, until: Int64? = nil, host: String? = nil) {
        self.since = since
        self.until = until
        self.host = host
    }

    /// SQL conditions on the `messages` table aliased `m`, and their arguments.
    fileprivate var sql: (String, StatementArguments) {
        var parts = ["m.origin != 'generated'"]
        var args: StatementArguments = []
        if let since {
            parts.append("m.received_at >= ?")
            args += [since]
        }
        if let until {
            parts.append("m.received_at < ?")
            args += [until]
        }
        if let host {
            parts.append("m.host = ?")
            args += [host]
        }
        return (parts.joined(separator: " AND "), args)
    }
}

extension RelayStore {
    /// Per-key totals of accepted messages (relay-generated bounces left out), most messages first.
    package func summary(by grouping: SummaryGrouping, filter: MessageFilter, top: Int?) throws -> [SummaryRow] {
        let (whereSQL, args) = filter.sql
        let limit = top.map { " LIMIT \($0)" } ?? ""
        let sql: String
        switch grouping {
        case .recipientDomain:
            sql = """
                SELECT r.domain AS key, count(DISTINCT r.message) AS messages, count(*) AS recipients,
                    sum(r.outcome = 'delivered') AS delivered, sum(r.outcome = 'deferred') AS deferred,
                    sum(r.outcome = 'bounced') AS bounced, sum(coalesce(m.size, 0)) AS bytes,
                    min(m.received_at) AS first_seen, max(m.received_at) AS last_seen
                FROM recipients r JOIN messages m ON m.id = r.message
                WHERE \(whereSQL) GROUP BY r.domain ORDER BY messages DESC, key\(limit)
                """
        default:
            let column: String
            switch grouping {
            case .sender: column = "m.sender"
            case .senderDomain: column = "m.sender_domain"
            case .account: column = "m.account"
            case .clientIP: column = "m.client_ip"
            case .recipientDomain: column = "NULL"
            }
            sql = """
                SELECT \(column) AS key, count(*) AS messages, sum(m.recipients) AS recipients,
                    sum(m.delivered) AS delivered, sum(m.deferred) AS deferred, sum(m.bounced) AS bounced,
                    sum(coalesce(m.size, 0)) AS bytes, min(m.received_at) AS first_seen,
                    max(m.received_at) AS last_seen
                FROM messages m WHERE \(whereSQL) GROUP BY \(column) ORDER BY messages DESC, key\(limit)
                """
        }
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                var key: String? = row["key"]
                if grouping == .sender, key == "" { key = "<>" }
                return SummaryRow(
                    key: key, messages: row["messages"], recipients: row["recipients"] ?? 0,
                    delivered: row["delivered"] ?? 0, deferred: row["deferred"] ?? 0, bounced: row["bounced"] ?? 0,
                    bytes: row["bytes"] ?? 0, firstSeen: row["first_seen"], lastSeen: row["last_seen"])
            }
        }
    }

    /// Totals for the stderr report and the table footer: accepted messages and relay-generated ones.
    package func messageTotals(filter: MessageFilter) throws -> (messages: Int64, generated: Int64) {
        var f = filter
        f.host = filter.host
        let (whereSQL, args) = f.sql
        let generatedWhere = whereSQL.replacingOccurrences(
            of: "m.origin != 'generated'", with: "m.origin = 'generated'")
        return try read { db in
            let messages =
                try Int64.fetchOne(db, sql: "SELECT count(*) FROM messages m WHERE \(whereSQL)", arguments: args) ?? 0
            let generated =
                try Int64.fetchOne(db, sql: "SELECT count(*) FROM messages m WHERE \(generatedWhere)", arguments: args)
                ?? 0
            return (messages, generated)
        }
    }
}
