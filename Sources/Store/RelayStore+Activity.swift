import Foundation
import GRDB

/// Per-account activity by UTC hour, the input of `relaysum anomalies`, so detection reads a few rows per account
/// and hour instead of rescanning messages.
///
/// - `account_hours`: per account and hour, the accepted messages (by arrival), their recipients by outcome, bytes,
///   distinct recipient domains, client addresses, client networks and sender addresses, and the largest recipient
///   count of one message.
/// - `account_hour_keys`: the client networks (`kind` 'n') and sender addresses ('s') of each account and hour, with
///   their recipients and failed recipients, so a window can name what was new in it.
/// - `account_keys`: the first and last hour each account used each network and sender address.
/// - `activity_dirty_hours`: hours whose messages changed since the activity was last rebuilt. `BulkWriter` adds
///   them in the transaction of each batch; `refreshActivity()` rebuilds those hours from the rows, so a crash
///   between the two only delays the rebuild.
/// - `anomaly_findings`: the windows `anomalies` judged, so later runs leave them out of baselines and
///   `arf build` can report them.
/// - `anomaly_runs`: the periods judged, so the next run without bounds goes on from the last.
///
/// A client network is the address's /24 (IPv4) or /48 (IPv6) (`RelayStore.network(of:)`).
extension RelayStore {
    static func registerActivityMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE activity_dirty_hours (hour INTEGER PRIMARY KEY) WITHOUT ROWID;
                    CREATE TABLE account_hours (
                        account TEXT NOT NULL,
                        hour INTEGER NOT NULL,
                        messages INTEGER NOT NULL,
                        recipients INTEGER NOT NULL,
                        delivered INTEGER NOT NULL,
                        deferred INTEGER NOT NULL,
                        bounced INTEGER NOT NULL,
                        bytes INTEGER NOT NULL,
                        domains INTEGER NOT NULL,
                        clients INTEGER NOT NULL,
                        networks INTEGER NOT NULL,
                        senders INTEGER NOT NULL,
                        largest INTEGER NOT NULL,
                        PRIMARY KEY (account, hour)
                    ) WITHOUT ROWID;
                    CREATE INDEX account_hours_hour ON account_hours(hour);
                    CREATE TABLE account_hour_keys (
                        account TEXT NOT NULL,
                        hour INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        key TEXT NOT NULL,
                        messages INTEGER NOT NULL,
                        recipients INTEGER NOT NULL,
                        failed INTEGER NOT NULL,
                        PRIMARY KEY (account, hour, kind, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX account_hour_keys_hour ON account_hour_keys(hour);
                    CREATE TABLE account_keys (
                        account TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        key TEXT NOT NULL,
                        first_hour INTEGER NOT NULL,
                        last_hour INTEGER NOT NULL,
                        PRIMARY KEY (account, kind, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE anomaly_findings (
                        id INTEGER PRIMARY KEY,
                        account TEXT NOT NULL,
                        window_start INTEGER NOT NULL,
                        window_end INTEGER NOT NULL,
                        verdict TEXT NOT NULL,
                        score REAL NOT NULL,
                        reasons TEXT NOT NULL,
                        messages INTEGER NOT NULL,
                        recipients INTEGER NOT NULL,
                        failed INTEGER NOT NULL,
                        detected_at INTEGER NOT NULL,
                        UNIQUE (account, window_start)
                    );
                    CREATE INDEX anomaly_findings_end ON anomaly_findings(window_end);
                    CREATE TABLE anomaly_runs (
                        id INTEGER PRIMARY KEY,
                        since INTEGER NOT NULL,
                        until INTEGER NOT NULL,
                        at INTEGER NOT NULL
                    );
                    INSERT INTO activity_dirty_hours SELECT DISTINCT received_at / 3600 * 3600 FROM messages;
                    """)
        }
    }

    /// The client network of an address: "192.0.2.0/24", "2001:db8:1::/48"; nil for anything else.
    package static func network(of address: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let a = UInt32(bigEndian: v4.s_addr)
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).0/24"
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
                return "\(b[12]).\(b[13]).\(b[14]).0/24"  // IPv4-mapped
            }
            let groups = (0..<3).map { String(UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/48"
        }
        return nil
    }

    static let networkFunction = DatabaseFunction("relaysum_network", argumentCount: 1, pure: true) { values in
        guard let s = String.fromDatabaseValue(values[0]) else { return nil }
        return RelayStore.network(of: s)
    }

    /// Rebuilds the account activity of every hour marked dirty, in one transaction; returns how many hours.
    /// With `atMost`, does nothing (and returns nil) when more hours than that are dirty: an ingest keeps the
    /// activity current after the few hours a routine run touches, and leaves a bulk load's hundreds (about a
    /// second per 100,000 messages) to the first `anomalies` or `report` that needs them.
    @discardableResult
    package func refreshActivity(atMost: Int? = nil) throws -> Int? {
        do {
            return try writeAccess { db -> Int? in
                if let atMost {
                    let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM activity_dirty_hours") ?? 0
                    if n > atMost { return nil }
                }
                let hours = try Int64.fetchAll(db, sql: "SELECT hour FROM activity_dirty_hours ORDER BY hour")
                // Consecutive hours are read with one range query.
                var start = 0
                while start < hours.count {
                    var end = start
                    while end + 1 < hours.count && hours[end + 1] == hours[end] + Self.hourSeconds { end += 1 }
                    try ActivityBuilder(db: db).rebuild(from: hours[start], to: hours[end] + Self.hourSeconds)
                    start = end + 1
                }
                try db.execute(sql: "DELETE FROM activity_dirty_hours")
                return hours.count
            }
        } catch let error as DatabaseError {
            throw StoreError("cannot update account activity in \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}

/// Rebuilds `account_hours`, `account_hour_keys` and `account_keys` for a range of whole hours from the message
/// and recipient rows, set-based (a row-by-row rebuild in Swift took three times as long).
private struct ActivityBuilder {
    let db: Database

    func rebuild(from: Int64, to: Int64) throws {
        let range: StatementArguments = [from, to]
        db.add(function: RelayStore.networkFunction)
        // Messages an account sent (relay-generated notifications are no one's traffic).
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS temp.activity_messages;
                CREATE TEMP TABLE activity_messages AS
                SELECT id, account, received_at / 3600 * 3600 AS hour, client_ip, relaysum_network(client_ip) AS network,
                    sender, coalesce(size, 0) AS size, recipients, delivered, deferred, bounced
                FROM messages
                WHERE received_at >= ? AND received_at < ? AND account IS NOT NULL AND origin <> 'generated';
                DELETE FROM account_hours WHERE hour >= ? AND hour < ?;
                DELETE FROM account_hour_keys WHERE hour >= ? AND hour < ?;
                INSERT INTO account_hours
                SELECT m.account, m.hour, count(*), sum(recipients), sum(delivered), sum(deferred), sum(bounced),
                    sum(size), coalesce(d.domains, 0), count(DISTINCT client_ip), count(DISTINCT network),
                    count(DISTINCT sender), max(recipients)
                FROM activity_messages m
                LEFT JOIN (
                    SELECT a.account, a.hour, count(DISTINCT r.domain) AS domains
                    FROM activity_messages a JOIN recipients r ON r.message = a.id GROUP BY a.account, a.hour
                ) d USING (account, hour)
                GROUP BY m.account, m.hour;
                INSERT INTO account_hour_keys
                SELECT account, hour, 'n', network, count(*), sum(recipients), sum(deferred + bounced)
                FROM activity_messages WHERE network IS NOT NULL GROUP BY account, hour, network;
                INSERT INTO account_hour_keys
                SELECT account, hour, 's', sender, count(*), sum(recipients), sum(deferred + bounced)
                FROM activity_messages GROUP BY account, hour, sender;
                INSERT INTO account_keys (account, kind, key, first_hour, last_hour)
                SELECT account, kind, key, min(hour), max(hour) FROM account_hour_keys
                WHERE hour >= ? AND hour < ? GROUP BY account, kind, key
                ON CONFLICT (account, kind, key) DO UPDATE
                SET first_hour = min(first_hour, excluded.first_hour), last_hour = max(last_hour, excluded.last_hour);
                DROP TABLE temp.activity_messages;
                """,
            arguments: range + range + range + range)
    }
}

// MARK: reading activity

/// One account's activity in one hour (`account_hours`).
package struct AccountHour: Sendable, Equatable {
    package var account: String
    package var hour: Int64
    package var messages: Int64
    package var recipients: Int64
    package var delivered: Int64
    package var deferred: Int64
    package var bounced: Int64
    package var bytes: Int64
    package var domains: Int64
    package var clients: Int64
    package var networks: Int64
    package var senders: Int64
    package var largest: Int64

    package var failed: Int64 { deferred + bounced }
}

/// A network or sender address an account used in one hour, with when the account first used it.
package struct AccountHourKey: Sendable, Equatable {
    package enum Kind: String, Sendable { case network = "n", sender = "s" }
    package var account: String
    package var hour: Int64
    package var kind: Kind
    package var key: String
    package var messages: Int64
    package var recipients: Int64
    package var failed: Int64
    package var firstHour: Int64
}

/// Failed logins of one login (or of no known login) from one client address in one hour.
package struct AuthFailureHour: Sendable, Equatable {
    package var login: String?
    package var clientIP: String?
    package var hour: Int64
    package var failures: Int64
}

/// A judged window, as stored in `anomaly_findings`.
package struct AnomalyFindingRecord: Sendable, Equatable {
    package var account: String
    package var windowStart: Int64
    package var windowEnd: Int64
    package var verdict: String
    package var score: Double
    package var reasons: String
    package var messages: Int64
    package var recipients: Int64
    package var failed: Int64
    package var detectedAt: Int64

    package init(
        account: String, windowStart: Int64, windowEnd: Int64, verdict: String, score: Double, reasons: String,
        messages: Int64, recipients: Int64, failed: Int64, detectedAt: Int64
    ) {
        self.account = account
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.verdict = verdict
        self.score = score
        self.reasons = reasons
        self.messages = messages
        self.recipients = recipients
        self.failed = failed
        self.detectedAt = detectedAt
    }
}

extension RelayStore {
    /// Account hours with `from <= hour < to`.
    package func accountHours(from: Int64, to: Int64) throws -> [AccountHour] {
        try read { db in
            let sql = """
                SELECT account, hour, messages, recipients, delivered, deferred, bounced, bytes, domains, clients,
                    networks, senders, largest
                FROM account_hours WHERE hour >= ? AND hour < ? ORDER BY account, hour
                """
            return try Row.fetchAll(db, sql: sql, arguments: [from, to]).map { r in
                AccountHour(
                    account: r[0], hour: r[1], messages: r[2], recipients: r[3], delivered: r[4], deferred: r[5],
                    bounced: r[6], bytes: r[7], domains: r[8], clients: r[9], networks: r[10], senders: r[11],
                    largest: r[12])
            }
        }
    }

    /// The networks and sender addresses of account hours with `from <= hour < to`, with their first use.
    package func accountHourKeys(from: Int64, to: Int64) throws -> [AccountHourKey] {
        try read { db in
            let sql = """
                SELECT h.account, h.hour, h.kind, h.key, h.messages, h.recipients, h.failed, k.first_hour
                FROM account_hour_keys h JOIN account_keys k USING (account, kind, key)
                WHERE h.hour >= ? AND h.hour < ?
                """
            return try Row.fetchAll(db, sql: sql, arguments: [from, to]).compactMap { r in
                guard let kind = AccountHourKey.Kind(rawValue: r[2]) else { return nil }
                return AccountHourKey(
                    account: r[0], hour: r[1], kind: kind, key: r[3], messages: r[4], recipients: r[5],
                    failed: r[6], firstHour: r[7])
            }
        }
    }

    /// Every sender address of every account, with the hour of its first use.
    package func senderFirstHours() throws -> [String: [String: Int64]] {
        try read { db in
            var result: [String: [String: Int64]] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT account, key, first_hour FROM account_keys WHERE kind = 's'")
            while let r = try rows.next() { result[r[0], default: [:]][r[1]] = r[2] }
            return result
        }
    }

    /// The oldest and newest hours with account activity.
    package func activityHours() throws -> ClosedRange<Int64>? {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT min(hour), max(hour) FROM account_hours")
            guard let lo: Int64 = row?[0], let hi: Int64 = row?[1] else { return nil }
            return lo...hi
        }
    }

    /// The end of the newest period `anomalies` judged.
    package func lastJudgedUntil() throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(until) FROM anomaly_runs") }
    }

    /// Stores judged windows (replacing an earlier judgement of the same account and window start) and the period
    /// judged, in one transaction.
    /// Earlier findings that start in the period (of `account`, if given) are judged anew, so they are replaced.
    package func saveFindings(
        _ findings: [AnomalyFindingRecord], period: Range<Int64>, account: String?, at time: Int64
    ) throws {
        try writeAccess { db in
            var sql = "DELETE FROM anomaly_findings WHERE window_start >= ? AND window_start < ?"
            var args: StatementArguments = [period.lowerBound, period.upperBound]
            if let account {
                sql += " AND account = ?"
                args += [account]
            }
            try db.execute(sql: sql, arguments: args)
            try Self.saveFindings(findings, db)
            try db.execute(
                sql: "INSERT INTO anomaly_runs (since, until, at) VALUES (?,?,?)",
                arguments: [period.lowerBound, period.upperBound, time])
        }
    }

    /// Failed logins per login, client address and hour, with `from <= at < to`.
    package func authFailureHours(from: Int64, to: Int64) throws -> [AuthFailureHour] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT login, client_ip, at / 3600 * 3600 AS hour, count(*) FROM auth_failures
                    WHERE at >= ? AND at < ? GROUP BY login, client_ip, hour
                    """,
                arguments: [from, to]
            ).map { r in AuthFailureHour(login: r[0], clientIP: r[1], hour: r[2], failures: r[3]) }
        }
    }

    /// Stores judged windows, replacing an earlier judgement of the same account and window start.
    package func saveFindings(_ findings: [AnomalyFindingRecord]) throws {
        try writeAccess { db in try Self.saveFindings(findings, db) }
    }

    private static func saveFindings(_ findings: [AnomalyFindingRecord], _ db: Database) throws {
        for f in findings {
            try db.execute(
                sql: """
                    INSERT INTO anomaly_findings (account, window_start, window_end, verdict, score, reasons,
                        messages, recipients, failed, detected_at) VALUES (?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT (account, window_start) DO UPDATE SET window_end = excluded.window_end,
                        verdict = excluded.verdict, score = excluded.score, reasons = excluded.reasons,
                        messages = excluded.messages, recipients = excluded.recipients,
                        failed = excluded.failed, detected_at = excluded.detected_at
                    """,
                arguments: [
                    f.account, f.windowStart, f.windowEnd, f.verdict, f.score, f.reasons, f.messages,
                    f.recipients, f.failed, f.detectedAt,
                ])
        }
    }

    /// Stored findings whose window overlaps [from, to), optionally of one verdict, oldest first.
    package func findings(
        from: Int64? = nil, to: Int64? = nil, verdict: String? = nil
    ) throws
        -> [AnomalyFindingRecord]
    {
        try read { db in
            var sql = """
                SELECT account, window_start, window_end, verdict, score, reasons, messages, recipients, failed,
                    detected_at FROM anomaly_findings WHERE 1
                """
            var args: StatementArguments = []
            if let from {
                sql += " AND window_end > ?"
                args += [from]
            }
            if let to {
                sql += " AND window_start < ?"
                args += [to]
            }
            if let verdict {
                sql += " AND verdict = ?"
                args += [verdict]
            }
            sql += " ORDER BY window_start, account"
            return try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                AnomalyFindingRecord(
                    account: r[0], windowStart: r[1], windowEnd: r[2], verdict: r[3], score: r[4], reasons: r[5],
                    messages: r[6], recipients: r[7], failed: r[8], detectedAt: r[9])
            }
        }
    }

    /// Messages of an account received in [from, to), oldest first, at most `limit`, with their recipients (for
    /// the ARF reports of a window).
    package func messages(account: String, from: Int64, to: Int64, limit: Int) throws -> [StoredMessage] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, host, mta, queue_id, message_id, account, client_ip, client_name, sender, size,
                        received_at, recipients, delivered, deferred, bounced
                    FROM messages WHERE received_at >= ? AND received_at < ? AND account = ?
                    ORDER BY received_at, id LIMIT ?
                    """,
                arguments: [from, to, account, limit])
            return try rows.map { r in
                let id: Int64 = r[0]
                let recipients = try Row.fetchAll(
                    db, sql: "SELECT address, outcome FROM recipients WHERE message = ? ORDER BY address",
                    arguments: [id]
                ).map { StoredMessage.Recipient(address: $0[0], outcome: $0[1]) }
                return StoredMessage(
                    rowID: id, host: r[1], mta: r[2], queueID: r[3], messageID: r[4], account: r[5], clientIP: r[6],
                    clientName: r[7], sender: r[8], size: r[9], receivedAt: r[10], recipientCount: r[11],
                    delivered: r[12], deferred: r[13], bounced: r[14], recipients: recipients)
            }
        }
    }
}

/// A stored message with its recipients, as reports about single messages need it.
package struct StoredMessage: Sendable, Equatable {
    package struct Recipient: Sendable, Equatable {
        package var address: String
        package var outcome: String
    }
    package var rowID: Int64
    package var host: String
    package var mta: String
    package var queueID: String
    package var messageID: String?
    package var account: String?
    package var clientIP: String?
    package var clientName: String?
    package var sender: String
    package var size: Int64?
    package var receivedAt: Int64
    package var recipientCount: Int64
    package var delivered: Int64
    package var deferred: Int64
    package var bounced: Int64
    package var recipients: [Recipient]
}
