import Foundation
import GRDBSQLite
import Store
import Testing

@Suite struct RelayStoreTests {
    static func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-store-\(UUID().uuidString).sqlite").path
    }

    static func message(
        _ id: Int64, sender: String, outcomes: [RecipientOutcome], at: Int64 = 1_794_182_400
    )
        -> MessageRecord
    {
        MessageRecord(
            rowID: id, host: "relay1", mta: .postfix, queueID: "Q\(id)", origin: .smtp, account: "sasl:u\(id % 3)",
            clientIP: "192.0.2.\(id % 250)", sender: sender, size: 1000 + id, announcedRecipients: outcomes.count,
            receivedAt: at + id,
            recipients: outcomes.enumerated().map {
                RecipientRecord(address: "r\($0.offset)@dest.example", outcome: $0.element)
            })
    }

    @Test func createsTheDatabaseOwnerOnlyAndMigratesOnce() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RelayStore(path: path)
        _ = try RelayStore(path: path)  // a second open migrates nothing and fails nothing
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try RelayStore(path: path).nextMessageRowID() == 1)
    }

    @Test func rewritingAnOpenMessageReplacesItsRecipients() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var batch = WriteBatch()
        batch.messages = [
            MessageWrite(
                record: Self.message(1, sender: "a@x.example", outcomes: [.deferred, .pending]), replaces: false),
            MessageWrite(record: Self.message(2, sender: "", outcomes: [.delivered]), replaces: false),
        ]
        try store.write(batch)
        var later = WriteBatch()
        later.messages = [
            MessageWrite(
                record: Self.message(1, sender: "a@x.example", outcomes: [.delivered, .bounced]), replaces: true)
        ]
        try store.write(later)
        let rows = try store.summary(by: .sender, filter: MessageFilter(), top: nil)
        #expect(
            rows == [
                SummaryRow(
                    key: "<>", messages: 1, recipients: 1, delivered: 1, deferred: 0, bounced: 0, bytes: 1002,
                    firstSeen: 1_794_182_402, lastSeen: 1_794_182_402),
                SummaryRow(
                    key: "a@x.example", messages: 1, recipients: 2, delivered: 1, deferred: 0, bounced: 1, bytes: 1001,
                    firstSeen: 1_794_182_401, lastSeen: 1_794_182_401),
            ])
        #expect(try store.nextMessageRowID() == 3)
        var deletion = WriteBatch()
        deletion.deletedMessageRowIDs = [2]
        try store.write(deletion)
        #expect(try store.summary(by: .sender, filter: MessageFilter(), top: nil).map(\.key) == ["a@x.example"])
    }

    /// A rewrite writes only the recipient rows that changed: the rows and aggregates must equal a single write of
    /// the final record (unchanged, changed, new, dropped and repeated addresses).
    @Test func aRewriteLeavesTheSameRowsAsOneWriteOfTheFinalRecord() throws {
        func recipient(_ address: String, _ outcome: RecipientOutcome, attempts: Int = 0) -> RecipientRecord {
            RecipientRecord(
                address: address, outcome: outcome, dsn: attempts > 0 ? "4.4.1" : nil, relay: nil,
                reply: attempts > 0 ? "connect timed out \(attempts)" : nil,
                lastAttemptAt: attempts > 0 ? 1_794_182_500 + Int64(attempts) : nil, attempts: attempts)
        }
        var first = Self.message(1, sender: "a@x.example", outcomes: [])
        first.recipients = [
            recipient("same@one.example", .deferred, attempts: 1),
            recipient("changes@one.example", .pending),
            recipient("dropped@two.example", .deferred, attempts: 1),
            recipient("twice@three.example", .pending),
        ]
        var last = first
        last.recipients = [
            recipient("same@one.example", .deferred, attempts: 1),
            recipient("changes@one.example", .deferred, attempts: 1),
            recipient("twice@three.example", .delivered, attempts: 2),
            recipient("new@two.example", .pending),
            recipient("twice@three.example", .bounced, attempts: 3),
        ]
        last.completedAt = 1_794_182_600

        let rewrittenPath = Self.tempPath()
        let oncePath = Self.tempPath()
        defer {
            try? FileManager.default.removeItem(atPath: rewrittenPath)
            try? FileManager.default.removeItem(atPath: oncePath)
        }
        let rewritten = try RelayStore(path: rewrittenPath)
        var batch = WriteBatch()
        batch.messages = [MessageWrite(record: first, replaces: false)]
        try rewritten.write(batch)
        batch.messages = [MessageWrite(record: last, replaces: true)]
        try rewritten.write(batch)
        let once = try RelayStore(path: oncePath)
        batch.messages = [MessageWrite(record: last, replaces: false)]
        try once.write(batch)

        func rows(_ store: RelayStore, _ table: ExportTable) throws -> [[StoredValue]] {
            var out: [[StoredValue]] = []
            try store.export(table, filter: MessageFilter()) { out.append($0) }
            return out
        }
        let recipients = try rows(rewritten, .recipients)
        #expect(recipients.count == 4)
        #expect(recipients == (try rows(once, .recipients)))
        #expect(try rows(rewritten, .messages) == (try rows(once, .messages)))
        for grouping in [SummaryGrouping.recipientDomain, .sender] {
            let a = try rewritten.summary(by: grouping, filter: MessageFilter(), top: nil)
            #expect(a == (try once.summary(by: grouping, filter: MessageFilter(), top: nil)))
            #expect(!a.isEmpty)
        }
    }

    @Test func checkpointsAndOpenStatesRoundTrip() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        let c = SourceCheckpoint(
            id: 7, fingerprint: .max, fingerprintLength: 1024, path: "/var/log/mail.log", mta: .postfix,
            device: .max - 1, inode: 1234, fileSize: 99, isGzip: false, contentOffset: 98, lines: 3, atEnd: false,
            updatedAt: 5)
        var batch = WriteBatch()
        batch.checkpoints = [c]
        let key = OpenStateKey(mta: .exim, host: "mx1", key: "1tAbCd-000000005vi-0000")
        batch.openStates = [OpenState(id: key, body: Data("{}".utf8), lastSeen: 42)]
        try store.write(batch)
        #expect(try store.checkpoints() == [c])
        #expect(try store.openStates().map(\.id) == [key])
        var close = WriteBatch()
        close.closedStates = [key]
        try store.write(close)
        #expect(try store.openStates().isEmpty)
    }

    @Test func aReadOnlyOpenOfAMissingDatabaseFailsClearly() throws {
        let path = Self.tempPath()
        #expect {
            _ = try RelayStore(path: path, readOnly: true)
        } throws: { error in
            "\(error)".contains("no database at \(path)")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aFailedBatchLeavesNothingBehind() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var batch = WriteBatch()
        var bad = Self.message(1, sender: "a@x.example", outcomes: [.delivered])
        batch.messages = [
            MessageWrite(record: Self.message(2, sender: "b@x.example", outcomes: [.delivered]), replaces: false)
        ]
        bad.rowID = nil  // a row without an id is refused, after the first row was written in the same transaction
        batch.messages.append(MessageWrite(record: bad, replaces: false))
        #expect(throws: StoreError.self) { try store.write(batch) }
        #expect(try store.summary(by: .sender, filter: MessageFilter(), top: nil).isEmpty)
    }

    /// New rows go through a plain multi-row INSERT; a row id taken all the same (not expected) replaces the row, as
    /// the single-row INSERT OR REPLACE did before, rather than failing the run. (As before, the aggregates of the
    /// row replaced are not taken out: only a rewrite, `replaces: true`, reads the stored row first.)
    @Test func aNewRowWhoseIDIsTakenReplacesIt() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var first = WriteBatch()
        first.messages = [
            MessageWrite(record: Self.message(1, sender: "a@x.example", outcomes: [.delivered]), replaces: false)
        ]
        try store.write(first)
        var again = WriteBatch()
        again.messages = [
            MessageWrite(record: Self.message(1, sender: "b@x.example", outcomes: [.delivered]), replaces: false)
        ]
        try store.write(again)
        let rows = try store.messages(account: "sasl:u1", from: 0, to: .max, limit: 10)
        #expect(rows.map(\.sender) == ["b@x.example"])
    }

    /// New recipient rows go 32 to an `INSERT OR IGNORE`; a repeated address keeps its last row, as the table's
    /// `ON CONFLICT REPLACE` did one row at a time: within one statement, across two, and in a later batch.
    @Test func aRepeatedRecipientAddressKeepsItsLastRow() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var m = Self.message(1, sender: "a@x.example", outcomes: Array(repeating: .delivered, count: 40))
        m.recipients[3] = RecipientRecord(address: "r0@dest.example", outcome: .deferred, attempts: 1)
        m.recipients[35] = RecipientRecord(address: "r1@dest.example", outcome: .bounced, attempts: 2)
        var other = Self.message(2, sender: "b@x.example", outcomes: [.delivered, .delivered])
        var batch = WriteBatch()
        batch.messages = [MessageWrite(record: m, replaces: false), MessageWrite(record: other, replaces: false)]
        try store.write(batch)
        // Message 2's id again with a new row id's recipients (not expected: replaced, as a rewrite would).
        other.recipients[1] = RecipientRecord(address: "r0@dest.example", outcome: .bounced, attempts: 3)
        batch.messages = [MessageWrite(record: other, replaces: false)]
        try store.write(batch)

        var rows: [[StoredValue]] = []
        try store.export(.recipients, filter: MessageFilter()) { rows.append($0) }
        func outcomes(_ message: Int64) -> [String: String] {
            var out: [String: String] = [:]
            for r in rows where r[0] == .integer(message) {
                guard case .text(let address) = r[3], case .text(let outcome) = r[6] else { continue }
                out[address] = outcome
            }
            return out
        }
        let first = outcomes(1)
        #expect(first.count == 38)
        #expect(first["r0@dest.example"] == "deferred")
        #expect(first["r1@dest.example"] == "bounced")
        #expect(first["r2@dest.example"] == "delivered")
        #expect(outcomes(2) == ["r0@dest.example": "bounced", "r1@dest.example": "delivered"])
    }

    /// Two recipient domains that are one text to Swift's `==` (NFC `café`, NFD `cafe` + U+0301) but two to SQLite:
    /// a rewrite takes out of each domain's bucket what was added to it.
    @Test func aRewriteKeepsTheBucketsOfCanonicallyEquivalentDomainsApart() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var m = Self.message(1, sender: "a@x.example", outcomes: [])
        m.recipients = [
            RecipientRecord(address: "one@caf\u{E9}.example", outcome: .pending),
            RecipientRecord(address: "two@cafe\u{301}.example", outcome: .pending),
        ]
        var batch = WriteBatch()
        batch.messages = [MessageWrite(record: m, replaces: false)]
        try store.write(batch)
        #expect(try store.aggregateMismatches() == [], "after the first write")
        m.recipients[0].outcome = .delivered
        m.recipients[1].outcome = .delivered
        var later = WriteBatch()
        later.messages = [MessageWrite(record: m, replaces: true)]
        try store.write(later)
        #expect(try store.aggregateMismatches() == [], "after the rewrite")
    }

    /// Senders that are one text to Swift's `==` (NFC and NFD `café`) but two rows to SQLite: one batch keeps their
    /// day buckets apart, as the table's key does.
    @Test func canonicallyEquivalentSendersKeepTheirOwnBuckets() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RelayStore(path: path)
        var batch = WriteBatch()
        for (id, sender) in [(Int64(3), "shop@caf\u{E9}.example"), (6, "shop@cafe\u{301}.example")] {
            var m = Self.message(id, sender: sender, outcomes: [.delivered])
            m.account = "sasl:u0"
            m.clientIP = "192.0.2.1"
            batch.messages.append(MessageWrite(record: m, replaces: false))
        }
        try store.write(batch)
        #expect(try store.aggregateMismatches() == [])
        let rows = try store.summary(by: .sender, filter: MessageFilter(), top: nil)
        #expect(rows.count == 2)
        #expect(rows.map(\.messages) == [1, 1])
    }
}

/// A connection opened while a first import runs as a bulk load (its marker from this boot, its lock held) keeps the
/// file in rollback-journal mode: switched to WAL between the import's transactions, the two would write through
/// different logs.
@Suite struct BulkLoadOpenTests {
    @Test func anOpenerDuringARunningBulkLoadLeavesItsJournalMode() throws {
        guard let boot = BulkLoad.bootID else {
            print("skipped: no boot ID on this system, so no bulk load")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-bulk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        do {
            let created = try RelayStore(path: path)
            #expect(try created.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        }
        // As a first import leaves it while it runs: in rollback-journal mode, marked, its lock held.
        var handle: OpaquePointer?
        #expect(sqlite3_open(path, &handle) == SQLITE_OK)
        #expect(sqlite3_exec(handle, "PRAGMA journal_mode = TRUNCATE", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(handle)
        try (boot + "\n").write(toFile: BulkLoad.markerPath(for: path), atomically: false, encoding: .utf8)
        let lock = open(path + ".lock", O_CREAT | O_RDWR, 0o600)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)

        let opener = try RelayStore(path: path)
        // The file is not in WAL mode: this connection reports its own rollback-journal mode ("delete").
        #expect(try opener.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } != "wal")
        #expect(FileManager.default.fileExists(atPath: BulkLoad.markerPath(for: path)))

        // The import gone (its lock free): the next opener flushes and unmarks the database, then switches it.
        flock(lock, LOCK_UN)
        let after = try RelayStore(path: path)
        #expect(!FileManager.default.fileExists(atPath: BulkLoad.markerPath(for: path)))
        #expect(try after.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }
}
