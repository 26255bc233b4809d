import GRDB

/// Aggregates kept at ingest, per UTC day, so summaries and licence counts over tens of millions of messages read a
/// few hundred thousand bucket rows instead of every message (Benchmarks/report_bench.py, BENCHMARKS.md). A period
/// reads its whole days from the buckets and the partial days at its edges from the rows (`messages_received_at`),
/// so `--since`/`--until` stay exact to the second.
///
/// - `message_buckets`: per span, start, relay, sender, account and client IP, the totals of accepted messages
///   (relay-generated bounces left out). It answers `summary --by sender|sender-domain|account|client-ip`,
///   `--sender` filters and `license`. An unknown account or client IP is stored as `''` (key columns of a
///   `WITHOUT ROWID` table cannot be NULL).
/// - `recipient_domain_buckets`: per span, start, relay and recipient domain (`''` when none), the messages with at
///   least one recipient there, their recipients by outcome and the messages' bytes (once per message and domain).
/// - `relay_hosts`: every relay name seen, so `--host` can tell a typo from a quiet relay.
///
/// Every bucket costs an ingest a row write, so the spans kept are few: days only. Hour buckets as well cost the
/// 200 MB benchmark ingest another 0.1 s (8 %, when buckets were written at every batch) and save a few tenths of a
/// second per report at 10 million messages a month; the `span` column and `TimePlan` take more spans should that
/// change.
///
/// `BulkWriter` gathers their changes (a rewritten or deleted message row first takes its stored contribution out);
/// a plain write applies them in its own transaction, an ingest's batches let them wait in memory with their days
/// listed as stale (RelayStore+StaleDays.swift).
extension RelayStore {
    package static let hourSeconds: Int64 = 3600
    package static let daySeconds: Int64 = 86_400
    /// The spans each aggregate table keeps, largest first, each a multiple of the next; none longer than a day (the
    /// stale days, RelayStore+StaleDays.swift, are whole days).
    static let messageSpans = [daySeconds]
    static let recipientDomainSpans = [daySeconds]

    /// Registers migration "v2" (the aggregates), filled from the rows already stored.
    static func registerAggregateMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE message_buckets (
                        span INTEGER NOT NULL,
                        start INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        account TEXT NOT NULL,
                        client_ip TEXT NOT NULL,
                        sender_domain TEXT,
                        messages INTEGER NOT NULL,
                        recipients INTEGER NOT NULL,
                        delivered INTEGER NOT NULL,
                        deferred INTEGER NOT NULL,
                        bounced INTEGER NOT NULL,
                        bytes INTEGER NOT NULL,
                        first_seen INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL,
                        PRIMARY KEY (span, start, host, sender, account, client_ip)
                    ) WITHOUT ROWID;
                    CREATE TABLE recipient_domain_buckets (
                        span INTEGER NOT NULL,
                        start INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        messages INTEGER NOT NULL,
                        recipients INTEGER NOT NULL,
                        delivered INTEGER NOT NULL,
                        deferred INTEGER NOT NULL,
                        bounced INTEGER NOT NULL,
                        bytes INTEGER NOT NULL,
                        first_seen INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL,
                        PRIMARY KEY (span, start, host, domain)
                    ) WITHOUT ROWID;
                    CREATE TABLE relay_hosts (host TEXT PRIMARY KEY) WITHOUT ROWID;
                    """)
            for span in messageSpans {
                try db.execute(sql: "INSERT INTO message_buckets " + messageBucketsFromRowsSQL(span))
            }
            for span in recipientDomainSpans {
                try db.execute(sql: "INSERT INTO recipient_domain_buckets " + domainBucketsFromRowsSQL(span))
            }
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO relay_hosts
                    SELECT host FROM messages UNION SELECT host FROM rejects UNION SELECT host FROM auth_failures
                    """)
        }
    }

    /// Inserts the buckets of every span computed from the message rows that arrived in `[from, to)` (`from` nil:
    /// all before `to`), whose buckets the caller deleted; the rows inserted into each table.
    @discardableResult
    static func insertBucketsFromRows(_ db: Database, from: Int64?, to: Int64) throws -> (messages: Int, domains: Int) {
        func rows(_ column: String) -> String {
            from == nil ? "\(column) < ?" : "\(column) >= ? AND \(column) < ?"
        }
        let arguments: StatementArguments = from.map { [$0, to] } ?? [to]
        var inserted = (messages: 0, domains: 0)
        for span in messageSpans {
            try db.execute(
                sql: "INSERT INTO message_buckets " + messageBucketsFromRowsSQL(span, rows: rows("received_at")),
                arguments: arguments)
            inserted.messages += db.changesCount
        }
        for span in recipientDomainSpans {
            try db.execute(
                sql: "INSERT INTO recipient_domain_buckets "
                    + domainBucketsFromRowsSQL(span, rows: rows("m.received_at")),
                arguments: arguments)
            inserted.domains += db.changesCount
        }
        return inserted
    }

    /// The start (epoch seconds) of the `span` a time falls in, as SQL over `column`.
    static func startSQL(_ column: String, span: Int64) -> String {
        "(\(column) - ((\(column) % \(span)) + \(span)) % \(span))"
    }

    /// The message buckets of one span computed from the stored rows (those matching `rows`, over `messages`), in
    /// table column order.
    static func messageBucketsFromRowsSQL(_ span: Int64, rows: String = "1") -> String {
        """
        SELECT \(span), \(startSQL("received_at", span: span)) AS start, host, sender, coalesce(account, '') AS acct,
            coalesce(client_ip, '') AS ip, sender_domain, count(*), sum(recipients), sum(delivered), sum(deferred),
            sum(bounced), sum(coalesce(size, 0)), min(received_at), max(received_at)
        FROM messages WHERE origin != 'generated' AND (\(rows)) GROUP BY start, host, sender, acct, ip
        """
    }

    /// The recipient-domain buckets of one span computed from the stored rows (those matching `rows`, over
    /// `messages m`), in table column order.
    static func domainBucketsFromRowsSQL(_ span: Int64, rows: String = "1") -> String {
        """
        SELECT \(span), start, host, domain, count(*), sum(n), sum(d), sum(df), sum(b), sum(size), min(t), max(t) FROM (
            SELECT \(startSQL("m.received_at", span: span)) AS start, m.host AS host, coalesce(r.domain, '') AS domain,
                count(*) AS n, sum(r.outcome = 'delivered') AS d, sum(r.outcome = 'deferred') AS df,
                sum(r.outcome = 'bounced') AS b, coalesce(m.size, 0) AS size, m.received_at AS t
            FROM messages m JOIN recipients r ON r.message = m.id
            WHERE m.origin != 'generated' AND (\(rows)) GROUP BY m.id, coalesce(r.domain, ''))
        GROUP BY start, host, domain
        """
    }

    /// Whether the database has the aggregates (a database last written by a version before them, opened read-only,
    /// does not: reports then read the rows).
    func hasAggregates(_ db: Database) throws -> Bool {
        try db.tableExists("message_buckets") && db.tableExists("recipient_domain_buckets")
    }

    /// Bucket rows that differ from the same buckets computed afresh from the stored rows (both directions); empty
    /// when the aggregates are exact. For tests and `Benchmarks/`.
    package func aggregateMismatches() throws -> [String] {
        try query { db in
            var out: [String] = []
            let tables =
                Self.messageSpans.map { ("message_buckets", $0, Self.messageBucketsFromRowsSQL($0)) }
                + Self.recipientDomainSpans.map { ("recipient_domain_buckets", $0, Self.domainBucketsFromRowsSQL($0)) }
            for (table, span, fresh) in tables {
                let stored = "SELECT * FROM \(table) WHERE span = \(span)"
                for (label, sql) in [
                    ("stored only", "\(stored) EXCEPT \(fresh)"), ("missing", "\(fresh) EXCEPT \(stored)"),
                ] {
                    for row in try Row.fetchAll(db, sql: sql + " LIMIT 20") {
                        out.append("\(table) \(label): \(row.databaseValues.map(\.description).joined(separator: "|"))")
                    }
                }
            }
            return out
        }
    }

    /// Runs a report's reads; a database failure becomes a `StoreError` (no SQL arguments in it).
    func query<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try read(body)
        } catch let error as DatabaseError {
            throw StoreError("cannot read \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// The relay names seen in the database, sorted.
    package func knownHosts() throws -> [String] {
        try query { db in
            if try db.tableExists("relay_hosts") {
                return try String.fetchAll(db, sql: "SELECT host FROM relay_hosts ORDER BY host")
            }
            return try String.fetchAll(
                db,
                sql: """
                    SELECT host FROM messages UNION SELECT host FROM rejects UNION SELECT host FROM auth_failures
                    ORDER BY 1
                    """)
        }
    }
}
