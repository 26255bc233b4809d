import Foundation
import Ingest
import Store
import TestSupport
import Testing

/// Paths of the package, its fixtures and tools.
enum ReportPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func fixture(_ path: String) -> String {
        packageRoot.appendingPathComponent("Fixtures/logs/\(path)").path
    }

    /// Every `.log` fixture of one MTA, sorted.
    static func fixtures(_ mta: String) -> [String] {
        let dir = packageRoot.appendingPathComponent("Fixtures/logs/\(mta)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".log") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

/// Temporary directories removed when the test process exits: the ones behind the per-process caches of fixture
/// databases and generated logs are never released before.
enum TemporaryDirectories {
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var paths: [String] = []
    }

    private static let registry: Registry = {
        atexit {
            TemporaryDirectories.registry.lock.lock()
            for path in TemporaryDirectories.registry.paths { try? FileManager.default.removeItem(atPath: path) }
            TemporaryDirectories.registry.lock.unlock()
        }
        return Registry()
    }()

    /// A new directory named `relaysum-reports-<label>-<UUID>`.
    static func make(_ label: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "relaysum-reports-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        registry.lock.lock()
        registry.paths.append(dir.path)
        registry.lock.unlock()
        return dir
    }
}

/// A database in a temporary directory, removed at the end.
final class ScratchDatabase {
    let dir: URL
    var path: String { dir.appendingPathComponent("relaysum.sqlite").path }

    init() throws {
        dir = try TemporaryDirectories.make("db")
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Ingests `files` (UTC, year 2026) through the real store.
    @discardableResult
    func ingest(_ files: [String], batchLines: Int = 200_000) throws -> IngestReport {
        var options = IngestOptions()
        options.timeZone = TimeZone(identifier: "UTC")!
        options.year = 2026
        options.batchLines = batchLines
        return try Ingestor(store: try RelayStore(path: path), options: options).run(paths: files)
    }

    func store() throws -> RelayStore { try RelayStore(path: path, readOnly: true) }
}

/// Databases of the bundled fixtures, ingested once per test process.
enum FixtureDatabases {
    /// A fixed set per MTA, so a fixture added later does not change the expected rows.
    static let files = [
        "postfix": ["relay-classic.log", "stamps-and-instances.log", "rejects.log"].map {
            ReportPaths.fixture("postfix/\($0)")
        },
        "exim": ["arrivals.log", "deliveries.log", "rejects.log", "syslog.log"].map {
            ReportPaths.fixture("exim/\($0)")
        },
    ]

    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var databases: [String: ScratchDatabase] = [:]
    }

    private static let cache = Cache()

    /// The database of the fixtures of `mta` (`postfix` or `exim`).
    static func store(_ mta: String) throws -> RelayStore {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let db = cache.databases[mta] { return try db.store() }
        let db = try ScratchDatabase()
        try db.ingest(files[mta] ?? [])
        cache.databases[mta] = db
        return try db.store()
    }

    /// Whether the Exim fixtures are there and yield messages (the Exim parser is linked in).
    static let eximAvailable: Bool = {
        guard (files["exim"] ?? []).allSatisfy(FileManager.default.fileExists(atPath:)),
            let store = try? store("exim")
        else { return false }
        return ((try? store.summary(by: .sender, filter: MessageFilter(), top: nil)) ?? []).isEmpty == false
    }()
}

/// Seconds since the epoch of an ISO 8601 UTC time (`2026-11-09T00:15:00Z`).
func utc(_ text: String) -> Int64 {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return Int64(f.date(from: text)!.timeIntervalSince1970)
}

/// CSV with CRLF line ends written with LF, for readable expectations.
func lf(_ csv: String) -> String {
    csv.replacingOccurrences(of: "\r\n", with: "\n")
}

/// Runs python3 with `script`, `input` on stdin; returns stdout.
func runPython(_ script: String, input: Data) throws -> Data {
    let r = try ProcessRun.run(try #require(ReportPaths.python), ["-c", script], stdin: input)
    #expect(r.status == 0, "\(r.stderr)")
    return Data(r.stdout.utf8)
}

/// Parses CSV with Python's `csv` module (an independent reader): rows of cells.
func pythonCSV(_ csv: String) throws -> [[String]] {
    let out = try runPython(
        "import csv, io, json, sys; "
            + "print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode('utf-8'), newline='')))))",
        input: Data(csv.utf8))
    return try JSONDecoder().decode([[String]].self, from: out)
}
