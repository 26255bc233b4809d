import Foundation
import GRDB
import Store
import Testing

@testable import Ingest

/// During an ingest the write-ahead log is copied back into the database by a checkpointer on its own thread, and by
/// the writer only once the log reaches its bound: the log starts over instead of growing with the ingest, and the
/// database holds what an ingest with SQLite's own checkpoints stores.
@Suite struct WALCheckpointTests {
    @Test(.enabled(if: GeneratedTruthTests.python != nil, "python3 is not installed: generated-log tests skipped"))
    func theLogIsCopiedBackBesideTheWriterAndStaysBounded() throws {
        let gen = try GeneratedTruthTests.generate([
            "--mta", "postfix", "--messages", "3000", "--days", "2", "--seed", "11", "--p-defer", "0.1",
        ])
        defer { try? FileManager.default.removeItem(at: gen) }
        let log = gen.appendingPathComponent("mail.log")
        let dir = try SpillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        var options = IngestOptions()
        options.timeZone = TimeZone(identifier: "UTC")!
        options.year = 2026
        options.batchLines = 300
        options.batchesPerCommit = 1

        // Asked for every 4 pages of log, copied by the writer itself past 32 (256 KiB).
        let small = dir.appendingPathComponent("small.sqlite").path
        let store = try RelayStore(path: small)
        // The migrations' pages out of the log first, so that only the ingest's commits reach its bound.
        _ = try DatabaseQueue(path: small).writeWithoutTransaction { try $0.checkpoint(.truncate) }
        #expect(try FileManager.default.attributesOfItem(atPath: small + "-wal")[.size] as? Int == 0)
        // Attached before the run, this checkpointer is the one the run keeps.
        try store.prepareForIngest(checkpointPages: 4, maxLogPages: 32)
        let report = try Ingestor(store: store, options: options).run(paths: [log.path])
        #expect(report.stats.messages > 2_500)
        let counts = store.lastIngestCheckpoints
        #expect(counts.background > 5, "checkpoints on the checkpointer's thread: \(counts)")
        #expect(counts.onWriter > 0, "checkpoints by the writer at the bound: \(counts)")
        // Still open: the log is as the ingest left it, before the close copies the rest.
        let wal = try FileManager.default.attributesOfItem(atPath: small + "-wal")[.size] as? Int ?? 0
        let database = try FileManager.default.attributesOfItem(atPath: small)[.size] as? Int ?? 0
        #expect(wal > 0 && wal < database / 2, "log \(wal) bytes, database \(database) bytes")
        #expect(try store.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")

        // No checkpoint until the close: the same rows.
        let plain = dir.appendingPathComponent("plain.sqlite").path
        let plainStore = try RelayStore(path: plain)
        try plainStore.prepareForIngest(checkpointPages: .max, maxLogPages: .max)
        _ = try Ingestor(store: plainStore, options: options).run(paths: [log.path])
        let none = plainStore.lastIngestCheckpoints
        #expect(none.background == 0 && none.onWriter == 0)
        SpillTests.expectSame(try SpillTests.content(of: plain), try SpillTests.content(of: small))
    }
}
