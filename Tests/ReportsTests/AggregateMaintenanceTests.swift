import Foundation
import Store
import Testing

/// The aggregates through the store's own write path, one case at a time: rewrites that move a message in time,
/// to another key or out of the counted origins, deletions of merged copies, and repeated recipient addresses.
@Suite struct AggregateMaintenanceTests {
    static let t0 = utc("2026-11-09T10:00:00Z")

    static func message(
        _ id: Int64, at offset: Int64, sender: String = "a@shop.example", account: String? = "sasl:a@shop.example",
        origin: MessageOrigin = .smtp, recipients: [(String, RecipientOutcome)] = [("r@dest.example", .delivered)]
    ) -> MessageRecord {
        MessageRecord(
            rowID: id, host: "relay1", mta: .postfix, queueID: "Q\(id)", origin: origin, account: account,
            clientIP: "192.0.2.1", sender: sender, size: 1000 * id, receivedAt: t0 + offset,
            recipients: recipients.map { RecipientRecord(address: $0.0, outcome: $0.1) })
    }

    static func write(_ store: RelayStore, _ writes: [(MessageRecord, Bool)], deleting: [Int64] = []) throws {
        var batch = WriteBatch()
        batch.messages = writes.map { MessageWrite(record: $0.0, replaces: $0.1) }
        batch.deletedMessageRowIDs = deleting
        try store.write(batch)
    }

    /// `key,messages,bytes,first_seen,last_seen` per sender, through the aggregates (and rows for partial days).
    static func senders(_ store: RelayStore) throws -> [String] {
        try store.summary(
            SummaryRequest(
                grouping: .sender, filter: MessageFilter(since: t0 - 86_400, until: t0 + 2 * 86_400), sort: .key)
        ).map {
            "\($0.row.key ?? "-") \($0.row.messages) \($0.row.bytes) \($0.row.firstSeen - t0) \($0.row.lastSeen - t0)"
        }
    }

    @Test func rewritesAndDeletionsKeepEveryBucketExact() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        func check(_ expected: [String], _ note: Comment) throws {
            #expect(try store.aggregateMismatches() == [], note)
            #expect(try Self.senders(store) == expected, note)
        }
        try Self.write(store, [(Self.message(1, at: 100), false), (Self.message(2, at: 200), false)])
        try check(["a@shop.example 2 3000 100 200"], "two messages, one bucket")
        // The first message of the bucket is deleted (a merged copy): its first time goes with it.
        try Self.write(store, [], deleting: [1])
        try check(["a@shop.example 1 2000 200 200"], "first time taken out")
        // Rewritten later the same day, then into the next day, then to another sender.
        try Self.write(store, [(Self.message(2, at: 300), true)])
        try check(["a@shop.example 1 2000 300 300"], "moved in time")
        try Self.write(store, [(Self.message(3, at: 50), false), (Self.message(2, at: 90_100), true)])
        try check(["a@shop.example 2 5000 50 90100"], "moved to the next day")
        try Self.write(store, [(Self.message(3, at: 50, sender: "b@shop.example"), true)])
        try check(["a@shop.example 1 2000 90100 90100", "b@shop.example 1 3000 50 50"], "moved to another sender")
        // Rewritten twice in one batch, the last time as a relay-generated bounce (not counted).
        try Self.write(
            store,
            [
                (Self.message(3, at: 60, sender: "b@shop.example"), true),
                (Self.message(3, at: 60, origin: .generated), true),
            ]
        )
        try check(["a@shop.example 1 2000 90100 90100"], "became a generated bounce")
        // A last time that stays at an edge while another message of the same time leaves.
        try Self.write(store, [(Self.message(4, at: 90_100), false), (Self.message(5, at: 90_300), false)])
        try Self.write(store, [(Self.message(5, at: 90_100), true)], deleting: [4])
        try check(["a@shop.example 2 7000 90100 90100"], "an edge time left and came back")
    }

    @Test func recipientDomainsFollowTheStoredRecipients() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        let repeated: [(String, RecipientOutcome)] = [
            ("x@one.example", .deferred), ("y@two.example", .delivered), ("x@one.example", .delivered),
            ("local", .bounced),
        ]
        try Self.write(store, [(Self.message(1, at: 10, recipients: repeated), false)])
        #expect(try store.aggregateMismatches() == [])
        try Self.write(store, [(Self.message(1, at: 10, recipients: [("y@two.example", .bounced)]), true)])
        #expect(try store.aggregateMismatches() == [])
        let rows = try store.summary(SummaryRequest(grouping: .recipientDomain, sort: .key)).map(\.row)
        #expect(rows.map(\.key) == ["two.example"])
        #expect(rows.first?.bounced == 1)
    }
}
