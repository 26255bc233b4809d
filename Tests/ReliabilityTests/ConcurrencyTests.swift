import Foundation
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
            CrashSafetyTests.ingestArguments + ["--db", db, "--fault", "stop", "--fault-at-line", "3000"]
                + Relaysum.sample, pipeStderr: true)
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
}
