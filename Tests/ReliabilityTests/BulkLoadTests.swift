import Foundation
import GRDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The first ingest into an empty database is a bulk load (a rollback journal, no waiting for the disk, a marker
/// with the boot ID until the database is flushed): it stores what the write-ahead log stores, ends in WAL mode, and
/// a database it was building when the system stopped is built again, never read.
@Suite struct BulkLoadTests {
    static let stopped = ["--fault", "stop", "--fault-at-line", "3000"]

    /// Which of the bulk load's and the write-ahead log's files exist beside `db`.
    static func companions(_ db: String) -> [String] {
        ["-bulk", "-journal", "-wal"].filter { FileManager.default.fileExists(atPath: db + $0) }
    }

    static func journalMode(_ db: String) throws -> String? {
        try DatabaseQueue(path: db).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
    }

    /// Stops an ingest at line 3000, returns what `probe` saw then, and lets it finish.
    static func whileStopped<T>(_ arguments: [String], _ probe: () throws -> T) throws -> T {
        let child = try Relaysum.Child(arguments + stopped, pipeStderr: true)
        defer { kill(child.pid, SIGKILL) }
        _ = try child.readUntilStopped()
        let seen = try probe()
        kill(child.pid, SIGCONT)
        let r = try child.wait()
        #expect(r.status == 0, "\(r)")
        return seen
    }

    /// A first import of the sample logs into `t`'s `r.sqlite`, killed after line 3000: its marker left behind.
    static func killedFirstImport(in t: Scratch) throws -> String {
        let db = t.path("r.sqlite")
        let killed = try CrashSafetyTests.ingest(db, ["--fault-at-line", "3000"])
        #expect(killed.signal == SIGKILL)
        #expect(companions(db).contains("-bulk"))
        return db
    }

    @Test func aFirstImportIsABulkLoadAndStoresWhatTheWriteAheadLogStores() throws {
        let t = try Scratch()
        let bulk = t.path("bulk.sqlite")
        let wal = t.path("wal.sqlite")
        let args = CrashSafetyTests.ingestArguments + Relaysum.sample
        let bulkBoot = try Self.whileStopped(args + ["--db", bulk]) { () -> String? in
            #expect(Self.companions(bulk) == ["-bulk", "-journal"])
            return try String(contentsOfFile: bulk + "-bulk", encoding: .utf8)
        }
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        #expect(bulkBoot == boot)
        let walSeen = try Self.whileStopped(args + ["--db", wal, "--no-bulk-load"]) { Self.companions(wal) }
        #expect(walSeen == ["-wal"])

        // Ended: flushed, unmarked, in WAL mode, and the same as a run through the log and as a clean run.
        #expect(!Self.companions(bulk).contains("-bulk"))
        #expect(try Self.journalMode(bulk) == "wal")
        #expect(try Relaysum.inspect(bulk) == Relaysum.inspect(wal))
        #expect(try Relaysum.inspect(bulk).integrity == "ok")
        expectSameSnapshot(try Relaysum.snapshot(bulk), try Relaysum.snapshot(wal), "bulk load against WAL")
        try CrashSafetyTests.expectClean(bulk, "bulk load")

        // A database that holds rows is written through the log.
        let split = t.path("split.sqlite")
        #expect(try CrashSafetyTests.ingest(split, files: [Relaysum.sample[0]]).status == 0)
        let later = try Self.whileStopped(CrashSafetyTests.ingestArguments + Relaysum.sample + ["--db", split]) {
            Self.companions(split)
        }
        #expect(later == ["-wal"])
        try CrashSafetyTests.expectClean(split, "a first file, then the rest")
    }

    /// A marker from another boot: the system stopped while the first import ran, and its pages may be half
    /// written. Reports refuse the database; the next ingest moves it aside and imports again.
    @Test func aFirstImportTheSystemStoppedIsBuiltAgainAndNotRead() throws {
        let t = try Scratch()
        let db = try Self.killedFirstImport(in: t)
        try "00000000-0000-4000-8000-000000000000\n".write(toFile: db + "-bulk", atomically: false, encoding: .utf8)

        for command in [["summary", "--by", "account"], ["export", "messages"]] {
            let refused = try Relaysum.run(command + ["--db", db])
            #expect(refused.status == 1, "\(refused)")
            #expect(
                refused.stderr.contains("was being built by its first ingest when the system stopped"), "\(refused)")
        }
        let rebuilt = try CrashSafetyTests.ingest(db)
        #expect(rebuilt.status == 0, "\(rebuilt)")
        #expect(rebuilt.stderr.contains("moved to \(db).interrupted-"), "\(rebuilt)")
        #expect(rebuilt.stderr.contains("; building it again from the logs given"), "\(rebuilt)")
        #expect(Self.companions(db).isEmpty)
        // Kept for the operator, with the journal the kill left, under a name of its own.
        let aside = try FileManager.default.contentsOfDirectory(atPath: t.url.path).filter {
            $0.hasPrefix("r.sqlite.interrupted-")
        }.sorted()
        #expect(aside.count == 2 && aside[1] == aside[0] + "-journal", "\(aside)")
        try CrashSafetyTests.expectClean(db, "rebuilt after a stop of the system")
    }

    /// A first import killed in this boot: what it committed is whole. A report reads it at once (rolling back the
    /// journal the kill left, which a read-only connection cannot) and, no ingest running, flushes it and removes the
    /// marker, so that a reboot before the next ingest is not taken for a stop of the system during the import. The
    /// next ingest goes on through the log.
    @Test func aFirstImportKilledInThisBootIsReadAndResumed() throws {
        let t = try Scratch()
        let db = try Self.killedFirstImport(in: t)
        let summary = try Relaysum.run(["summary", "--db", db, "--by", "account", "--format", "csv"])
        #expect(summary.status == 0, "\(summary)")
        #expect(summary.stdout.split(separator: "\r\n").count > 2, "\(summary)")
        #expect(!Self.companions(db).contains("-bulk"))
        let resumed = try CrashSafetyTests.ingest(db)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(Self.companions(db).isEmpty)
        #expect(try Self.journalMode(db) == "wal")
        try CrashSafetyTests.expectClean(db, "resumed after a kill")
    }
}
