import Foundation
import Store
import TestSupport
import Testing

@testable import Ingest

/// Logs from `Benchmarks/genlog.py` (a simulated relay that also writes its own records) give exactly the relay's
/// per-sender and per-account numbers: in one ingest, as a rotated set in any order, and as it grows.
@Suite struct GeneratedTruthTests {
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Runs the generator into a new temporary directory.
    static func generate(_ arguments: [String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-gen-\(UUID().uuidString)")
        try ProcessRun.check(
            try #require(python),
            [TestPaths.packageRoot.appendingPathComponent("Benchmarks/genlog.py").path, "--quiet", "--out", dir.path]
                + arguments)
        return dir
    }

    /// `key → [messages, recipients, delivered, deferred, bounced, bytes]` from a truth CSV.
    static func truth(_ url: URL) throws -> [String: [Int64]] {
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
        var out: [String: [Int64]] = [:]
        for row in rows {
            // Keys have no commas (addresses and logins of the simulation).
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            out[f[0]] = f[1...].map { Int64($0)! }
        }
        return out
    }

    static func summary(_ store: RelayStore, by: SummaryGrouping) throws -> [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        for r in try store.summary(by: by, filter: MessageFilter(), top: nil) {
            out[r.key ?? "(none)"] = [r.messages, r.recipients, r.delivered, r.deferred, r.bounced, r.bytes]
        }
        return out
    }

    static func ingest(_ files: [URL], into db: String, batchLines: Int = 50_000) throws -> IngestReport {
        var options = IngestOptions()
        options.timeZone = TimeZone(identifier: "UTC")!
        options.batchLines = batchLines
        return try Ingestor(store: try RelayStore(path: db), options: options).run(paths: files.map(\.path))
    }

    static func expectTruth(_ db: String, _ dir: URL) throws {
        let store = try RelayStore(path: db, readOnly: true)
        let bySender = try summary(store, by: .sender)
        let byAccount = try summary(store, by: .account)
        let senderTruth = try truth(dir.appendingPathComponent("truth-sender.csv"))
        let accountTruth = try truth(dir.appendingPathComponent("truth-account.csv"))
        #expect(senderTruth.count > 50)
        #expect(bySender == senderTruth)
        #expect(byAccount == accountTruth)
    }

    struct Variant: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(
        .enabled(if: python != nil, "python3 is not installed: generated-log tests skipped"),
        arguments: [
            Variant(arguments: ["--stamp", "classic", "--queue-ids", "short"]),
            Variant(arguments: ["--stamp", "rfc3339", "--queue-ids", "long", "--tz", "+01:00"]),
        ])
    func rotatedSetInAnyOrderMatchesTheRelaysRecords(_ variant: Variant) throws {
        let dir = try Self.generate(
            ["--mta", "postfix", "--messages", "2500", "--days", "4", "--rotate", "3", "--seed", "11"]
                + variant.arguments)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.expectRotatedSetMatchesTruth(dir, ["mail.log.1", "mail.log", "mail.log.3.gz", "mail.log.2.gz"])
    }

    /// Ingests `names` (in that order) and then again: both times the relay's records, and nothing added the second.
    @discardableResult
    static func expectRotatedSetMatchesTruth(_ dir: URL, _ names: [String]) throws -> IngestReport {
        let db = dir.appendingPathComponent("r.sqlite").path
        let report = try ingest(names.map { dir.appendingPathComponent($0) }, into: db)
        #expect(report.stats.unparsed == 0)
        try expectTruth(db, dir)
        let again = try ingest(names.map { dir.appendingPathComponent($0) }, into: db)
        #expect(again.stats.lines == 0)
        try expectTruth(db, dir)
        return report
    }

    @Test(
        .enabled(if: python != nil, "python3 is not installed: generated-log tests skipped"),
        arguments: [
            Variant(arguments: ["--exim-ids", "new"]),
            Variant(arguments: ["--exim-ids", "old", "--tz=-05:00"]),
        ])
    func eximRotatedSetMatchesTheRelaysRecords(_ variant: Variant) throws {
        let dir = try Self.generate(
            ["--mta", "exim", "--messages", "2500", "--days", "4", "--rotate", "3", "--seed", "23"]
                + variant.arguments)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try Self.expectRotatedSetMatchesTruth(
            dir, ["mainlog.2.gz", "mainlog", "mainlog.3.gz", "mainlog.1"])
        #expect(report.files.allSatisfy { $0.mta == .exim })
    }

    /// One traffic, two MTAs: the Postfix and the Exim rendering give the same per-sender numbers.
    @Test(.enabled(if: python != nil, "python3 is not installed: generated-log tests skipped"))
    func postfixAndEximLogsOfTheSameTrafficAgree() throws {
        let dir = try Self.generate(["--mta", "both", "--messages", "2000", "--days", "3", "--seed", "99"])
        defer { try? FileManager.default.removeItem(at: dir) }
        var bySender: [[String: [Int64]]] = []
        for (mta, file) in [("postfix", "mail.log"), ("exim", "mainlog")] {
            let db = dir.appendingPathComponent("\(mta).sqlite").path
            _ = try Self.ingest([dir.appendingPathComponent("\(mta)/\(file)")], into: db)
            bySender.append(try Self.summary(try RelayStore(path: db, readOnly: true), by: .sender))
        }
        #expect(bySender[0] == bySender[1])
        #expect(bySender[0] == (try Self.truth(dir.appendingPathComponent("truth-sender.csv"))))
    }

    /// The bundled sample (the README's first command) matches its simulated relays' records.
    @Test(arguments: [
        ("postfix", ["mail.log", "mail.log.1", "mail.log.2.gz"]), ("exim", ["mainlog", "mainlog.1", "mainlog.2.gz"]),
    ])
    func bundledSampleMatchesItsRecords(_ mta: String, _ files: [String]) throws {
        let sample = TestPaths.fixtures.appendingPathComponent("sample")
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-sample-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: db) }
        let report = try Self.ingest(files.map { sample.appendingPathComponent($0) }, into: db.path)
        #expect(report.stats.unparsed == 0)
        try Self.expectTruth(db.path, sample.appendingPathComponent("truth/\(mta)"))
    }

    /// The log is ingested as it grows, in pieces cut at arbitrary bytes (a half-written last line waits).
    @Test(.enabled(if: python != nil, "python3 is not installed: generated-log tests skipped"))
    func growingLogIngestedIncrementallyMatchesTheRelaysRecords() throws {
        let dir = try Self.generate(["--mta", "postfix", "--messages", "1500", "--days", "2", "--seed", "5"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = try Data(contentsOf: dir.appendingPathComponent("mail.log"))
        let live = dir.appendingPathComponent("live.log")
        let db = dir.appendingPathComponent("r.sqlite").path
        _ = FileManager.default.createFile(atPath: live.path, contents: nil)
        var written = 0
        var step = 0
        while written < full.count {
            step += 1
            let next = min(full.count, written + 37_000 + step * 7_919)
            let h = try FileHandle(forWritingTo: live)
            try h.seekToEnd()
            try h.write(contentsOf: full[written..<next])
            try h.close()
            written = next
            _ = try Self.ingest([live], into: db, batchLines: 997)
        }
        #expect(step > 10)
        try Self.expectTruth(db, dir)
    }
}
