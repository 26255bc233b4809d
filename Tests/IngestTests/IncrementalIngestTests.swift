import Foundation
import GRDB
import Store
import TestSupport
import Testing

@testable import Ingest

/// Exactly-once ingest through the real store on real files: again, appended, rotated, reordered.
@Suite struct IncrementalIngestTests {
    /// A temporary directory with a database, removed at the end.
    final class Workspace {
        let dir: URL
        var db: String { dir.appendingPathComponent("relaysum.sqlite").path }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        func write(_ name: String, _ lines: ArraySlice<String>) throws {
            try lines.map { $0 + "\n" }.joined().write(toFile: path(name), atomically: false, encoding: .utf8)
        }

        func append(_ name: String, _ lines: ArraySlice<String>) throws {
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path(name)))
            try h.seekToEnd()
            try h.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
            try h.close()
        }

        func move(_ from: String, _ to: String) throws {
            try FileManager.default.moveItem(atPath: path(from), toPath: path(to))
        }

        /// Compresses with the system's gzip, as logrotate does.
        func gzip(_ name: String) throws {
            try ProcessRun.check("/usr/bin/env", ["gzip", "-n", path(name)])
        }

        @discardableResult
        func ingest(_ names: [String], db: String? = nil) throws -> IngestReport {
            var options = IngestOptions()
            options.timeZone = TimeZone(identifier: "UTC")!
            options.year = 2026
            options.batchLines = 7  // many commits, so open messages cross transaction boundaries
            let store = try RelayStore(path: db ?? self.db)
            return try Ingestor(store: store, options: options).run(paths: names.map(path))
        }

        /// Every stored row, without row ids, in a stable order.
        func dump(db: String? = nil) throws -> [String] {
            let store = try RelayStore(path: db ?? self.db, readOnly: true)
            return try store.read { db in
                let messages = try String.fetchAll(
                    db,
                    sql: """
                        SELECT m.host || ' ' || m.queue_id || ' ' || m.origin || ' ' || coalesce(m.account, '-') || ' '
                            || m.sender || ' ' || coalesce(m.size, -1) || ' ' || m.received_at || ' '
                            || coalesce(m.completed_at, -1) || ' ' || m.recipients || '/' || m.delivered || '/'
                            || m.deferred || '/' || m.bounced || ' ' || coalesce(m.message_id, '-') || ' ['
                            || coalesce((SELECT group_concat(address || ':' || outcome || ':' || attempts, ',')
                                FROM (SELECT * FROM recipients r WHERE r.message = m.id ORDER BY address)), '')
                            || ']'
                        FROM messages m ORDER BY 1
                        """)
                let rejects = try String.fetchAll(
                    db,
                    sql: """
                        SELECT 'reject ' || at || ' ' || kind || ' ' || coalesce(client_ip, '-') || ' ' || reason
                        FROM rejects ORDER BY 1
                        """)
                let auth = try String.fetchAll(
                    db, sql: "SELECT 'auth ' || at || ' ' || coalesce(client_ip, '-') FROM auth_failures ORDER BY 1")
                return messages + rejects + auth
            }
        }
    }

    static func fixtureLines(_ name: String) throws -> [String] {
        let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("postfix/\(name)"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    static let lines = try! fixtureLines("relay-classic.log") + fixtureLines("rejects.log")

    /// The result of one ingest of the whole log.
    static let whole: [String] = {
        let w = try! Workspace()
        try! w.write("mail.log", lines[...])
        try! w.ingest(["mail.log"])
        return try! w.dump()
    }()

    @Test func wholeLogHasTheExpectedRows() throws {
        #expect(Self.whole.filter { $0.hasPrefix("relay1 ") }.count == 7)
        #expect(Self.whole.filter { $0.hasPrefix("reject ") }.count == 12)
        #expect(Self.whole.contains { $0.hasPrefix("relay1 7E1F0E0403 smtp ip:198.51.100.7 news@hosting.example") })
    }

    @Test func ingestingAgainAddsNothing() throws {
        let w = try Workspace()
        try w.write("mail.log", Self.lines[...])
        let first = try w.ingest(["mail.log"])
        let second = try w.ingest(["mail.log"])
        #expect(first.stats.lines == Self.lines.count)
        #expect(second.stats.lines == 0)
        #expect(second.files.first?.note == "already ingested")
        #expect(try w.dump() == Self.whole)
    }

    @Test func theSameFileTwiceInOneRunIsReadOnce() throws {
        let w = try Workspace()
        try w.write("mail.log", Self.lines[...])
        try FileManager.default.copyItem(atPath: w.path("mail.log"), toPath: w.path("copy.log"))
        let report = try w.ingest(["mail.log", "copy.log"])
        #expect(report.stats.lines == Self.lines.count)
        #expect(try w.dump() == Self.whole)
    }

    /// Every split point: a message whose lines span two runs ends whole.
    @Test(arguments: Array(1..<IncrementalIngestTests.lines.count))
    func appendedLinesGiveTheSameResultAsOneIngest(split: Int) throws {
        let w = try Workspace()
        let k = split
        try w.write("mail.log", Self.lines[..<k])
        try w.ingest(["mail.log"])
        try w.append("mail.log", Self.lines[k...])
        let report = try w.ingest(["mail.log"])
        #expect(report.stats.lines == Self.lines.count - k)
        #expect(try w.dump() == Self.whole)
    }

    /// `mail.log` grows, is renamed to `mail.log.1`, then compressed to `mail.log.2.gz` (logrotate with
    /// delaycompress), with ingests between every step and the files named in changing orders.
    @Test func rotationBetweenRunsReadsEveryLineOnce() throws {
        let w = try Workspace()
        let n = Self.lines.count
        let a = n / 4
        let b = n / 2
        let c = 3 * n / 4
        try w.write("mail.log", Self.lines[..<a])
        try w.ingest(["mail.log"])
        try w.append("mail.log", Self.lines[a..<b])
        try w.ingest(["mail.log"])
        try w.move("mail.log", "mail.log.1")
        try w.write("mail.log", Self.lines[b..<c])
        try w.ingest(["mail.log", "mail.log.1"])
        try w.move("mail.log.1", "mail.log.2")
        try w.gzip("mail.log.2")
        try w.move("mail.log", "mail.log.1")
        try w.write("mail.log", Self.lines[c...])
        let report = try w.ingest(["mail.log.2.gz", "mail.log", "mail.log.1"])
        #expect(report.stats.lines == n - c)
        #expect(try w.dump() == Self.whole)
        // Once more: everything is known, the compressed file is not even inflated again.
        let again = try w.ingest(["mail.log", "mail.log.1", "mail.log.2.gz"])
        #expect(again.stats.lines == 0)
        #expect(try w.dump() == Self.whole)
    }

    /// A rotated set ingested for the first time, files given newest first: lines are correlated in time order.
    @Test func aRotatedSetInAnyOrderEqualsOneFile() throws {
        let w = try Workspace()
        let n = Self.lines.count
        try w.write("mail.log.2", Self.lines[..<(n / 3)])
        try w.gzip("mail.log.2")
        try w.write("mail.log.1", Self.lines[(n / 3)..<(2 * n / 3)])
        try w.write("mail.log", Self.lines[(2 * n / 3)...])
        for order in [["mail.log", "mail.log.1", "mail.log.2.gz"], ["mail.log.1", "mail.log.2.gz", "mail.log"]] {
            let db = w.path("\(order[0]).sqlite")
            try w.ingest(order, db: db)
            #expect(try w.dump(db: db) == Self.whole)
        }
    }

    @Test func aTruncatedGzipKeepsEverythingBeforeTheCut() throws {
        let w = try Workspace()
        try w.write("mail.log.2", Self.lines[...])
        try w.gzip("mail.log.2")
        let data = try Data(contentsOf: URL(fileURLWithPath: w.path("mail.log.2.gz")))
        try data.prefix(data.count - 20).write(to: URL(fileURLWithPath: w.path("cut.gz")))
        let report = try w.ingest(["cut.gz"])
        #expect(report.failed)
        let error = try #require(report.files.first?.error)
        #expect(error.contains("cut.gz") && error.contains("truncated gzip member"))
        #expect(report.stats.lines > Self.lines.count - 5)
        #expect(try w.dump().count > 10)
    }
}
