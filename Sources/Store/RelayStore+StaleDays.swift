import GRDB

/// Day buckets an ingest has not brought up to date yet.
///
/// An ingest gathers the bucket changes of many batches in memory and writes them at its end (or sooner, once
/// `pendingBucketLimit` buckets are waiting): a bucket costs an upsert per write, and a batch of a few thousand
/// messages touches nearly as many recipient-domain buckets as it has messages, while a whole run touches each
/// bucket of its days once (the 1 GB benchmark log: 328 k messages, 40 k domain buckets).
///
/// Until then the days those changes fall in are listed in `aggregate_stale_days`, written in the transaction of the
/// batch that first touched them, and removed in the one that writes the changes. So every committed state of the
/// database is exact: a day not listed has its buckets equal to what its rows give, and reports read a listed day
/// from its rows (`TimePlan`), as they read the partial days at a period's edges. A run that dies before writing its
/// changes leaves its days listed; the next write of the aggregates builds them again from the rows (an ingest does
/// it first thing, `prune` the days it cuts).
extension RelayStore {
    /// Buckets waiting in memory before an ingest writes them: about 200 bytes each.
    static let pendingBucketLimit = 50_000

    /// Registers migration "v5": the list of stale days.
    static func registerStaleDayMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "CREATE TABLE aggregate_stale_days (start INTEGER PRIMARY KEY) WITHOUT ROWID")
        }
    }

    /// Starts of the UTC days whose buckets are stale, ascending (none in a database from before the list).
    static func staleDays(_ db: Database) throws -> [Int64] {
        guard try db.tableExists("aggregate_stale_days") else { return [] }
        return try Int64.fetchAll(db, sql: "SELECT start FROM aggregate_stale_days ORDER BY start")
    }

    /// The stale days (for tests and diagnostics).
    package func staleAggregateDays() throws -> [Int64] {
        try query { db in try Self.staleDays(db) }
    }

    /// Writes the bucket changes an ingest gathered (`WriteBatch.defersAggregates`) and builds every other stale
    /// day again from its rows (those a failed or killed run left), in one transaction. Nothing to do costs a read of
    /// the (empty) list.
    package func writePendingAggregates() throws {
        try withPendingAggregates {
            try transaction { db in
                try BulkWriter(db: db, arena: self.arena).settle(self.pending.deltas.take(), self.pending)
            }
        }
    }

    /// Runs a write transaction that may take the gathered changes: should it fail, they are lost with it, and the
    /// days listed are built again from the rows at the next settling.
    func withPendingAggregates(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            pending.deltas = nil
            pending.lost = true
            throw error
        }
    }
}

/// The bucket changes gathered over an ingest's batches, owned by the writer (used inside write transactions only).
///
/// Between transactions, unless `lost`: every day with changes in `deltas` is in `listed`; every day in `listed` is
/// in the committed `aggregate_stale_days`; and a listed day's buckets equal what its rows give less the changes in
/// `deltas`. Days listed but not in `listed` (or all of them once `lost`) are built from their rows when settled.
final class PendingAggregates {
    var deltas: AggregateDeltas?
    /// Days this store listed as stale for the changes in `deltas`.
    var listed: Set<Int64> = []
    /// A write failed after days were listed: their changes are lost, so every listed day is built again from the
    /// rows at the next settling, whoever listed it.
    var lost = false
}

extension BulkWriter {
    /// Lists as stale the days of `deltas` not listed yet.
    func listStale(_ days: Set<Int64>, in pending: PendingAggregates) throws {
        let new = days.subtracting(pending.listed)
        guard !new.isEmpty else { return }
        let s = try db.cachedStatement(sql: "INSERT OR IGNORE INTO aggregate_stale_days (start) VALUES (?)")
        for day in new {
            try run(s) { bind($0, 1, day) }
            // Listed already, by a run whose changes are lost: the day is built again at the settling.
            if db.changesCount == 0 { pending.lost = true }
        }
        pending.listed.formUnion(new)
    }

    /// Writes the changes of the days before `day` and takes them out of `deltas` and the stale list: logs come in
    /// time order, so a day the log has left is seldom changed again (only by a message open since then), and its
    /// buckets are written on the writer's thread while the next lines are read, instead of all at the run's end.
    func writeDays(before day: Int64, of deltas: inout AggregateDeltas, _ pending: PendingAggregates) throws {
        let done = deltas.days.filter { $0 < day }
        guard !done.isEmpty else { return }
        try applyAggregates(&deltas) { $0 < day }
        deltas.removeDays(before: day)
        let listed = done.intersection(pending.listed)
        guard !listed.isEmpty else { return }
        let s = try db.cachedStatement(sql: "DELETE FROM aggregate_stale_days WHERE start = ?")
        for d in listed { try run(s) { bind($0, 1, d) } }
        pending.listed.subtract(listed)
    }

    /// Writes `deltas` (if any) to the buckets, then builds again from the rows every listed day whose changes are
    /// not in them, and empties the list.
    func settle(_ deltas: AggregateDeltas?, _ pending: PendingAggregates) throws {
        let listed = try RelayStore.staleDays(db)
        let rebuilt = Set(listed.filter { pending.lost || !pending.listed.contains($0) })
        // Changes to a day built again are not applied first: its buckets lack others' changes, so taking a message
        // out could leave one with no message in the rows to take its first and last times from.
        if var deltas {
            try applyAggregates(&deltas) {
                !rebuilt.contains(AggregateDeltas.start(of: $0, span: RelayStore.daySeconds))
            }
        }
        for day in rebuilt.sorted() { try rebuildDay(day) }
        if !listed.isEmpty { try db.execute(sql: "DELETE FROM aggregate_stale_days") }
        pending.listed = []
        pending.lost = false
    }

    /// The buckets of the UTC day starting at `day`, computed again from its rows.
    private func rebuildDay(_ day: Int64) throws {
        let end = day + RelayStore.daySeconds
        // Every span kept is at most a day (`RelayStore.messageSpans`). The span is given so the key is searched.
        for s in RelayStore.messageSpans {
            try db.execute(
                sql: "DELETE FROM message_buckets WHERE span = ? AND start >= ? AND start < ?",
                arguments: [s, day, end])
        }
        for s in RelayStore.recipientDomainSpans {
            try db.execute(
                sql: "DELETE FROM recipient_domain_buckets WHERE span = ? AND start >= ? AND start < ?",
                arguments: [s, day, end])
        }
        try RelayStore.insertBucketsFromRows(db, from: day, to: end)
    }
}
