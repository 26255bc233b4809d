import Foundation
import GRDB
import Store
import Testing

/// A database is created with 8 KiB pages (half the page reads and writes of SQLite's 4 KiB); one made by an earlier
/// version keeps its 4 KiB pages, and takes new rows all the same.
@Suite struct PageSizeTests {
    private static func pageSize(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA page_size") ?? 0 }
    }

    private static func batch(_ id: Int64) -> WriteBatch {
        var batch = WriteBatch()
        batch.messages = [
            MessageWrite(
                record: MessageRecord(
                    rowID: id, host: "relay1", mta: .postfix, queueID: "Q\(id)", origin: .smtp, sender: "a@x.example",
                    receivedAt: 1_794_182_400 + id,
                    recipients: [RecipientRecord(address: "r@dest.example", outcome: .delivered)]),
                replaces: false)
        ]
        return batch
    }

    @Test func aNewDatabaseHasEightKiBPagesAndAnOldOneKeepsItsOwn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-pages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let fresh = dir.appendingPathComponent("new.sqlite").path
        try RelayStore(path: fresh).write(Self.batch(1))
        #expect(try Self.pageSize(fresh) == 8192)

        // As an earlier version left it: 4 KiB pages, in WAL mode, with a table in it.
        let old = dir.appendingPathComponent("old.sqlite").path
        try DatabaseQueue(path: old).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE earlier (x)")
        }
        let store = try RelayStore(path: old)
        try store.write(Self.batch(1))
        try store.write(Self.batch(2))
        #expect(try Self.pageSize(old) == 4096)
        #expect(try store.nextMessageRowID() == 3)
    }
}
