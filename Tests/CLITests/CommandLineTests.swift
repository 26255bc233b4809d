import Foundation
import TestSupport
import Testing

/// Runs the `relaysum` binary built beside the test bundle.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let binary: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("relaysum")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: ".build/debug/relaysum")
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func fixture(_ path: String) -> String { packageRoot.appendingPathComponent("Fixtures/logs/\(path)").path }

    @discardableResult
    static func run(
        _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], executable: URL = binary
    ) throws -> Result {
        var env: [String: String?] = ["RELAYSUM_DB": nil]
        for (k, v) in environment { env[k] = v }
        let r = try ProcessRun.run(executable.path, arguments, stdin: stdin ?? Data(), environment: env)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }
}

/// A temporary directory removed at the end.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

@Suite struct CommandLineTests {
    @Test func ingestThenSummaryByAccountAsCSV() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let ingest = try CLI.run([
            "ingest", "--db", db, "--year", "2026", "--timezone", "UTC", CLI.fixture("postfix/relay-classic.log"),
        ])
        #expect(ingest.status == 0)
        #expect(ingest.stdout == "")
        #expect(ingest.stderr.contains("51 new line(s): 40 parsed, 11 skipped, 0 unparsed"))
        let summary = try CLI.run(["summary", "--db", db, "--by", "account", "--format", "csv"])
        #expect(summary.status == 0)
        #expect(
            summary.stdout == """
                key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen\r
                ip:198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z\r
                local:33,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z\r
                sasl:alice@shop1.example,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z\r

                """)
        // The database holds personal data: owner-only.
        let mode = try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func summaryBySenderAsJSONWithTopAndSince() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        try CLI.run([
            "ingest", "--db", db, "--year", "2026", "--timezone", "UTC", CLI.fixture("postfix/relay-classic.log"),
        ])
        let r = try CLI.run([
            "summary", "--db", db, "--by", "sender", "--format", "json", "--top", "1", "--since", "2026-11-09T00:15Z",
        ])
        #expect(r.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["key"] as? String == "news@hosting.example")
        #expect(rows?.first?["bounced"] as? Int == 1)
        #expect(rows?.first?["first_seen"] as? String == "2026-11-09T00:20:00Z")
    }

    @Test func stdinIsReadOnceByFingerprint() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let data = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("postfix/relay-classic.log")))
        let first = try CLI.run(["ingest", "--db", db, "--year", "2026", "--host", "relay9", "-"], stdin: data)
        let second = try CLI.run(["ingest", "--db", db, "--year", "2026", "--host", "relay9", "-"], stdin: data)
        #expect(first.status == 0 && second.status == 0)
        #expect(second.stderr.contains("0 new line(s)"))
        let s = try CLI.run(["summary", "--db", db, "--by", "sender", "--format", "csv", "--host", "relay9"])
        #expect(s.stdout.split(separator: "\r\n").count == 4)
    }

    struct BadArgument: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        BadArgument(arguments: ["summary", "--since", "yesterday"], message: "invalid time 'yesterday'"),
        BadArgument(arguments: ["summary", "--until", "2026-13-01"], message: "invalid time '2026-13-01'"),
        BadArgument(arguments: ["summary", "--by", "colour"], message: "--by"),
        BadArgument(arguments: ["summary", "--top", "0"], message: "--top must be at least 1"),
        BadArgument(arguments: ["summary", "--format", "xml"], message: "--format"),
        BadArgument(arguments: ["ingest"], message: "files"),
        BadArgument(arguments: ["ingest", "--year", "12", "x.log"], message: "--year must be between"),
        BadArgument(arguments: ["ingest", "--timezone", "Mars/Olympus", "x.log"], message: "unknown time zone"),
        BadArgument(
            arguments: ["ingest", "--batches-per-commit", "0", "x.log"],
            message: "--batches-per-commit must be at least 1"),
        BadArgument(
            arguments: ["ingest", "--resident-recipients=-1", "x.log"],
            message: "--resident-recipients must be at least 0"),
        BadArgument(
            arguments: ["ingest", "--batch-recipients=-5", "x.log"], message: "--batch-recipients must be at least 0"),
        BadArgument(arguments: ["frobnicate"], message: "frobnicate"),
    ])
    func usageErrorsExit64(_ bad: BadArgument) throws {
        let t = try TempDir()
        let known = ["summary", "ingest"].contains(bad.arguments[0])
        let r = try CLI.run(bad.arguments + (known ? ["--db", t.path("r.sqlite")] : []))
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains(bad.message), "\(r.stderr)")
        #expect(r.stdout == "")
    }

    @Test func summaryOfAnEmptyDatabasePrintsTheHeaderOnly() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let empty = t.path("empty.log")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let i = try CLI.run(["ingest", "--db", db, empty])
        #expect(i.status == 0)
        #expect(i.stderr.contains("empty.log: empty"))
        let r = try CLI.run(["summary", "--db", db, "--format", "csv"])
        #expect(r.status == 0)
        #expect(r.stdout == "key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen\r\n")
        let j = try CLI.run(["summary", "--db", db, "--format", "json"])
        #expect(j.stdout == "[]\n")
    }

    @Test func summaryWithoutADatabaseFails() throws {
        let t = try TempDir()
        let r = try CLI.run(["summary", "--db", t.path("missing.sqlite")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no database at"))
        #expect(!FileManager.default.fileExists(atPath: t.path("missing.sqlite")))
    }

    @Test func missingFilesAndDirectoriesFailButTheRestIsIngested() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let r = try CLI.run([
            "ingest", "--db", db, "--year", "2026", t.path("nope.log"), t.url.path, CLI.fixture("postfix/rejects.log"),
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("nope.log: no such file"))
        #expect(r.stderr.contains("is a directory"))
        let s = try CLI.run(["summary", "--db", db, "--format", "csv"])
        #expect(s.stdout.contains("bob@shop2.example,2,2,1,0,1,4600"))
    }

    @Test func unparsedLinesAreCountedAndNamedWithFileAndLine() throws {
        let t = try TempDir()
        let log = t.path("bad.log")
        try """
        Nov  9 00:02:48 relay1 postfix/smtpd[1]: 4NmB1q0Bt7z9vKp: client=a.example[192.0.2.1]
        this is not a log line
        Nov  9 00:02:49 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: from=<a@a.example>, size=1, nrcpt=1 (queue active)
        Nov 31 00:02:49 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed

        """.write(toFile: log, atomically: true, encoding: .utf8)
        let r = try CLI.run(["ingest", "--db", t.path("r.sqlite"), "--year", "2026", log])
        #expect(r.status == 0)
        #expect(r.stderr.contains("2 unparsed"))
        #expect(r.stderr.contains("1 envelope: no syslog or Exim time stamp (e.g. \(log):2)"))
        #expect(r.stderr.contains("1 envelope: impossible date (e.g. \(log):4)"))
    }

    @Test func aSecondIngestOnTheSameDatabaseIsRefusedWhileOneRuns() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        // Hold the lock as a running ingest would.
        let fd = open(db + ".lock", O_CREAT | O_RDWR, 0o600)
        #expect(flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        let r = try CLI.run(["ingest", "--db", db, CLI.fixture("postfix/rejects.log")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("another relaysum ingest is running"))
    }

    @Test func aTruncatedGzipFailsWithFileAndOffsetAndKeepsWhatCameBefore() throws {
        let t = try TempDir()
        let log = t.path("mail.log.2")
        try FileManager.default.copyItem(atPath: CLI.fixture("sample/mail.log"), toPath: log)
        try ProcessRun.check("/usr/bin/env", ["gzip", "-n", log])
        let data = try Data(contentsOf: URL(fileURLWithPath: log + ".gz"))
        let cut = data.count - 40
        try data.prefix(cut).write(to: URL(fileURLWithPath: t.path("cut.gz")))
        let db = t.path("r.sqlite")
        let r = try CLI.run(["ingest", "--db", db, "--year", "2026", t.path("cut.gz")])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains("\(t.path("cut.gz")): truncated gzip member at compressed byte \(cut)"), "\(r.stderr)")
        let s = try CLI.run(["summary", "--db", db, "--by", "account", "--format", "json"])
        #expect(s.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [[String: Any]] ?? []
        let messages = rows.compactMap { $0["messages"] as? Int }.reduce(0, +)
        // The sample's live file holds a day of ~100 messages; the last few hundred bytes are lost with the cut.
        #expect(messages > 80)
    }

    @Test func helpDocumentsExitCodes() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("64 usage error"))
    }
}
