import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The database holds personal data; inputs that are not log files are refused or read as streams.
@Suite struct DataProtectionTests {
    /// The database, its journal, bulk-load marker, WAL and shared-memory files and the lock file are readable by
    /// their owner only, also as a killed ingest leaves them (a first import, then a later ingest) and whatever the
    /// umask.
    @Test func theDatabaseAndItsCompanionFilesAreOwnerOnly() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        for (run, companions) in [(1, ["", "-journal", "-bulk", ".lock"]), (2, ["", "-wal", "-shm", ".lock"])] {
            // umask 000 for the child only: the modes must come from relaysum, not from the umask.
            let r = try Relaysum.run(
                ["-c", "umask 000 && exec \"$0\" \"$@\"", Relaysum.binary] + CrashSafetyTests.ingestArguments
                    + ["--db", db, "--fault-at-line", "3000"] + Relaysum.sample, executable: "/bin/sh")
            #expect(r.signal == SIGKILL)
            for suffix in companions {
                let attributes = try FileManager.default.attributesOfItem(atPath: db + suffix)
                #expect(attributes[.posixPermissions] as? Int == 0o600, "run \(run): \(db + suffix)")
            }
        }
    }

    /// relaysum never runs a shell or another program with data from logs: no shell, `system`, `popen` or `exec`
    /// anywhere in its sources (sending mail, when it comes, runs `sendmail -t -oi` directly).
    @Test func noShellIsEverSpawned() throws {
        let sources = Relaysum.packageRoot.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") || $0.hasSuffix(".h") }
        #expect(files.count > 20)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for banned in ["/bin/sh", "/bin/bash", "system(", "popen(", "execl(", "execlp(", "execvp(", "\"-c\""] {
                #expect(!text.contains(banned), "\(file) contains \(banned)")
            }
        }
    }

    /// A sender address with terminal escapes (C0 and C1) is shown escaped in a table, never sent to the terminal raw.
    @Test func controlCodesFromTheLogAreEscapedInTables() throws {
        let t = try Scratch()
        let log = t.path("mail.log")
        try t.write(
            "mail.log",
            [
                "Nov  9 00:02:48 relay1 postfix/smtpd[1]: 4NmB1q0Bt7z9vKp: client=a.example[192.0.2.1]",
                "Nov  9 00:02:49 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: from=<x\u{1B}]2;owned\u{07}\u{9B}2Jy@a.example>, "
                    + "size=1, nrcpt=1 (queue active)",
            ])
        let db = t.path("r.sqlite")
        #expect(try Relaysum.run(["ingest", "--db", db, "--year", "2026", log]).status == 0)
        let r = try Relaysum.run(["summary", "--db", db, "--by", "sender", "--format", "table"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("x\\x1B]2;owned\\x07\\x9B2Jy@a.example"), "\(r.stdout)")
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B })
    }

    @Test func aFIFOIsReadAsAStreamOnce() throws {
        let t = try Scratch()
        let fifo = t.path("mail.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let db = t.path("r.sqlite")
        let text = try Data(contentsOf: URL(fileURLWithPath: Relaysum.fixture("postfix/relay-classic.log")))
        for run in 0..<2 {
            let child = try Relaysum.Child(
                ["ingest", "--db", db, "--year", "2026", "--timezone", "UTC", fifo], pipeStderr: false)
            // Opening for writing waits for the reader, as a pipe from another program would.
            let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: fifo))
            // Opened: the ingest has set its database up. A stream is no first import: never a bulk load.
            #expect(!FileManager.default.fileExists(atPath: db + "-bulk"), "run \(run)")
            #expect(FileManager.default.fileExists(atPath: db + "-wal"), "run \(run)")
            try writer.write(contentsOf: text)
            try writer.close()
            let r = try child.wait()
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains(run == 0 ? "51 new line(s)" : "0 new line(s)"), "\(r.stderr)")
        }
        let s = try Relaysum.run(["summary", "--db", db, "--by", "account", "--format", "csv"])
        #expect(s.stdout.split(separator: "\r\n").count == 4)
    }

    @Test func aDirectoryFailsTheRunButTheOtherFilesAreRead() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let r = try Relaysum.run([
            "ingest", "--db", db, "--year", "2026", "--timezone", "UTC", t.url.path,
            Relaysum.fixture("postfix/relay-classic.log"),
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("relaysum: error: \(t.url.path): is a directory"), "\(r.stderr)")
        let s = try Relaysum.run(["summary", "--db", db, "--by", "account", "--format", "csv"])
        #expect(s.stdout.split(separator: "\r\n").count == 4)
    }
}
