import Foundation
import GRDB
import Store
import TestSupport
import Testing

@testable import Ingest

/// Open messages whose recipients are kept only in their saved state (`IngestOptions.residentRecipients`) and read
/// back when their next line comes or for their rows at the run's end: what is stored is what an ingest keeping
/// them all in memory stores, in one run and across runs (row ids too, in batches of the same lines).
@Suite struct SpillTests {
    /// Every table of the database at `path` as sorted text, without the run's times and the files' paths and
    /// inodes. `byContent`: message rows named by their content instead of their row id (ids follow the batches).
    static func content(of path: String, byContent: Bool = false) throws -> [String: [String]] {
        let store = try RelayStore(path: path, readOnly: true)
        return try store.read { db in
            var names: [Int64: String] = [:]
            if byContent {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM messages") {
                    names[row["id"]] = Self.text(row, leaving: ["id"])
                }
            }
            var out: [String: [String]] = [:]
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables {
                var lines: [String] = []
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") {
                    switch table {
                    case "ingest_runs":
                        // Unparsed kinds as JSON, in whatever order a dictionary lists them.
                        let kinds = (row["unparsed_kinds"] as String?).flatMap {
                            try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8))
                        }
                        lines.append(
                            Self.text(row, leaving: ["started_at", "finished_at", "unparsed_kinds"]) + " "
                                + (kinds ?? [:]).sorted { $0.key < $1.key }.description)
                    case "source_files":
                        lines.append(Self.text(row, leaving: ["path", "updated_at", "device", "inode"]))
                    case "messages" where byContent:
                        lines.append(Self.text(row, leaving: ["id"]))
                    case "recipients" where byContent:
                        lines.append((names[row["message"]] ?? "?") + " | " + Self.text(row, leaving: ["message"]))
                    case "open_states" where byContent:
                        // The body begins with the message's row id, an optional varint: left out.
                        let body = [UInt8](row["body"] as Data)
                        var at = 1
                        if body.first == 1 {
                            while body[at] >= 0x80 { at += 1 }
                            at += 1
                        }
                        lines.append(Self.text(row, leaving: ["body"]) + " | " + body[at...].map(String.init).joined())
                    default:
                        lines.append(Self.text(row, leaving: []))
                    }
                }
                out[table] = lines.sorted()
            }
            return out
        }
    }

    private static func text(_ row: Row, leaving: Set<String>) -> String {
        row.columnNames.filter { !leaving.contains($0) }.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(
            separator: " ")
    }

    /// Ingests `files` (in `runs` runs, each reading what the files hold by then) into a new database with
    /// `budget`; returns the database's content and the reports.
    static func ingest(
        _ runs: [[URL]], budget: Int?, batchLines: Int, batchesPerCommit: Int = IngestOptions().batchesPerCommit,
        byContent: Bool = false, in dir: URL
    ) throws -> (content: [String: [String]], reports: [IngestReport], db: String) {
        let db = dir.appendingPathComponent("budget-\(budget ?? 0)-\(UUID().uuidString).sqlite").path
        var reports: [IngestReport] = []
        for files in runs {
            var options = IngestOptions()
            options.timeZone = TimeZone(identifier: "UTC")!
            options.year = 2026
            options.batchLines = batchLines
            options.residentRecipients = budget
            options.batchesPerCommit = batchesPerCommit
            reports.append(
                try Ingestor(store: try RelayStore(path: db), options: options).run(paths: files.map(\.path)))
        }
        return (try content(of: db, byContent: byContent), reports, db)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-spill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func expectSame(_ a: [String: [String]], _ b: [String: [String]]) {
        #expect(a.keys.sorted() == b.keys.sorted())
        for table in a.keys.sorted() {
            let x = a[table] ?? []
            let y = b[table] ?? []
            #expect(x.count == y.count, "\(table): \(x.count) rows kept all, \(y.count) spilled")
            let missing = Set(x).subtracting(y).sorted().prefix(3)
            let extra = Set(y).subtracting(x).sorted().prefix(3)
            #expect(missing.isEmpty && extra.isEmpty, "\(table): only kept-all \(missing), only spilled \(extra)")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var mta: String
        var arguments: [String]
        var testDescription: String { mta + " " + arguments.joined(separator: " ") }
    }

    /// A generated relay's log (list messages, deferrals, a content filter) with a budget of a few recipients
    /// stores what keeping all in memory does, and did spill and read back; and a commit after every batch stores
    /// the same as one after several.
    @Test(
        .enabled(if: GeneratedTruthTests.python != nil, "python3 is not installed: generated-log tests skipped"),
        arguments: [
            Case(mta: "postfix", arguments: ["--queue-ids", "short", "--filter-share", "0.3"]),
            Case(mta: "postfix", arguments: ["--queue-ids", "long"]),
            Case(mta: "exim", arguments: ["--exim-ids", "old"]),
            Case(mta: "exim", arguments: ["--exim-ids", "new"]),
        ])
    func generatedLogStoresTheSame(_ c: Case) throws {
        let gen = try GeneratedTruthTests.generate(
            [
                "--mta", c.mta, "--messages", "1500", "--days", "2", "--seed", "7", "--p-defer", "0.15", "--p-stuck",
                "0.02",
            ]
                + c.arguments)
        defer { try? FileManager.default.removeItem(at: gen) }
        let log = gen.appendingPathComponent(c.mta == "postfix" ? "mail.log" : "mainlog")
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Self.ingest([[log]], budget: nil, batchLines: 400, in: dir)
        let spilled = try Self.ingest([[log]], budget: 30, batchLines: 400, in: dir)
        // Row ids aside: the messages still open at the end are written in another order.
        let everyBatch = try Self.ingest(
            [[log]], budget: 30, batchLines: 400, batchesPerCommit: 1, byContent: true, in: dir)
        #expect(everyBatch.reports[0].spilledOpenMessages > spilled.reports[0].spilledOpenMessages)
        #expect(all.reports[0].spilledOpenMessages == 0)
        #expect(spilled.reports[0].spilledOpenMessages > 50)
        #expect(spilled.reports[0].reloadedOpenMessages > 25)
        #expect((all.content["messages"] ?? []).count > 1_000)
        Self.expectSame(all.content, spilled.content)
        Self.expectSame(try Self.content(of: all.db, byContent: true), everyBatch.content)
    }

    /// Batches that end because the open messages in memory hold twice the budget (checked every 8,192 lines): the
    /// same content, message row ids aside (they follow the batches, as with any other batch size).
    @Test(
        .enabled(if: GeneratedTruthTests.python != nil, "python3 is not installed: generated-log tests skipped"),
        arguments: ["postfix", "exim"])
    func batchesEndedByTheBoundStoreTheSame(_ mta: String) throws {
        let gen = try GeneratedTruthTests.generate(
            ["--mta", mta, "--messages", "8000", "--days", "1", "--seed", "5", "--p-defer", "0.2"])
        defer { try? FileManager.default.removeItem(at: gen) }
        let log = gen.appendingPathComponent(mta == "postfix" ? "mail.log" : "mainlog")
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ budget: Int?) throws -> (content: [String: [String]], report: IngestReport, openStates: Int) {
            let db = dir.appendingPathComponent("bound-\(budget ?? 0).sqlite").path
            var options = IngestOptions()
            options.timeZone = TimeZone(identifier: "UTC")!
            options.year = 2026
            options.batchLines = 1_000_000
            options.residentRecipients = budget
            let report = try Ingestor(store: try RelayStore(path: db), options: options).run(paths: [log.path])
            let open = try RelayStore(path: db, readOnly: true)
            let states = try open.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM open_states") ?? 0 }
            return (try Self.content(of: db, byContent: true), report, states)
        }
        let all = try run(nil)
        let spilled = try run(5)
        // Spilled only after the second batch, so after two bounds: few in a short Exim log.
        #expect(spilled.report.spilledOpenMessages > 0)
        #expect(spilled.report.reloadedOpenMessages > 0)
        #expect(all.openStates > 0)
        Self.expectSame(all.content, spilled.content)
    }

    /// The fixture logs (queue-ID reuse, re-injected copies, frozen and removed messages, …) with tiny batches and a
    /// budget of one recipient.
    @Test func fixtureLogsStoreTheSame() throws {
        let root = TestPaths.packageRoot.appendingPathComponent("Fixtures/logs")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var spills = 0
        var reloads = 0
        for mta in ["postfix", "exim", "sample"] where names.contains(mta) {
            let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(mta).path)
                .filter { $0.hasSuffix(".log") || $0.hasPrefix("mail.log") || $0.hasPrefix("mainlog") }.sorted()
            for file in files {
                let url = root.appendingPathComponent(mta).appendingPathComponent(file)
                let all = try Self.ingest([[url]], budget: nil, batchLines: 3, in: dir)
                let spilled = try Self.ingest([[url]], budget: 1, batchLines: 3, in: dir)
                spills += spilled.reports[0].spilledOpenMessages
                reloads += spilled.reports[0].reloadedOpenMessages
                Self.expectSame(all.content, spilled.content)
            }
        }
        #expect(spills > 100)
        #expect(reloads > 20)
    }

    /// A run that ends with messages spilled leaves their rows and states stored: the next run, reading on in the
    /// grown file, continues them as if they had been kept.
    @Test(
        .enabled(if: GeneratedTruthTests.python != nil, "python3 is not installed: generated-log tests skipped"),
        arguments: ["postfix", "exim"])
    func spilledMessagesContinueInTheNextRun(_ mta: String) throws {
        let gen = try GeneratedTruthTests.generate(
            ["--mta", mta, "--messages", "2400", "--days", "2", "--seed", "9", "--p-defer", "0.2"])
        defer { try? FileManager.default.removeItem(at: gen) }
        let full = gen.appendingPathComponent(mta == "postfix" ? "mail.log" : "mainlog")
        let text = try String(contentsOf: full, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let half = lines[..<(lines.count / 2)].joined(separator: "\n") + "\n"
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ log: URL, _ db: String, _ budget: Int?) throws -> IngestReport {
            var options = IngestOptions()
            options.timeZone = TimeZone(identifier: "UTC")!
            options.year = 2026
            options.batchLines = 300
            options.residentRecipients = budget
            return try Ingestor(store: try RelayStore(path: db), options: options).run(paths: [log.path])
        }
        // One growing file per database: its first half, then all of it, appended in place.
        var logs: [URL] = []
        for name in ["all.log", "spilled.log"] {
            let url = dir.appendingPathComponent(name)
            try half.write(to: url, atomically: false, encoding: .utf8)
            logs.append(url)
        }
        let dbAll = dir.appendingPathComponent("all.sqlite").path
        let dbSpilled = dir.appendingPathComponent("spilled.sqlite").path
        _ = try run(logs[0], dbAll, nil)
        let first = try run(logs[1], dbSpilled, 5)
        #expect(first.spilledOpenMessages > 10)
        // Messages still open at the run's end, some of them spilled: their states are stored.
        #expect(try Self.content(of: dbSpilled)["open_states"]?.count ?? 0 > 10)
        Self.expectSame(try Self.content(of: dbAll), try Self.content(of: dbSpilled))
        for url in logs {
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8.dropFirst(half.utf8.count)))
            try handle.close()
        }
        _ = try run(logs[0], dbAll, nil)
        let second = try run(logs[1], dbSpilled, 5)
        #expect(second.reloadedOpenMessages > 10)
        Self.expectSame(try Self.content(of: dbAll), try Self.content(of: dbSpilled))
    }

    /// A spilled message whose saved state is gone when its next line comes (the database changed under the
    /// ingest): the read-back failure is kept, with its reason, for the ingest to end the run at its next commit.
    @Test func aSpilledMessageWhoseStateIsGoneIsAReadFailure() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        let correlator = PostfixCorrelator(rowIDs: RowIDAllocator(next: 1))
        let feeder = try CorrelatorFeed(correlator, path: path, file: "t.log")
        func feed(_ lines: [String]) { feeder.feed(lines) }
        func flushAndWrite() throws { try feeder.flushAndWrite() }
        let deferred =
            "postfix/smtp[103]: 4AB12C3D: to=<r@dest.example>, relay=mx.dest.example[198.51.100.1]:25, delay=1, "
            + "delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.dest.example: Connection timed out)"
        feed([
            "Nov  9 10:00:00 relay1 postfix/smtpd[100]: 4AB12C3D: client=unknown[192.0.2.5], sasl_method=PLAIN, "
                + "sasl_username=u1",
            "Nov  9 10:00:00 relay1 postfix/cleanup[101]: 4AB12C3D: message-id=<a@shop.example>",
            "Nov  9 10:00:00 relay1 postfix/qmgr[102]: 4AB12C3D: from=<a@shop.example>, size=1000, nrcpt=1 "
                + "(queue active)",
            "Nov  9 10:00:01 relay1 " + deferred,
        ])
        try flushAndWrite()  // its state saved
        try flushAndWrite()  // a batch without it: it may be spilled
        correlator.spill(beyond: 0, reader: try OpenStateReader(path: path))
        #expect(correlator.spillCounts.spilled == 1)
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "DELETE FROM open_states") }
        #expect(correlator.readFailure == nil)
        feed(["Nov  9 11:00:01 relay1 " + deferred])
        #expect(correlator.spillCounts.reloaded == 1)
        let failure = try #require(correlator.readFailure)
        #expect("\(failure)".contains("a spilled open message's saved state is missing"), "\(failure)")
    }
}

/// Review of the batches-per-commit change: a flush that commits must save every open message changed since the
/// last commit, whatever else it reads back.
@Suite struct CommitPointTests {
    /// The run's first final flush commits the batches queued before it (their checkpoints are at the files' ends):
    /// the open messages left `stale` by those batches must have their states in it. Expired spilled messages read
    /// back first must not push them to a later final batch (a crash or a failed write between the two would leave
    /// committed checkpoints past lines whose changes no committed state holds).
    @Test func theFirstFinalFlushSavesTheStatesOfStaleMessages() throws {
        func message(_ qid: String, day: String) -> [String] {
            [
                "Nov \(day) 10:00:00 relay1 postfix/smtpd[100]: \(qid): client=unknown[192.0.2.5]",
                "Nov \(day) 10:00:00 relay1 postfix/qmgr[102]: \(qid): from=<a@shop.example>, size=1000, nrcpt=2 "
                    + "(queue active)",
                "Nov \(day) 10:00:01 relay1 postfix/smtp[103]: \(qid): to=<r@dest.example>, "
                    + "relay=mx.dest.example[198.51.100.1]:25, delay=1, delays=0/0/1/0, dsn=4.4.1, "
                    + "status=deferred (connect to mx.dest.example: Connection timed out)",
            ]
        }
        try Self.expectTheFirstFinalFlushSavesTheStaleState(
            PostfixCorrelator(rowIDs: RowIDAllocator(next: 1)), file: "t.log",
            spilled: message("4AB12C3D", day: " 1"), stale: message("5BC23D4E", day: "25"), staleKey: "5BC23D4E")
    }

    /// The same for Exim.
    @Test func theFirstFinalFlushSavesTheStatesOfStaleEximMessages() throws {
        func message(_ id: String, day: String) -> [String] {
            [
                "2026-11-\(day) 10:00:00 \(id) <= a@shop.example H=(pc) [192.0.2.5]:1 P=esmtp S=1000 "
                    + "for r@dest.example s@dest.example",
                "2026-11-\(day) 10:00:01 \(id) == r@dest.example R=dnslookup T=remote_smtp defer (110): "
                    + "Connection timed out",
            ]
        }
        try Self.expectTheFirstFinalFlushSavesTheStaleState(
            EximCorrelator(rowIDs: RowIDAllocator(next: 1)), file: "mainlog",
            spilled: message("1xQ5bl-000000002Lx-1Osk", day: "01"),
            stale: message("1xQDle-000000002W9-0aCp", day: "25"),
            staleKey: "1xQDle-000000002W9-0aCp")
    }

    /// The scenario of both tests: `spilled`, a message of November 1st, is saved, committed and spilled; `stale`, one
    /// of the 25th, is changed in a batch that saves no states; the first expires (cutoff the 15th), and the final
    /// flush must hold `stale`'s state.
    private static func expectTheFirstFinalFlushSavesTheStaleState(
        _ correlator: any Correlator, file: String, spilled: [String], stale: [String], staleKey: String
    ) throws {
        let dir = try SpillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        let feeder = try CorrelatorFeed(correlator, path: path, file: file)
        feeder.feed(spilled)
        try feeder.flushAndWrite()  // its state saved and committed
        try feeder.flushAndWrite()  // a batch without it: it may be spilled
        correlator.spill(beyond: 0, reader: try OpenStateReader(path: path))
        #expect(correlator.spillCounts.spilled == 1)
        // Weeks later, a message changed in a batch that saves no states (not the batchesPerCommit-th).
        feeder.feed(stale)
        #expect(correlator.flush(final: false, savingStates: false).openStates.isEmpty)
        // The run's end: the first message expires; the final flush commits.
        let cutoff = try #require(
            Calendar(identifier: .gregorian).date(
                from: DateComponents(timeZone: TimeZone(identifier: "UTC"), year: 2026, month: 11, day: 15)))
        #expect(correlator.expire(lastSeenBefore: Int64(cutoff.timeIntervalSince1970)) == 1)
        let first = correlator.flush(final: true)
        #expect(
            first.openStates.contains { $0.id.key == staleKey },
            "the committing final flush left the stale message's state for a later batch")
    }
}

/// Feeds log lines to a correlator and writes its non-final flushes to a database file, as an ingest's batches.
final class CorrelatorFeed {
    let correlator: any Correlator
    let store: RelayStore
    let file: String
    var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: 2026, reference: 0)

    init(_ correlator: any Correlator, path: String, file: String) throws {
        self.correlator = correlator
        self.store = try RelayStore(path: path)
        self.file = file
    }

    /// Lines of host `relay1`; a line without a stamp is dropped.
    func feed(_ lines: [String]) {
        for line in lines {
            ByteSlice.with(line) { bytes in
                guard case .success(let env) = envelopes.parse(bytes) else { return }
                _ = correlator.consume(env, host: "relay1", position: SourcePosition(file: file, line: 1))
            }
        }
    }

    /// A commit point: the flush's rows and states, written in one transaction.
    func flushAndWrite() throws {
        let out = correlator.flush(final: false)
        var batch = WriteBatch()
        batch.messages = out.messages
        batch.openStates = out.openStates
        batch.closedStates = out.closedStates
        try store.write(batch)
    }
}
