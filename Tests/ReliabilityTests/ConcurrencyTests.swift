import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two ingests on one database, and reports during an ingest: an ingest held still mid-run (`--fault stop`) keeps its
/// lock and its place.
@Suite struct ConcurrencyTests {
    @Test func reportsReadDuringAnIngestAndASecondIngestWaitsOrFails() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let first = try Relaysum.Child(
            // Through the WAL: a first import's bulk load could be stopped holding its commit's lock, which the
            // reports below would wait for.
            CrashSafetyTests.ingestArguments + [
                "--db", db, "--fault", "stop", "--fault-at-line", "3000", "--no-bulk-load",
            ] + Relaysum.sample, pipeStderr: true)
        defer { kill(first.pid, SIGKILL) }
        #expect(try first.readUntilStopped().contains("stopping after line 3000"))

        // Reports read what is committed while the ingest holds the database (WAL: readers never wait for writers).
        let summary = try Relaysum.run(["summary", "--db", db, "--by", "account", "--format", "csv"])
        #expect(summary.status == 0, "\(summary)")
        #expect(summary.stdout.split(separator: "\r\n").count > 10)
        let export = try Relaysum.run(["export", "messages", "--db", db, "--format", "csv"])
        #expect(export.status == 0, "\(export)")

        // A second ingest fails at once, or after --wait seconds, with a message.
        let refused = try CrashSafetyTests.ingest(db)
        #expect(refused.status == 1 && refused.signal == nil)
        #expect(
            refused.stderr.contains(
                "another relaysum ingest is running on \(db); try again when it has finished, or use --wait SECONDS"),
            "\(refused)")
        let gaveUp = try CrashSafetyTests.ingest(db, ["--wait", "1"])
        #expect(gaveUp.status == 1)
        #expect(gaveUp.stderr.contains("another relaysum ingest is still running on \(db) after waiting 1 s"))

        // One that waits long enough runs when the first has finished, and finds nothing left to read.
        let waiting = try Relaysum.Child(
            CrashSafetyTests.ingestArguments + ["--db", db, "--wait", "600"] + Relaysum.sample, pipeStderr: true)
        #expect(waiting.readStderr(until: "waiting up to 600 s").contains("waiting up to 600 s for another ingest"))
        kill(first.pid, SIGCONT)
        let firstResult = try first.wait()
        #expect(firstResult.status == 0, "\(firstResult)")
        let waitedResult = try waiting.wait()
        #expect(waitedResult.status == 0, "\(waitedResult)")
        try CrashSafetyTests.expectClean(db, "after a waiting second ingest")
        #expect(try Relaysum.inspect(db).lines == CrashSafetyTests.cleanRun.lines)
    }

    @Test func waitMustBeAReasonableNumberOfSeconds() throws {
        let t = try Scratch()
        for bad in ["-1", "nan", "100000"] {
            let r = try Relaysum.run(["ingest", "--db", t.path("r.sqlite"), "--wait=\(bad)", "x.log"])
            #expect(r.status == 64, "\(r)")
        }
    }

    /// An ingest waiting for more lines (standard input fed by a live log, a slow file) holds no write lock: another
    /// writer (`report` and `anomalies` bring the account activity up to date, `prune`) must not time out on it. The
    /// batches written since the ingest's last commit keep a transaction open, and with it SQLite's write lock,
    /// while the next batch's lines are read.
    @Test func anIngestWaitingForLinesLeavesOtherWritersIn() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let lines = try String(contentsOfFile: Relaysum.fixture("sample/mail.log"), encoding: .utf8)
            .split(separator: "\n").prefix(540)
        // More than the 64 KiB read first to order the inputs; batches of 20 lines, a commit every 6: the last 3
        // batches (lines 481-540) are written, not committed.
        let fed = lines.joined(separator: "\n") + "\n"
        #expect(fed.utf8.count > 64 * 1024)
        let committedOffset = Int64(lines.prefix(480).map { $0.utf8.count + 1 }.reduce(0, +))
        let child = try ChildProcess(
            Relaysum.binary,
            ["ingest", "--db", db, "--timezone", "UTC", "--year", "2026", "--batch-lines", "20", "--quiet", "-"],
            environment: ["RELAYSUM_DB": nil], stdin: .pipe)
        defer { kill(child.pid, SIGKILL) }
        let input = try #require(child.writeInput)
        input.write(Data(fed.utf8))
        // Wait for the ingest's last commit (line 480); the batches after it are written soon after.
        var config = Configuration()
        config.readonly = true
        var committed: Int64 = 0
        for _ in 0..<600 where committed < committedOffset {
            usleep(50_000)
            guard FileManager.default.fileExists(atPath: db),
                let reader = try? DatabaseQueue(path: db, configuration: config)
            else { continue }
            committed =
                (try? reader.read { db in
                    try Int64.fetchOne(db, sql: "SELECT max(content_offset) FROM source_files")
                }).flatMap { $0 } ?? 0
        }
        #expect(committed >= committedOffset)
        usleep(1_000_000)
        var writing = Configuration()
        writing.busyMode = .timeout(3)
        let writer = try DatabaseQueue(path: db, configuration: writing)
        var locked: Error?
        do {
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
            }
        } catch {
            locked = error
        }
        #expect(
            locked == nil,
            "another writer could not begin while the ingest waited for lines: \(String(describing: locked))")
        try writer.close()
        try input.close()
        let ended = try child.wait()
        #expect(ended == .exit(0))
    }
}
