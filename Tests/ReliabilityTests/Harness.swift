import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the `relaysum` binary built beside the test bundle, in the foreground or held running in the background.
enum Relaysum {
    static let binary: String = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("relaysum")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        return ".build/debug/relaysum"
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func fixture(_ path: String) -> String { packageRoot.appendingPathComponent("Fixtures/logs/\(path)").path }

    /// The bundled rotated sample of both MTAs (Fixtures/logs/sample), oldest file last, as cron would name them.
    static let sample = ["mail.log", "mail.log.1", "mail.log.2.gz", "mainlog", "mainlog.1", "mainlog.2.gz"].map {
        fixture("sample/\($0)")
    }

    /// How a finished child ended.
    struct Result: CustomStringConvertible {
        var status: Int32
        /// The signal that ended it, if one did.
        var signal: Int32?
        var stdout: String
        var stderr: String

        var description: String { "status \(status), signal \(signal.map(String.init) ?? "none"), stderr: \(stderr)" }
    }

    /// Runs `executable` (default: relaysum) with `arguments` to its end; output goes through files, so nothing
    /// blocks however much it prints.
    @discardableResult
    static func run(_ arguments: [String], executable: String? = nil) throws -> Result {
        let child = try Child(arguments, executable: executable, pipeStderr: false)
        return try child.wait()
    }

    /// A child process; its stderr can be read while it runs.
    final class Child {
        let child: ChildProcess
        private let outPath: String
        private let errPath: String
        private var errSoFar = Data()

        init(_ arguments: [String], executable: String? = nil, pipeStderr: Bool) throws {
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-rel-\(UUID().uuidString)")
            outPath = tmp.path + ".out"
            errPath = tmp.path + ".err"
            child = try ChildProcess(
                executable ?? Relaysum.binary, arguments, environment: ["RELAYSUM_DB": nil], stdout: .file(outPath),
                stderr: pipeStderr ? .pipe : .file(errPath))
        }

        var pid: Int32 { child.pid }

        /// Reads stderr until it contains `marker` (or the child closes it); returns what was read.
        @discardableResult
        func readStderr(until marker: String) -> String {
            guard let pipe = child.readError else { return "" }
            while !String(decoding: errSoFar, as: UTF8.self).contains(marker) {
                let chunk = pipe.availableData
                if chunk.isEmpty { break }
                errSoFar.append(chunk)
            }
            return String(decoding: errSoFar, as: UTF8.self)
        }

        /// Reads stderr until the fault injection says it stops, then waits until it has (so a SIGCONT is not lost).
        func readUntilStopped() throws -> String {
            let said = readStderr(until: "stopping after line")
            try #require(try child.waitUntilStopped(), "it did not stop: \(said)")
            return said
        }

        func wait() throws -> Result {
            if let pipe = child.readError { errSoFar.append(pipe.readDataToEndOfFile()) }
            defer {
                try? FileManager.default.removeItem(atPath: outPath)
                try? FileManager.default.removeItem(atPath: errPath)
            }
            let ended = try child.wait()
            let out = try Data(contentsOf: URL(fileURLWithPath: outPath))
            let err = child.readError == nil ? try Data(contentsOf: URL(fileURLWithPath: errPath)) : errSoFar
            var signal: Int32?
            var status: Int32
            switch ended {
            case .exit(let code): status = code
            case .signal(let number): (status, signal) = (number, number)
            }
            return Result(
                status: status, signal: signal, stdout: String(decoding: out, as: UTF8.self),
                stderr: String(decoding: err, as: UTF8.self))
        }
    }

    /// Everything a database reports, without row ids (which depend on where transactions fell): the exports of
    /// messages, recipients and rejects (sorted) and the summaries by account and by sender.
    static func snapshot(_ db: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for table in ["messages", "recipients", "rejects"] {
            let r = try run(["export", table, "--db", db, "--format", "csv"])
            try #require(r.status == 0, "export \(table): \(r)")
            // The first column is a row id (numbers, never quoted): drop it.
            out["export \(table)"] = r.stdout.split(separator: "\r\n").map {
                String($0.drop { $0 != "," })
            }.sorted()
        }
        for by in ["account", "sender"] {
            let r = try run(["summary", "--db", db, "--by", by, "--format", "csv"])
            try #require(r.status == 0, "summary --by \(by): \(r)")
            out["summary --by \(by)"] = r.stdout.split(separator: "\r\n").map(String.init)
        }
        return out
    }

    /// Lines the database's file checkpoints cover, and whether SQLite finds it whole.
    static func inspect(_ db: String) throws -> (lines: Int, integrity: String) {
        guard FileManager.default.fileExists(atPath: db) else { return (0, "ok") }
        // Read-write, as relaysum's readers first open a database a first import was killed in: the journal it left
        // is rolled back by the first connection that can write (a read-only one fails, SQLITE_READONLY_ROLLBACK).
        let queue = try DatabaseQueue(path: db)
        return try queue.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            let lines =
                tables.contains("source_files")
                ? try Int.fetchOne(db, sql: "SELECT coalesce(sum(lines), 0) FROM source_files") ?? 0 : 0
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
            return (lines, integrity)
        }
    }

    static func isExecutable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
}

/// A temporary directory removed at the end.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-rel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ lines: ArraySlice<String>) throws {
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path(name)))
    }

    func append(_ name: String, _ lines: ArraySlice<String>) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path(name)))
        try h.seekToEnd()
        try h.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
        try h.close()
    }
}

/// A small deterministic generator (SplitMix64), so a failing run can be repeated from its printed seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed from `RELAYSUM_TEST_SEED`, else a fresh one; printed either way.
    static func fromEnvironment(_ test: String) -> SeededGenerator {
        let seed =
            ProcessInfo.processInfo.environment["RELAYSUM_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("\(test): RELAYSUM_TEST_SEED=\(seed)")
        return SeededGenerator(seed: seed)
    }
}

/// Expects two snapshots to be equal, naming each part that differs by its sizes and first differing line.
func expectSameSnapshot(
    _ got: [String: [String]], _ want: [String: [String]], _ comment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for key in want.keys.sorted() {
        let g = got[key] ?? []
        let w = want[key] ?? []
        guard g != w else { continue }
        let i = (0..<min(g.count, w.count)).first { g[$0] != w[$0] } ?? min(g.count, w.count)
        let first = "got \(i < g.count ? g[i] : "nothing"), want \(i < w.count ? w[i] : "nothing")"
        Issue.record(
            "\(key): \(g.count) line(s), want \(w.count); first difference at line \(i): \(first) (\(comment))",
            sourceLocation: sourceLocation)
    }
}
