import Foundation
import GRDB

/// Where an abuse report is in its life: built and waiting (`pending`), delivered (`sent`), refused or unreachable
/// and to be tried again on the next run (`failed`), not to be sent because the account had its reports for the
/// period already (`held`), or given up after failing for longer than `[transport] give_up_after_hours`
/// (`expired`, never tried again).
package enum ARFReportState: String, Sendable, CaseIterable {
    case pending
    case sent
    case failed
    case held
    case expired
}

/// One stored abuse report (`arf_reports`).
package struct ARFReportRecord: Sendable, Equatable {
    package var id: Int64?
    /// What it reports, unique: `reject:<host>:<queue ID>:<time>`, `reject:#<row>`, `finding:<account>:<start>`.
    package var sourceKey: String
    /// `reject` or `compromised`.
    package var kind: String
    package var account: String?
    package var abuseAddress: String
    /// When the reported activity happened (the per-account limit counts by it).
    package var eventAt: Int64
    /// The whole RFC 5965 message, CRLF line ends.
    package var message: [UInt8]
    package var state: ARFReportState
    package var attempts: Int
    package var lastError: String?
    package var createdAt: Int64
    package var sentAt: Int64?

    package init(
        id: Int64? = nil, sourceKey: String, kind: String, account: String?, abuseAddress: String, eventAt: Int64,
        message: [UInt8], state: ARFReportState, attempts: Int = 0, lastError: String? = nil, createdAt: Int64,
        sentAt: Int64? = nil
    ) {
        self.id = id
        self.sourceKey = sourceKey
        self.kind = kind
        self.account = account
        self.abuseAddress = abuseAddress
        self.eventAt = eventAt
        self.message = message
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// A stored report without its bytes: what the per-account limit and listings need.
package struct ARFReportSummary: Sendable, Equatable {
    package var sourceKey: String
    package var kind: String
    package var account: String?
    package var eventAt: Int64
    package var state: ARFReportState
}

/// A rejected attempt that blocked a whole message as spam or by content (after DATA), with its row id.
package struct ContentRejectRow: Sendable, Equatable {
    package var rowID: Int64
    package var record: RejectRecord
}

extension RelayStore {
    static func registerARFMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE arf_reports (
                        id INTEGER PRIMARY KEY,
                        source_key TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        account TEXT,
                        abuse_address TEXT NOT NULL,
                        event_at INTEGER NOT NULL,
                        message BLOB NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT,
                        created_at INTEGER NOT NULL,
                        sent_at INTEGER
                    );
                    CREATE INDEX arf_reports_state ON arf_reports(state);
                    """)
        }
    }

    /// Rejected attempts that refused a whole message for its content: Postfix `milter-reject`/`reject` at DATA or
    /// END-OF-MESSAGE, cleanup header and body checks, a content filter's discard; Exim `rejected after DATA`.
    /// Temporary refusals (4xx) are left out: the client will try again. Oldest first; `since` on the time.
    package func contentRejects(since: Int64? = nil) throws -> [ContentRejectRow] {
        try read { db in
            var sql = """
                SELECT id, host, mta, at, kind, stage, queue_id, client_ip, client_name, login, sender, recipient,
                    code, dsn, reason, helo
                FROM rejects
                WHERE kind IN ('content-reject', 'check-reject', 'discard')
                    AND stage IN ('DATA', 'END-OF-MESSAGE', 'HEADER', 'BODY', 'CONTENT-FILTER')
                    AND (code IS NULL OR code NOT LIKE '4%') AND (dsn IS NULL OR dsn NOT LIKE '4.%')
                    AND reason NOT LIKE 'temporarily rejected%'
                """
            var args: StatementArguments = []
            if let since {
                sql += " AND at >= ?"
                args += [since]
            }
            sql += " ORDER BY at, id"
            return try Row.fetchAll(db, sql: sql, arguments: args).compactMap { r in
                guard let mta = MTA(rawValue: r[2]), let kind = RejectKind(rawValue: r[4]) else { return nil }
                return ContentRejectRow(
                    rowID: r[0],
                    record: RejectRecord(
                        host: r[1], mta: mta, at: r[3], kind: kind, stage: r[5], queueID: r[6], clientIP: r[7],
                        clientName: r[8], login: r[9], sender: r[10], recipient: r[11], code: r[12], dsn: r[13],
                        reason: r[14], helo: r[15]))
            }
        }
    }

    /// The Message-ID, announced recipient count and size of the message a relay logged under `queueID` in the
    /// hour up to `at`, when it was stored (a content filter's discard; some milter rejects).
    package func messageDetails(
        host: String, queueID: String, near at: Int64
    ) throws -> (
        messageID: String?, announcedRecipients: Int?, size: Int64?
    )? {
        try read { db in
            guard
                let r = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT message_id, nrcpt, size FROM messages
                        WHERE received_at BETWEEN ? AND ? AND host = ? AND queue_id = ?
                        ORDER BY received_at DESC LIMIT 1
                        """,
                    arguments: [at - 3600, at, host, queueID])
            else { return nil }
            return (r[0], r[1], r[2])
        }
    }

    /// Every stored report without its bytes (for the per-account limit and to skip what was built already).
    package func arfReportSummaries() throws -> [ARFReportSummary] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT source_key, kind, account, event_at, state FROM arf_reports ORDER BY id")
                .compactMap { r in
                    guard let state = ARFReportState(rawValue: r[4]) else { return nil }
                    return ARFReportSummary(sourceKey: r[0], kind: r[1], account: r[2], eventAt: r[3], state: state)
                }
        }
    }

    /// Stores newly built reports; a source already stored is left as it is. Returns them with their ids.
    @discardableResult
    package func insertARFReports(_ reports: [ARFReportRecord]) throws -> [ARFReportRecord] {
        try writeAccess { db in
            var stored: [ARFReportRecord] = []
            for var r in reports {
                try db.execute(
                    sql: """
                        INSERT INTO arf_reports (source_key, kind, account, abuse_address, event_at, message, state,
                            attempts, last_error, created_at, sent_at)
                        VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (source_key) DO NOTHING
                        """,
                    arguments: [
                        r.sourceKey, r.kind, r.account, r.abuseAddress, r.eventAt, Data(r.message), r.state.rawValue,
                        r.attempts, r.lastError, r.createdAt, r.sentAt,
                    ])
                if db.changesCount > 0 {
                    r.id = db.lastInsertedRowID
                    stored.append(r)
                }
            }
            return stored
        }
    }

    /// Stored reports in these states, oldest first.
    package func arfReports(states: [ARFReportState]) throws -> [ARFReportRecord] {
        try read { db in
            let marks = Array(repeating: "?", count: states.count).joined(separator: ",")
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT id, source_key, kind, account, abuse_address, event_at, message, state, attempts,
                        last_error, created_at, sent_at
                    FROM arf_reports WHERE state IN (\(marks)) ORDER BY id
                    """,
                arguments: StatementArguments(states.map(\.rawValue))
            ).compactMap { r in
                guard let state = ARFReportState(rawValue: r[7]) else { return nil }
                let data: Data = r[6]
                return ARFReportRecord(
                    id: r[0], sourceKey: r[1], kind: r[2], account: r[3], abuseAddress: r[4], eventAt: r[5],
                    message: Array(data), state: state, attempts: r[8], lastError: r[9], createdAt: r[10],
                    sentAt: r[11])
            }
        }
    }

    /// Records one delivery attempt of report `id` in its own transaction, right after it: `sent` at `at`, or
    /// `failed` with the reason (tried again on the next run), or, with `givingUp`, `expired` with the reason (never
    /// tried again).
    package func recordARFDelivery(id: Int64, at: Int64, error: String?, givingUp: Bool = false) throws {
        try writeAccess { db in
            if let error {
                try db.execute(
                    sql: """
                        UPDATE arf_reports SET state = ?, attempts = attempts + 1, last_error = ?
                        WHERE id = ? AND state <> 'sent'
                        """,
                    arguments: [givingUp ? ARFReportState.expired.rawValue : ARFReportState.failed.rawValue, error, id])
            } else {
                try db.execute(
                    sql: """
                        UPDATE arf_reports SET state = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = ?
                        WHERE id = ?
                        """,
                    arguments: [at, id])
            }
        }
    }
}
