import GRDB

/// The relay's traffic in one hour (or day): the accepted messages submitted by an account in it, by arrival, and
/// their recipients by final outcome.
package struct TrafficBin: Sendable, Equatable {
    package var start: Int64
    package var messages: Int64
    package var recipients: Int64
    package var delivered: Int64
    package var deferred: Int64
    package var bounced: Int64
    package var bytes: Int64

    package init(
        start: Int64, messages: Int64 = 0, recipients: Int64 = 0, delivered: Int64 = 0, deferred: Int64 = 0,
        bounced: Int64 = 0, bytes: Int64 = 0
    ) {
        self.start = start
        self.messages = messages
        self.recipients = recipients
        self.delivered = delivered
        self.deferred = deferred
        self.bounced = bounced
        self.bytes = bytes
    }
}

/// Reads for the timelines of `relaysum report --html`.
extension RelayStore {
    /// Totals per UTC hour with `from <= hour < to`, summed over accounts from `account_hours` (hours without
    /// traffic are absent). Relay-generated bounces and messages with no known account are not in them.
    package func hourlyTraffic(from: Int64, to: Int64) throws -> [TrafficBin] {
        try query { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT hour, sum(messages), sum(recipients), sum(delivered), sum(deferred), sum(bounced),
                        sum(bytes)
                    FROM account_hours WHERE hour >= ? AND hour < ? GROUP BY hour ORDER BY hour
                    """,
                arguments: [from, to]
            ).map { r in
                TrafficBin(
                    start: r[0], messages: r[1], recipients: r[2], delivered: r[3], deferred: r[4], bounced: r[5],
                    bytes: r[6])
            }
        }
    }

    /// Totals per UTC day with `from <= day < to` from the day aggregates (`message_buckets`), for periods too long
    /// to draw by the hour; all accepted messages, relay-generated bounces left out.
    /// Stale days (RelayStore+StaleDays.swift) are summed from their rows.
    package func dailyTraffic(from: Int64, to: Int64) throws -> [TrafficBin] {
        try query { db in
            let stale = try Self.staleDays(db).filter { $0 >= from && $0 < to }
            // A stale day's buckets are left out and computed afresh from its rows, as the buckets would be.
            var buckets = "SELECT * FROM message_buckets WHERE span = ? AND start >= ? AND start < ?"
            if !stale.isEmpty {
                let rows = stale.map { "(received_at >= \($0) AND received_at < \($0 + Self.daySeconds))" }
                buckets += """
                     AND start NOT IN (\(stale.map(String.init).joined(separator: ",")))
                    UNION ALL \(Self.messageBucketsFromRowsSQL(Self.daySeconds, rows: rows.joined(separator: " OR ")))
                    """
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT start, sum(messages), sum(recipients), sum(delivered), sum(deferred), sum(bounced),
                        sum(bytes)
                    FROM (\(buckets)) GROUP BY start ORDER BY start
                    """,
                arguments: [Self.daySeconds, from, to]
            ).map { r in
                TrafficBin(
                    start: r[0], messages: r[1], recipients: r[2], delivered: r[3], deferred: r[4], bounced: r[5],
                    bytes: r[6])
            }
        }
    }

    /// The first and last arrival of a stored message, if any.
    package func messageTimeRange() throws -> ClosedRange<Int64>? {
        try query { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT min(received_at), max(received_at) FROM messages")
            guard let lo: Int64 = row?[0], let hi: Int64 = row?[1] else { return nil }
            return lo...hi
        }
    }
}
