import Foundation
import Store
import Testing

/// Bucket changes an ingest gathers over its batches (`WriteBatch.defersAggregates`): the days they fall in are
/// listed as stale until they are written, reports read those days from the rows meanwhile, and a run that dies
/// with changes in memory leaves its days to be built again from the rows.
@Suite struct StaleDayTests {
    static let day: Int64 = 86_400
    /// Midnight of the first day (AggregateMaintenanceTests' messages arrive at `t0 + offset`, 10:00 that day).
    static let midnight = AggregateMaintenanceTests.t0 - 10 * 3600

    /// Four messages on each of four days, to two senders and two recipient domains.
    static func batches() -> [WriteBatch] {
        (0..<4).map { d in
            var batch = WriteBatch()
            batch.defersAggregates = true
            batch.messages = (0..<4).map { k in
                let id = Int64(d * 4 + k + 1)
                let m = AggregateMaintenanceTests.message(
                    id, at: Int64(d) * day + Int64(k) * 600, sender: k % 2 == 0 ? "a@shop.example" : "b@shop.example",
                    recipients: [("r\(k)@dest\(k % 2).example", k == 3 ? .bounced : .delivered)])
                return MessageWrite(record: m, replaces: false)
            }
            return batch
        }
    }

    /// Every grouping, the licence uses and the day totals read through the buckets equal those read from the rows.
    static func expectReportsFromRows(_ store: RelayStore, _ note: Comment) throws {
        let windows: [(Int64?, Int64?)] = [
            (nil, nil), (midnight + 3600, midnight + 3 * day + 60), (midnight + day, nil),
        ]
        for (since, until) in windows {
            let filter = MessageFilter(since: since, until: until)
            for g in SummaryGrouping.allCases {
                let fast = try store.summary(SummaryRequest(grouping: g, filter: filter, sort: .key))
                let slow = try store.summary(SummaryRequest(grouping: g, filter: filter, sort: .key, source: .rows))
                #expect(fast == slow, "\(note): \(g), \(String(describing: since))..<\(String(describing: until))")
            }
            #expect(try store.licenseUses(filter: filter) == store.licenseUses(filter: filter, source: .rows), note)
        }
        let days = try store.dailyTraffic(from: midnight - day, to: midnight + 5 * day)
        let starts: [Int64] = [midnight, midnight + day, midnight + 2 * day, midnight + 3 * day]
        // Message n has 1000 n bytes: day d holds messages 4d + 1 … 4d + 4.
        let bytes: [Int64] = [10_000, 26_000, 42_000, 58_000]
        #expect(days.map(\.start) == starts, note)
        #expect(days.map(\.messages) == [4, 4, 4, 4], note)
        #expect(days.map(\.bounced) == [1, 1, 1, 1], note)
        #expect(days.map(\.bytes) == bytes, note)
    }

    @Test func gatheredChangesKeepTheirDaysListedAndReportsExact() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        for b in Self.batches() { try store.write(b) }
        // The days before the newest two are written as the batches go; the last two wait, listed.
        #expect(try store.staleAggregateDays() == [Self.midnight + 2 * Self.day, Self.midnight + 3 * Self.day])
        #expect(try !store.aggregateMismatches().isEmpty, "the buckets of the listed days lag their rows")
        try Self.expectReportsFromRows(store, "with changes waiting")
        try store.writePendingAggregates()
        #expect(try store.staleAggregateDays() == [])
        #expect(try store.aggregateMismatches() == [])
        try Self.expectReportsFromRows(store, "written")
    }

    @Test func aRunThatDiesLeavesItsDaysToBeBuiltAgain() throws {
        let db = try ScratchDatabase()
        do {
            let dying = try RelayStore(path: db.path)
            for b in Self.batches() { try dying.write(b) }
            // Gone without writing what it gathered, as a killed ingest.
        }
        let store = try RelayStore(path: db.path)
        #expect(try store.staleAggregateDays().count == 2)
        #expect(try !store.aggregateMismatches().isEmpty)
        try Self.expectReportsFromRows(store, "after the crash")
        // A read-only opening (a report run meanwhile) reads the same.
        try Self.expectReportsFromRows(try RelayStore(path: db.path, readOnly: true), "read-only, after the crash")
        try store.writePendingAggregates()
        #expect(try store.staleAggregateDays() == [])
        #expect(try store.aggregateMismatches() == [])
        try Self.expectReportsFromRows(store, "built again")
    }

    @Test func aFailedWriteLosesItsChangesButNotTheirDays() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        var batches = Self.batches()
        for b in batches.prefix(3) { try store.write(b) }
        // A message without a row id fails the write, after its good messages were added to the changes.
        var bad = batches[3]
        bad.messages[2].record.rowID = nil
        #expect(throws: (any Error).self) { try store.write(bad) }
        // The same store goes on: its next deferred write gathers afresh, and writing them builds the days whose
        // changes were lost.
        batches[3].messages.removeLast()
        try store.write(batches[3])
        try store.writePendingAggregates()
        #expect(try store.staleAggregateDays() == [])
        #expect(try store.aggregateMismatches() == [])
    }

    @Test func pruneBuildsTheStaleDaysFirst() throws {
        let db = try ScratchDatabase()
        do {
            let dying = try RelayStore(path: db.path)
            for b in Self.batches() { try dying.write(b) }
        }
        let store = try RelayStore(path: db.path)
        // A dry run writes nothing.
        let counted = try store.prune(olderThan: Self.midnight + 3 * Self.day, dryRun: true)
        #expect(try store.staleAggregateDays().count == 2)
        let pruned = try store.prune(olderThan: Self.midnight + 3 * Self.day)
        #expect(pruned.messages == 12 && counted.messages == 12)
        #expect(try store.staleAggregateDays() == [])
        #expect(try store.aggregateMismatches() == [])
        let rows = try store.summary(SummaryRequest(grouping: .sender, sort: .key)).map(\.row.messages)
        #expect(rows == [2, 2])
    }
}
