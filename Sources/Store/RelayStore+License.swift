import GRDB

/// One outgoing user's use of one sending domain (the envelope-sender domain of accepted messages) in a period.
package struct LicenseUse: Sendable, Equatable {
    /// `sasl:<login>`, `ip:<address>`, `local:<user>`; nil when unknown.
    package var account: String?
    /// Lower-cased.
    package var domain: String
    package var messages: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(account: String?, domain: String, messages: Int64, firstSeen: Int64, lastSeen: Int64) {
        self.account = account
        self.domain = domain
        self.messages = messages
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

extension RelayStore {
    /// Every (account, sender domain) pair of accepted messages in the period, over all relays (or `filter.host`),
    /// sorted by account and domain. Relay-generated bounces, the null sender and senders without a domain have no
    /// sending domain.
    package func licenseUses(filter: MessageFilter, source: SummarySource = .automatic) throws -> [LicenseUse] {
        try query { db in
            let stored = try hasAggregates(db)
            let aggregates = source == .automatic && stored
            let plan = TimePlan(
                since: filter.since, until: filter.until, spans: aggregates ? Self.messageSpans : [],
                stale: aggregates ? try Self.staleDays(db) : [])
            var branches: [SQLCondition] = []
            for buckets in plan.buckets {
                var parts = TimePlan.conditions(buckets)
                parts.append(SQLCondition("sender_domain IS NOT NULL"))
                if let host = filter.host { parts.append(SQLCondition("host = ?", [host])) }
                if let s = filter.sender { parts.append(s.condition(sender: "sender", domain: "sender_domain")) }
                let w = SQLCondition.all(parts)
                branches.append(
                    SQLCondition(
                        """
                        SELECT nullif(account, '') AS account, sender_domain AS domain, messages, first_seen, last_seen
                        FROM message_buckets WHERE \(w.sql)
                        """, w.arguments))
            }
            for range in plan.rows {
                var parts = [SQLCondition("m.origin != 'generated'"), SQLCondition("m.sender_domain IS NOT NULL")]
                parts += SQLCondition.range("m.received_at", from: range.from, to: range.to)
                if let host = filter.host { parts.append(SQLCondition("m.host = ?", [host])) }
                if let s = filter.sender { parts.append(s.condition(sender: "m.sender", domain: "m.sender_domain")) }
                let w = SQLCondition.all(parts)
                branches.append(
                    SQLCondition(
                        """
                        SELECT m.account AS account, m.sender_domain AS domain, 1 AS messages,
                            m.received_at AS first_seen, m.received_at AS last_seen
                        FROM messages m WHERE \(w.sql)
                        """, w.arguments))
            }
            var args: StatementArguments = []
            for b in branches { args += b.arguments }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT account, domain, sum(messages) AS messages, min(first_seen) AS first_seen,
                        max(last_seen) AS last_seen
                    FROM (\(branches.map(\.sql).joined(separator: "\nUNION ALL\n")))
                    GROUP BY account, domain ORDER BY account, domain
                    """, arguments: args
            ).map { row in
                LicenseUse(
                    account: row["account"], domain: row["domain"], messages: row["messages"],
                    firstSeen: row["first_seen"], lastSeen: row["last_seen"])
            }
        }
    }
}
