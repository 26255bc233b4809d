import Foundation
import Reports
import Store
import TestSupport
import Testing

/// SplitMix64: a small seeded generator, so a failing split can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generated relay logs (`Benchmarks/genlog.py`), made once per test process.
enum GeneratedLogs {
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var dirs: [String: URL] = [:]
    }

    private static let cache = Cache()

    /// A `--mta both` run; `postfix/mail.log` and `exim/mainlog` beneath it, with their truth files.
    static func directory(_ arguments: [String]) throws -> URL {
        let key = arguments.joined(separator: " ")
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let dir = cache.dirs[key] { return dir }
        let dir = try TemporaryDirectories.make("gen")
        try ProcessRun.check(
            try #require(ReportPaths.python),
            [ReportPaths.packageRoot.appendingPathComponent("Benchmarks/genlog.py").path, "--quiet", "--out", dir.path]
                + arguments)
        cache.dirs[key] = dir
        return dir
    }
}

/// The aggregates equal a GROUP BY over the stored rows however the log is cut into ingests, with open
/// messages rewritten and content-filter copies merged and deleted across transactions; and reports read through
/// them equal reports read from the rows alone, for any `--since`/`--until`.
@Suite struct AggregateConsistencyTests {
    struct Split: Sendable, CustomTestStringConvertible {
        var mta: String
        var seed: UInt64
        var testDescription: String { "\(mta), seed \(seed)" }
    }

    static let logArguments = ["--mta", "both", "--messages", "1500", "--days", "2", "--seed", "21"]

    @Test(
        .enabled(if: ReportPaths.python != nil, "python3 is not installed"),
        arguments: [
            Split(mta: "postfix", seed: 1), Split(mta: "postfix", seed: 2), Split(mta: "postfix", seed: 3),
            Split(mta: "exim", seed: 4), Split(mta: "exim", seed: 5),
        ])
    func aggregatesStayExactAcrossRandomSplits(_ split: Split) throws {
        if split.mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let dir = try GeneratedLogs.directory(Self.logArguments)
        let name = split.mta == "postfix" ? "mail.log" : "mainlog"
        let full = try Data(contentsOf: dir.appendingPathComponent("\(split.mta)/\(name)"))
        var rng = SeededGenerator(seed: split.seed)
        let cuts =
            (0..<Int.random(in: 6...14, using: &rng)).map { _ in Int.random(in: 0..<full.count, using: &rng) }
            .sorted() + [full.count]
        let db = try ScratchDatabase()
        let live = db.dir.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: live.path, contents: nil)
        var written = 0
        for cut in cuts where cut > written {
            let h = try FileHandle(forWritingTo: live)
            try h.seekToEnd()
            try h.write(contentsOf: full[written..<cut])
            try h.close()
            written = cut
            try db.ingest([live.path], batchLines: [7, 97, 997, 20_000].randomElement(using: &rng)!)
            let store = try db.store()
            let mismatches = try store.aggregateMismatches()
            #expect(mismatches.isEmpty, "after \(written) of \(full.count) bytes: \(mismatches.prefix(3))")
            try Self.expectSameReports(store, rng: &rng)
        }
        // And the whole equals the relay's own records.
        let store = try db.store()
        let truth = try GeneratedTruth(dir.appendingPathComponent(split.mta))
        #expect(try GeneratedTruth.totals(store, by: .sender) == truth.sender)
        #expect(try GeneratedTruth.totals(store, by: .account) == truth.account)
    }

    /// Every grouping and the licence uses, through the aggregates and from the rows, over random windows.
    static func expectSameReports(_ store: RelayStore, rng: inout SeededGenerator) throws {
        let start = utc("2026-11-07T00:00:00Z") - 3600
        let end = utc("2026-11-09T01:00:00Z")
        var windows: [(Int64?, Int64?)] = [(nil, nil)]
        for _ in 0..<3 {
            let a = Int64.random(in: start...end, using: &rng)
            let b = Int64.random(in: start...end, using: &rng)
            windows.append((min(a, b), max(a, b)))
        }
        windows.append((Int64.random(in: start...end, using: &rng) / 3600 * 3600, nil))
        windows.append((nil, Int64.random(in: start...end, using: &rng) / 60 * 60))
        for (since, until) in windows {
            let filter = MessageFilter(since: since, until: until)
            for g in SummaryGrouping.allCases {
                let fast = try store.summary(SummaryRequest(grouping: g, filter: filter, sort: .key))
                let slow = try store.summary(SummaryRequest(grouping: g, filter: filter, sort: .key, source: .rows))
                let diff = zip(fast, slow).first { $0 != $1 }.map { "\($0.0.row) != \($0.1.row)" }
                #expect(
                    fast == slow,
                    "\(g) \(String(describing: since))..<\(String(describing: until)): \(fast.count) vs \(slow.count) rows, \(diff ?? "")"
                )
            }
            #expect(try store.licenseUses(filter: filter) == store.licenseUses(filter: filter, source: .rows))
        }
    }
}

/// The per-key records `genlog.py` writes beside its logs: `key → [messages, recipients, delivered, deferred,
/// bounced, bytes]`.
struct GeneratedTruth {
    var sender: [String: [Int64]]
    var account: [String: [Int64]]
    var totals: [String: Any]

    init(_ dir: URL) throws {
        sender = try Self.read(dir.appendingPathComponent("truth-sender.csv"))
        account = try Self.read(dir.appendingPathComponent("truth-account.csv"))
        let json = try Data(contentsOf: dir.appendingPathComponent("truth-totals.json"))
        totals = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
    }

    static func read(_ url: URL) throws -> [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        // Keys of the simulation have no commas.
        for row in try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            out[f[0]] = f[1...].map { Int64($0)! }
        }
        return out
    }

    /// The truth per sender domain (lower-cased part after the last `@`; `(none)` for the null sender).
    var senderDomain: [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        for (sender, v) in self.sender {
            let key = MessageRecord.domain(of: sender) ?? "(none)"
            out[key] = zip(out[key] ?? Array(repeating: 0, count: v.count), v).map(+)
        }
        return out
    }

    /// A summary as `key → [messages, recipients, delivered, deferred, bounced, bytes]` (`(none)` for no key).
    static func totals(
        _ store: RelayStore, by g: SummaryGrouping, filter: MessageFilter = MessageFilter()
    ) throws
        -> [String: [Int64]]
    {
        var out: [String: [Int64]] = [:]
        for r in try store.summary(by: g, filter: filter, top: nil) {
            out[r.key ?? "(none)"] = [r.messages, r.recipients, r.delivered, r.deferred, r.bounced, r.bytes]
        }
        return out
    }
}
