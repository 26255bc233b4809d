import Foundation
import GRDB
import Store
import Testing

/// The stale-day bookkeeping (RelayStore+StaleDays.swift) against the states an independent review found in which
/// a day not listed in `aggregate_stale_days` had buckets that differ from its rows (at 3692721, before their fixes).
@Suite struct StaleDayReviewTests {
    /// The mismatches of the buckets of days not listed as stale (each mismatch line holds `span|start|…`).
    static func unlistedMismatches(_ store: RelayStore) throws -> [String] {
        let stale = Set(try store.staleAggregateDays())
        return try store.aggregateMismatches().filter { line in
            let fields = line.split(separator: ": ", maxSplits: 1).last.map { $0.split(separator: "|") } ?? []
            guard fields.count > 1, let start = Int64(fields[1]) else { return true }
            return !stale.contains(start)
        }
    }

    /// The final `writePendingAggregates()` of an ingest fails (a full disk, a busy database) after it took the
    /// gathered changes; `Ingestor.run`'s `catch` calls it again. The retry must not drop the days whose changes
    /// were lost from the list without building them again.
    @Test func aFailedSettleThenARetryLeavesNoUnlistedDayStale() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        for b in StaleDayTests.batches() { try store.write(b) }
        #expect(try store.staleAggregateDays().count == 2)
        // Another connection makes the settling fail once, after it applied (in memory: took) the changes.
        let other = try DatabaseQueue(path: db.path)
        try other.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER review_fail BEFORE DELETE ON aggregate_stale_days
                    BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                    """)
        }
        #expect(throws: (any Error).self) { try store.writePendingAggregates() }
        try other.write { db in try db.execute(sql: "DROP TRIGGER review_fail") }
        try other.close()
        // The retry (Ingestor.run's catch does it).
        try store.writePendingAggregates()
        let listed = try store.staleAggregateDays()
        #expect(try Self.unlistedMismatches(store) == [], "listed: \(listed)")
        try StaleDayTests.expectReportsFromRows(store, "after a failed settle and its retry")
    }

    /// A store whose deferred batches touch a day a dead store left listed (its changes lost) takes that day for
    /// one of its own (`listStale`'s INSERT OR IGNORE changes nothing, yet the day joins `pending.listed`), so the
    /// settling writes its changes over the stale buckets instead of building the day again. `Ingestor.run` settles
    /// first, so only a writer that skips that settling meets this.
    @Test func deferredWritesOverADeadStoresListedDayBuildItAgain() throws {
        let db = try ScratchDatabase()
        let batches = StaleDayTests.batches()
        do {
            let dying = try RelayStore(path: db.path)
            for b in batches { try dying.write(b) }
        }
        let store = try RelayStore(path: db.path)
        // One more message on the last day (listed by the dead store), deferred, then settled.
        var more = WriteBatch()
        more.defersAggregates = true
        let m = AggregateMaintenanceTests.message(
            99, at: 3 * StaleDayTests.day + 3000, sender: "c@shop.example",
            recipients: [("z@dest9.example", .delivered)])
        more.messages = [MessageWrite(record: m, replaces: false)]
        try store.write(more)
        try store.writePendingAggregates()
        #expect(try store.staleAggregateDays() == [])
        #expect(try Self.unlistedMismatches(store) == [])
    }

    /// `prune` on a store that holds gathered changes of days before its cut: the settling writes them into days
    /// prune emptied and took off the list.
    @Test func pruneOnAStoreWithGatheredChanges() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        for b in StaleDayTests.batches() { try store.write(b) }
        _ = try store.prune(olderThan: StaleDayTests.midnight + 3 * StaleDayTests.day)
        try store.writePendingAggregates()
        #expect(try Self.unlistedMismatches(store) == [])
    }

    /// Random deferred batches of new messages, rewrites (in time, across days, to another sender or origin) and
    /// deletions over ten days (mostly the newest few) of few distinct times (so edges meet), with now and then a
    /// plain write, a write that fails, a settling, or a store that dies and a new one that settles first (as
    /// `Ingestor.run` does): every write but the failing ones succeeds, and after each, every unlisted day's buckets
    /// equal its rows and the reports through the aggregates equal those from the rows. (At 3692721 seed 13 fails
    /// at the write after a failed one: see `theWriteAfterAFailedOneAppliesItsChangesToStaleBuckets`.)
    @Test(arguments: Array(1...16) as [UInt64])
    func randomDeferredWritesKeepUnlistedDaysExact(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let db = try ScratchDatabase()
        var store = try RelayStore(path: db.path)
        var live: [Int64: MessageRecord] = [:]
        var nextID: Int64 = 1
        let senders = ["a@shop.example", "b@shop.example", "c@other.example"]
        let domains = ["one.example", "two.example", "three.example"]
        var newestDay: Int64 = 0
        func randomMessage(_ id: Int64) -> MessageRecord {
            // Mostly the log's last days (as time goes on), now and then an older one.
            let day =
                Int.random(in: 0..<4, using: &rng) == 0
                ? Int64.random(in: 0...newestDay, using: &rng)
                : max(0, newestDay - Int64.random(in: 0..<3, using: &rng))
            let offset = day * StaleDayTests.day + Int64.random(in: 0..<4, using: &rng) * 100
            let recipients: [(String, RecipientOutcome)] = (0..<Int.random(in: 1...3, using: &rng)).map { k in
                (
                    "r\(k)@\(domains.randomElement(using: &rng)!)",
                    [RecipientOutcome.delivered, .deferred, .bounced].randomElement(using: &rng)!
                )
            }
            return AggregateMaintenanceTests.message(
                id, at: offset, sender: senders.randomElement(using: &rng)!,
                origin: Int.random(in: 0..<10, using: &rng) == 0 ? .generated : .smtp, recipients: recipients)
        }
        for step in 0..<60 {
            newestDay = Int64(step / 6)
            var batch = WriteBatch()
            batch.defersAggregates = Int.random(in: 0..<8, using: &rng) != 0
            var touched: Set<Int64> = []
            let before = live
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let op = Int.random(in: 0..<10, using: &rng)
                if op < 4 || live.isEmpty {
                    let m = randomMessage(nextID)
                    nextID += 1
                    batch.messages.append(MessageWrite(record: m, replaces: false))
                    live[m.rowID!] = m
                    touched.insert(m.rowID!)
                } else if let id = live.keys.sorted().randomElement(using: &rng), !touched.contains(id) {
                    touched.insert(id)
                    if op < 8 {
                        let m = randomMessage(id)
                        batch.messages.append(MessageWrite(record: m, replaces: true))
                        live[id] = m
                    } else {
                        batch.deletedMessageRowIDs.append(id)
                        live[id] = nil
                    }
                }
            }
            let note: Comment = "seed \(seed), step \(step)"
            if Int.random(in: 0..<12, using: &rng) == 0 {
                // A write that fails after its good messages were gathered (rolled back, as a full disk's).
                var bad = AggregateMaintenanceTests.message(nextID + 1000, at: newestDay * StaleDayTests.day)
                bad.rowID = nil
                batch.messages.append(MessageWrite(record: bad, replaces: false))
                #expect(throws: (any Error).self, note) { try store.write(batch) }
                live = before
            } else {
                try store.write(batch)
            }
            #expect(try Self.unlistedMismatches(store) == [], note)
            for g in [SummaryGrouping.sender, .recipientDomain] {
                let fast = try store.summary(SummaryRequest(grouping: g, sort: .key))
                let slow = try store.summary(SummaryRequest(grouping: g, sort: .key, source: .rows))
                #expect(fast == slow, note)
            }
            #expect(
                try store.licenseUses(filter: MessageFilter())
                    == store.licenseUses(filter: MessageFilter(), source: .rows), note)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: try store.writePendingAggregates()
            case 1:
                store = try RelayStore(path: db.path)
                try store.writePendingAggregates()
            default: break
            }
        }
        try store.writePendingAggregates()
        #expect(try store.staleAggregateDays() == [])
        #expect(try store.aggregateMismatches() == [])
    }

    /// After a failed write (`pending.lost`), the next write settles: `settle` applies its changes to the buckets
    /// first, those of the listed days included, whose buckets lack the lost changes, and only then builds those days
    /// again from the rows. A removal at a bucket's edge there recomputes first/last from rows that no longer hold
    /// the bucket's (stale) messages: NULL, and the write fails on `first_seen NOT NULL`, as does every later one
    /// that meets such a bucket. (The CLI's pipeline stops at the first failed write, so only a store that goes on,
    /// as `aFailedWriteLosesItsChangesButNotTheirDays` does, meets it.)
    @Test func theWriteAfterAFailedOneAppliesItsChangesToStaleBuckets() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        typealias M = AggregateMaintenanceTests
        // Two messages of one bucket, written and settled.
        try M.write(store, [(M.message(1, at: 100), false), (M.message(2, at: 200), false)])
        // Deferred: the first is deleted (a merged copy); its day is listed, the change waits.
        var deletion = WriteBatch()
        deletion.defersAggregates = true
        deletion.deletedMessageRowIDs = [1]
        try store.write(deletion)
        // A write fails: the waiting change is lost, the bucket still counts two messages.
        var bad = WriteBatch()
        bad.defersAggregates = true
        var m = M.message(3, at: 300)
        m.rowID = nil
        bad.messages = [MessageWrite(record: m, replaces: false)]
        #expect(throws: (any Error).self) { try store.write(bad) }
        // The second message moves to the next day: its bucket keeps one (stale) message, with none in the rows.
        var move = WriteBatch()
        move.defersAggregates = true
        move.messages = [MessageWrite(record: M.message(2, at: 86_400 + 200), replaces: true)]
        #expect(throws: Never.self) { try store.write(move) }
        try store.writePendingAggregates()
        #expect(try store.aggregateMismatches() == [])
    }
}
