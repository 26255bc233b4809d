import Foundation
import GRDB

/// What `prune` took out (or, in a dry run, would take out).
package struct PruneResult: Sendable, Equatable {
    /// Everything before this instant (the start of a UTC day) went.
    package var cut: Int64
    package var messages = 0
    package var recipients = 0
    package var rejects = 0
    package var authFailures = 0
    package var messageBuckets = 0
    package var recipientDomainBuckets = 0
    package var accountHours = 0
    package var accountHourKeys = 0
    package var findings = 0
    package var anomalyRuns = 0
    package var abuseReports = 0
    /// Messages older than the cut kept because their delivery is still open (a later ingest rewrites them).
    package var keptOpenMessages = 0

    package init(cut: Int64) {
        self.cut = cut
    }

    /// Rows deleted in all.
    package var total: Int {
        messages + recipients + rejects + authFailures + messageBuckets + recipientDomainBuckets + accountHours
            + accountHourKeys + findings + anomalyRuns + abuseReports
    }
}

/// Retention: deleting whatever is older than a cut, consistently, in one transaction.
///
/// The cut is made whole UTC days (rounded down), because the aggregates are kept per UTC day
/// (`RelayStore+Aggregates.swift`): a day bucket goes whole or stays whole, and the aggregates stay equal to a
/// GROUP BY over the rows that remain. Account activity goes by whole hours, and so do findings and judged periods
/// that ended by the cut (the newest judged period stays, so `anomalies` without `--since` goes on from it), and
/// the records of abuse reports whose rejects or findings went.
///
/// Two things are never pruned, so a later ingest neither re-reads a line nor counts one twice:
/// - `source_files`, the checkpoints of the log files read;
/// - `open_states` and the message rows they hold: a message still waiting for a delivery keeps its row id in its
///   saved state, and the ingest that sees its end rewrites that row and takes the stored row's contribution out
///   of the aggregates first. Such a row older than the cut stays, and so do the aggregates of its day (rebuilt
///   from the rows that stay), so the rewrite finds what it expects.
extension RelayStore {
    /// The start of the UTC day `time` falls in: the cut `prune` uses for `time`.
    package static func pruneCut(_ time: Int64) -> Int64 {
        time - ((time % daySeconds) + daySeconds) % daySeconds
    }

    /// Deletes messages (with their recipients), rejected attempts, failed logins, day aggregates, account hours,
    /// findings and judged periods older than `pruneCut(time)`, in one transaction; with `dryRun`, only counts them.
    package func prune(olderThan time: Int64, dryRun: Bool = false) throws -> PruneResult {
        let cut = Self.pruneCut(time)
        /// Thrown to roll a dry run back with its counts.
        struct DryRun: Error { var result: PruneResult }
        // Changes gathered by an ingest on this store, and days a dead run left stale, are written first, so the
        // day buckets prune keeps or builds again are exact (RelayStore+StaleDays.swift).
        if !dryRun { try writePendingAggregates() }
        do {
            return try writeAccess { db -> PruneResult in
                let result = try Self.prune(db, cut: cut)
                if dryRun { throw DryRun(result: result) }
                return result
            }
        } catch let rollback as DryRun {
            return rollback.result
        } catch let error as DatabaseError {
            throw StoreError("cannot prune \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    private static func prune(_ db: Database, cut: Int64) throws -> PruneResult {
        var result = PruneResult(cut: cut)
        func delete(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
        // Row ids the correlators' saved open messages hold (every snapshot starts with its message record).
        try db.execute(sql: "CREATE TEMP TABLE prune_keep (id INTEGER PRIMARY KEY)")
        defer { try? db.execute(sql: "DROP TABLE temp.prune_keep") }
        let bodies = try Data.fetchAll(db, sql: "SELECT body FROM open_states")
        for body in bodies {
            var reader = SnapshotReader(body)
            let record: MessageRecord
            do {
                record = try reader.readMessage()
            } catch {
                throw StoreError("cannot prune: a saved open message is unreadable (the database may be damaged)")
            }
            if let id = record.rowID {
                try db.execute(sql: "INSERT OR IGNORE INTO temp.prune_keep (id) VALUES (?)", arguments: [id])
            }
        }
        let old = "received_at < ? AND id NOT IN (SELECT id FROM temp.prune_keep)"
        result.recipients = try delete(
            "DELETE FROM recipients WHERE message IN (SELECT id FROM messages WHERE \(old))", [cut])
        result.messages = try delete("DELETE FROM messages WHERE \(old)", [cut])
        result.keptOpenMessages =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE received_at < ?", arguments: [cut]) ?? 0
        result.rejects = try delete("DELETE FROM rejects WHERE at < ?", [cut])
        result.authFailures = try delete("DELETE FROM auth_failures WHERE at < ?", [cut])

        // Whole days of aggregates; the days of kept open messages are built again from the rows that stay.
        result.messageBuckets = try delete("DELETE FROM message_buckets WHERE start < ?", [cut])
        result.recipientDomainBuckets = try delete("DELETE FROM recipient_domain_buckets WHERE start < ?", [cut])
        if result.keptOpenMessages > 0 {
            let rebuilt = try insertBucketsFromRows(db, from: nil, to: cut)
            result.messageBuckets -= rebuilt.messages
            result.recipientDomainBuckets -= rebuilt.domains
        }

        // Hourly activity; account_keys keeps each key's first and last hour (a network used before the cut is
        // still not new). The activity of a kept open message is not rebuilt: hours before the cut have none (when
        // a later ingest rewrites it, its hour is rebuilt from the rows that stay, and goes at the next prune).
        result.accountHours = try delete("DELETE FROM account_hours WHERE hour < ?", [cut])
        result.accountHourKeys = try delete("DELETE FROM account_hour_keys WHERE hour < ?", [cut])
        try db.execute(sql: "DELETE FROM activity_dirty_hours WHERE hour < ?", arguments: [cut])

        result.findings = try delete("DELETE FROM anomaly_findings WHERE window_end <= ?", [cut])
        result.anomalyRuns = try delete(
            """
            DELETE FROM anomaly_runs WHERE until <= ?
                AND id <> (SELECT id FROM anomaly_runs ORDER BY until DESC, id DESC LIMIT 1)
            """, [cut])
        // Abuse reports whose source went: a reject report's (its rejects are all before the cut; a report keyed
        // by a reject's row id must go with the row, or a new reject given that id would count as reported), and
        // a compromised window's once its finding went. Reports of findings that stay are kept, so none is sent
        // twice.
        if try db.tableExists("arf_reports") {
            result.abuseReports = try delete(
                """
                DELETE FROM arf_reports WHERE (kind = 'reject' AND event_at < ?)
                    OR (kind = 'compromised' AND event_at < ? AND NOT EXISTS (
                        SELECT 1 FROM anomaly_findings f
                        WHERE arf_reports.source_key = 'finding:' || f.account || ':' || f.window_start))
                """, [cut, cut])
        }
        return result
    }

    /// Gives the space of deleted rows back to the file system: VACUUM, then a WAL checkpoint that truncates the
    /// log. Returns the bytes of the database and its WAL before and after.
    ///
    /// VACUUM rather than `incremental_vacuum`: the database is made with SQLite's default `auto_vacuum = NONE`,
    /// and switching it to INCREMENTAL takes a VACUUM anyway; `prune` runs rarely, and VACUUM also defragments
    /// what stays, which the month-range scans of the reports like. It needs free space for a copy of what stays
    /// and holds the write lock while it runs.
    package func reclaimSpace() throws -> (before: Int64, after: Int64) {
        let before = fileBytes()
        do {
            try writeOutsideTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } catch let error as DatabaseError {
            throw StoreError("cannot vacuum \(path): \(error.message ?? "\(error.resultCode)")")
        }
        return (before, fileBytes())
    }

    /// Bytes of the database file and its WAL on disk.
    package func fileBytes() -> Int64 {
        [path, path + "-wal"].reduce(0) { sum, p in
            let size = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.int64Value ?? 0
            return sum + size
        }
    }
}
