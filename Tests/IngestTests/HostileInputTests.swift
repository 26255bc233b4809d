import Foundation
import GRDB
import Store
import TestSupport
import Testing

@testable import Ingest

/// Logs are written by strangers: each hostile shape is read without a crash, loses nothing else, and is stored or
/// reported as stated here.
@Suite struct HostileInputTests {
    /// A temporary directory and database, ingested through the real `Ingestor`.
    final class Bench {
        let dir: URL
        var db: String { path("r.sqlite") }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-hostile-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        func write(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        }

        func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }

        func ingest(_ names: [String], configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestReport {
            var options = IngestOptions()
            options.timeZone = TimeZone(identifier: "UTC")!
            options.year = 2026
            options.batchLines = 50
            configure(&options)
            return try Ingestor(store: try RelayStore(path: db), options: options).run(paths: names.map(path))
        }

        /// `column` of every message, by queue ID then arrival.
        func messages(
            _ columns: String = "queue_id, account, sender, size, completed_at, recipients, delivered"
        )
            throws -> [[String]]
        {
            try rows("SELECT \(columns) FROM messages ORDER BY queue_id, received_at, id")
        }

        func rows(_ sql: String) throws -> [[String]] {
            let store = try RelayStore(path: db, readOnly: true)
            return try store.read { db in
                try Row.fetchAll(db, sql: sql).map { row in
                    row.databaseValues.map { v in v.isNull ? "-" : (String.fromDatabaseValue(v) ?? "\(v)") }
                }
            }
        }
    }

    /// One Postfix message of three lines and its `removed`, with `sender` and `size` as given.
    static func postfixMessage(
        _ qid: String, minute: Int, login: String = "alice", sender: String = "a@shop.example", size: String = "1200"
    ) -> String {
        let m = String(format: "%02d", minute)
        return """
            Nov  9 00:\(m):01 relay1 postfix/smtpd[10]: \(qid): client=a.example[192.0.2.1], sasl_method=PLAIN, \
            sasl_username=\(login)
            Nov  9 00:\(m):02 relay1 postfix/qmgr[11]: \(qid): from=<\(sender)>, size=\(size), nrcpt=1 (queue active)
            Nov  9 00:\(m):03 relay1 postfix/smtp[12]: \(qid): to=<b@dest.example>, relay=mx.dest.example\
            [203.0.113.5]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
            Nov  9 00:\(m):04 relay1 postfix/qmgr[11]: \(qid): removed

            """
    }

    @Test func nulBytesArePaddingOrReadAsReplacementCharacters() throws {
        let b = try Bench()
        // Crash padding before a line, and NULs inside a login and a sender address.
        var bytes = Array(Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1, login: "al\u{0}ice").utf8)
        let third = bytes.indices.filter { bytes[$0] == 0x0A }[1] + 1
        bytes.insert(contentsOf: [UInt8](repeating: 0, count: 4096), at: third)
        bytes += Array(Self.postfixMessage("4NmB2q0Bt7z9vKq", minute: 2, sender: "b\u{0}@shop.example").utf8)
        try b.write("nul.log", bytes)
        let report = try b.ingest(["nul.log"])
        #expect(report.linesWithNUL == 3)
        #expect(report.stats.unparsed == 0)
        #expect(
            try b.messages() == [
                ["4NmB1q0Bt7z9vKp", "sasl:al\u{FFFD}ice", "a@shop.example", "1200", "1794182464", "1", "1"],
                ["4NmB2q0Bt7z9vKq", "sasl:alice", "b\u{FFFD}@shop.example", "1200", "1794182524", "1", "1"],
            ])
    }

    @Test func invalidUTF8IsStoredWithReplacementCharacters() throws {
        let b = try Bench()
        var bytes = Array(Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1, sender: "XX@shop.example").utf8)
        let at = try #require(bytes.firstIndex(of: UInt8(ascii: "X")))
        bytes.replaceSubrange(at..<at + 2, with: [0xFF, 0xC3])  // an invalid byte and a cut-off sequence
        try b.write("bad.log", bytes)
        let report = try b.ingest(["bad.log"])
        #expect(report.stats.unparsed == 0)
        #expect(try b.messages("sender, sender_domain") == [["\u{FFFD}\u{FFFD}@shop.example", "shop.example"]])
    }

    @Test func aOneMegabyteLineIsSkippedAndReportedAndTheRestIsRead() throws {
        let b = try Bench()
        let long = "Nov  9 00:01:01 relay1 postfix/smtpd[10]: " + String(repeating: "x", count: 1 << 20)
        let lines = Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1).split(separator: "\n").map(String.init)
        try b.write("long.log", ([lines[0], long, long] + lines[1...]).joined(separator: "\n") + "\n")
        let report = try b.ingest(["long.log"])
        #expect(report.overlongLines == 2)
        #expect(report.stats.unparsedKinds == ["line longer than 65536 bytes": 2])
        #expect(report.examples["line longer than 65536 bytes"]?.map(\.line) == [2, 3])
        #expect(try b.messages("queue_id, delivered, completed_at") == [["4NmB1q0Bt7z9vKp", "1", "1794182464"]])
    }

    @Test func aLiveFileWithoutAFinalNewlineKeepsItsLastLineForTheNextRun() throws {
        let b = try Bench()
        let text = Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1)
        try b.write("mail.log", String(text.dropLast()))
        let first = try b.ingest(["mail.log"])
        #expect(
            first.files[0].heldBackBytes == "Nov  9 00:01:04 relay1 postfix/qmgr[11]: 4NmB1q0Bt7z9vKp: removed".count)
        #expect(try b.messages("completed_at") == [["-"]])
        try b.write("mail.log", text)
        let second = try b.ingest(["mail.log"])
        #expect(second.stats.lines == 1)
        #expect(try b.messages("completed_at, delivered") == [["1794182464", "1"]])
        // Gzip and standard input are finished: their last line is read at once.
        try b.write("copy.log", String(text.dropLast()))
        try ProcessRun.check("/usr/bin/env", ["gzip", "-n", b.path("copy.log")])
        let other = try Bench()
        try FileManager.default.copyItem(atPath: b.path("copy.log.gz"), toPath: other.path("copy.log.gz"))
        _ = try other.ingest(["copy.log.gz"])
        #expect(try other.messages("completed_at") == [["1794182464"]])
    }

    @Test func crlfLineEndsReadAsLF() throws {
        let lf = try Bench()
        let text = Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1) + Self.postfixMessage("4NmB2q0Bt7z9vKq", minute: 2)
        try lf.write("mail.log", text)
        _ = try lf.ingest(["mail.log"])
        let crlf = try Bench()
        try crlf.write("mail.log", text.replacingOccurrences(of: "\n", with: "\r\n"))
        let report = try crlf.ingest(["mail.log"])
        #expect(report.stats.unparsed == 0)
        #expect(try crlf.messages() == lf.messages())
        #expect(try crlf.messages().count == 2)
    }

    struct Overflow: Sendable, CustomTestStringConvertible {
        var log: String
        /// `size, nrcpt` as stored.
        var stored: [String]
        var testDescription: String { log }
    }

    /// Numbers too large for 64 bits are stored as unknown, not wrapped or trapped; the message stays.
    @Test(arguments: [
        Overflow(
            log: postfixMessage("4NmB1q0Bt7z9vKp", minute: 1, size: "99999999999999999999"), stored: ["-", "1"]),
        Overflow(
            log: postfixMessage("4NmB1q0Bt7z9vKp", minute: 1, size: "9223372036854775808"), stored: ["-", "1"]),
        Overflow(
            log: postfixMessage("4NmB1q0Bt7z9vKp", minute: 1, size: "9223372036854775807"),
            stored: ["9223372036854775807", "1"]),
        Overflow(
            log: postfixMessage("4NmB1q0Bt7z9vKp", minute: 1).replacingOccurrences(
                of: "nrcpt=1", with: "nrcpt=99999999999999999999"), stored: ["1200", "-"]),
        Overflow(
            log: """
                2026-11-09 00:00:01 1xQ5bl-000000002Lx-1Osk <= a@a.example H=a.example [192.0.2.1] P=esmtpsa \
                A=plain:alice S=99999999999999999999 id=1@a.example
                2026-11-09 00:00:05 1xQ5bl-000000002Lx-1Osk Completed

                """, stored: ["-", "-"]),
    ])
    func overflowingNumbersAreStoredAsUnknown(_ c: Overflow) throws {
        let b = try Bench()
        try b.write("mail.log", c.log)
        let report = try b.ingest(["mail.log"])
        #expect(report.stats.unparsed == 0)
        #expect(try b.messages("size, nrcpt") == [c.stored])
    }

    struct BadDate: Sendable, CustomTestStringConvertible {
        var line: String
        var kind: String
        var testDescription: String { line }
    }

    /// Dates that cannot exist are unparsed lines of a named kind, never a time in another month.
    @Test(arguments: [
        BadDate(line: "Nov 31 00:02:49 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(line: "Feb 29 00:02:49 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(line: "Nov  9 24:00:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(line: "Nov  9 23:61:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(line: "Nov 00 10:00:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(
            line: "2026-02-30T00:02:49+00:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(
            line: "2026-13-01T00:02:49+00:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(
            line: "2026-11-09T00:02:49+25:00 relay1 postfix/qmgr[2]: 4NmB1q0Bt7z9vKp: removed", kind: "impossible date"),
        BadDate(line: "2026-04-31 00:00:05 1xQ5bl-000000002Lx-1Osk Completed", kind: "impossible date"),
        BadDate(line: "2026-11-09 25:00:05 1xQ5bl-000000002Lx-1Osk Completed", kind: "impossible date"),
    ])
    func impossibleDatesAreUnparsed(_ c: BadDate) throws {
        let b = try Bench()
        try b.write("mail.log", c.line + "\n")
        let report = try b.ingest(["mail.log"])
        #expect(report.stats.unparsedKinds == ["envelope: \(c.kind)": 1])
    }

    /// Program names come from the log: a kind never carries terminal control codes, and lines made up to differ
    /// in their program name cannot make the report (and `ingest_runs`) grow without end.
    @Test func unparsedKindsAreFreeOfControlCodesAndBounded() throws {
        let b = try Bench()
        var text = "Nov  9 00:00:01 relay1 postfix/\u{1B}]2;owned\u{07}\u{9B}31m[12]: 4NmB1q0Bt7z9vKp: what\n"
        for i in 0..<300 { text += "Nov  9 00:00:01 relay1 postfix/d\(i)[12]: 4NmB1q0Bt7z9vKp: what\n" }
        try b.write("mail.log", text)
        let report = try b.ingest(["mail.log"])
        #expect(report.stats.unparsed == 301)
        #expect(report.stats.unparsedKinds.count == Ingestor.maxUnparsedKinds + 1)
        #expect(report.stats.unparsedKinds["other kinds (more than 50)"] == 251)
        #expect(report.stats.unparsedKinds["postfix/?]2;owned??31m: unknown queue-ID message"] == 1)
        #expect(!report.stats.unparsedKinds.keys.joined().unicodeScalars.contains(where: Ingestor.isControl))
    }

    /// copytruncate racing a run: lines the MTA wrote between logrotate's copy and its truncate were read from the
    /// live file, so the rotated copy is shorter than what was read. It adds nothing; a file truncated in place and
    /// refilled (the same inode) is read again from its start.
    @Test func aRotatedCopyShorterThanWhatWasReadAddsNothing() throws {
        let b = try Bench()
        let text = (1...6).map { Self.postfixMessage(String(format: "4NmB%dq0Bt7z9vKp", $0), minute: $0) }.joined()
        try b.write("mail.log", text)
        _ = try b.ingest(["mail.log"])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Longer than the 1 KiB fingerprint, shorter than the file.
        try b.write("mail.log.1", lines.prefix(18).joined(separator: "\n") + "\n")
        let copy = try b.ingest(["mail.log.1"])
        #expect(copy.stats.lines == 0)
        #expect(copy.files[0].note == "already ingested (a shorter copy of a file read further)")
        #expect(try b.messages("queue_id, delivered").count == 6)
        // The same file truncated in place and refilled with the same start: read again from the top.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: b.path("mail.log")))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data((lines.prefix(16).joined(separator: "\n") + "\n").utf8))
        try handle.close()
        let again = try b.ingest(["mail.log"])
        #expect(again.stats.lines == 16)
    }

    @Test func aPostfixQueueIDReusedInOneFileIsTwoMessages() throws {
        let b = try Bench()
        // Short queue IDs come round again; the first message's `removed` was not logged.
        let first = Self.postfixMessage("7E1F0E0403", minute: 1, login: "alice").split(separator: "\n").dropLast()
        let second = Self.postfixMessage("7E1F0E0403", minute: 2, login: "bob")
        try b.write("mail.log", first.joined(separator: "\n") + "\n" + second)
        _ = try b.ingest(["mail.log"])
        #expect(
            try b.messages("queue_id, account, completed_at, delivered") == [
                ["7E1F0E0403", "sasl:alice", "-", "1"], ["7E1F0E0403", "sasl:bob", "1794182524", "1"],
            ])
    }

    @Test func anEximMessageIDReusedInOneFileIsTwoMessages() throws {
        let b = try Bench()
        try b.write(
            "mainlog",
            """
            2026-11-09 00:00:01 1xQ5bl-000000002Lx-1Osk <= a@a.example H=a.example [192.0.2.1] P=esmtpsa A=plain:alice S=5
            2026-11-09 00:00:02 1xQ5bl-000000002Lx-1Osk => b@b.example R=dnslookup T=remote_smtp H=mx.b.example [203.0.113.5]
            2026-11-09 00:00:03 1xQ5bl-000000002Lx-1Osk <= c@c.example H=c.example [192.0.2.3] P=esmtpsa A=plain:carol S=10
            2026-11-09 00:00:04 1xQ5bl-000000002Lx-1Osk => d@d.example R=dnslookup T=remote_smtp H=mx.d.example [203.0.113.6]
            2026-11-09 00:00:05 1xQ5bl-000000002Lx-1Osk Completed

            """)
        _ = try b.ingest(["mainlog"])
        #expect(
            try b.messages("account, sender, size, completed_at, recipients") == [
                ["sasl:alice", "a@a.example", "5", "-", "1"], ["sasl:carol", "c@c.example", "10", "1794182405", "1"],
            ])
        #expect(
            try b.rows("SELECT m.account, r.address FROM recipients r JOIN messages m ON m.id = r.message ORDER BY 1")
                == [["sasl:alice", "b@b.example"], ["sasl:carol", "d@d.example"]])
    }

    @Test func aMessageWhoseEndNeverComesIsAgedOutAfterTenDaysOfLogTime() throws {
        let b = try Bench()
        let open = Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1).split(separator: "\n").dropLast()
        try b.write("mail.log", open.joined(separator: "\n") + "\n")
        let first = try b.ingest(["mail.log"])
        #expect(first.expiredOpenEntries == 0)
        #expect(try b.rows("SELECT count(*) FROM open_states") == [["1"]])
        // Eleven days later, on the same relay.
        try b.write(
            "mail.log.new",
            Self.postfixMessage("4NmB2q0Bt7z9vKq", minute: 5).replacingOccurrences(
                of: "Nov  9", with: "Nov 20"))
        let later = try b.ingest(["mail.log.new"])
        #expect(later.expiredOpenEntries == 1)
        #expect(try b.rows("SELECT count(*) FROM open_states") == [["0"]])
        #expect(
            try b.messages("queue_id, completed_at, delivered") == [
                ["4NmB1q0Bt7z9vKp", "-", "1"], ["4NmB2q0Bt7z9vKq", "1795133104", "1"],
            ])
    }

    struct Flood: Sendable, CustomTestStringConvertible {
        var mta: MTA
        var testDescription: String { mta.rawValue }

        /// Line `i` of a flood of messages that are accepted and never end.
        func line(_ i: Int) -> String {
            let t = String(format: "%02d:%02d:%02d", i / 3600 % 24, i / 60 % 60, i % 60)
            switch mta {
            case .postfix:
                let qid = String(format: "4N%013X", i)
                return "Nov  9 \(t) relay1 postfix/qmgr[11]: \(qid): from=<u\(i)@shop.example>, size=10, nrcpt=1 "
                    + "(queue active)"
            case .exim:
                let id = String(format: "1xQ5bl-%011X-1Osk", i)
                return "2026-11-09 \(t) \(id) <= u\(i)@shop.example H=a.example [192.0.2.1] P=esmtp S=10"
            }
        }
    }

    /// Messages whose lines never complete cannot exhaust memory: the open set stays under the cap, the least
    /// recently seen are closed as they stand (their rows stay) and counted.
    @Test(arguments: [Flood(mta: .postfix), Flood(mta: .exim)])
    func openMessagesStayUnderTheCap(_ flood: Flood) throws {
        let b = try Bench()
        let n = 30_000
        try b.write("mail.log", (0..<n).map(flood.line).joined(separator: "\n") + "\n")
        let report = try b.ingest(["mail.log"]) {
            $0.maxOpenMessages = 2_000
            $0.batchLines = 5_000
        }
        #expect(report.peakOpenMessages > 2_000)
        #expect(report.peakOpenMessages <= 2_000 + 1_024)
        let saved = try #require(Int(try b.rows("SELECT count(*) FROM open_states")[0][0]))
        #expect(saved <= 2_000)
        #expect(report.evictedOpenEntries == n - saved)
        if flood.mta == .exim {
            // Every message is stored whether or not it was evicted (Postfix: those with no arrival are not).
            #expect(try b.rows("SELECT count(*) FROM messages") == [["\(n)"]])
        }
        // The oldest went first.
        let oldestOpen = try b.rows("SELECT min(last_seen) FROM open_states")[0][0]
        #expect(Int(oldestOpen)! > 1_794_182_400 + n - 2_000 - 1_024)
    }

    /// A gzip file whose second member is corrupt: the first member's lines are stored, the error names the file and
    /// the compressed offset, and running again neither repeats nor loses anything.
    @Test func aCorruptGzipMemberKeepsWhatCameBeforeAndNamesTheOffset() throws {
        let b = try Bench()
        let one = Self.postfixMessage("4NmB1q0Bt7z9vKp", minute: 1)
        let two = Self.postfixMessage("4NmB2q0Bt7z9vKq", minute: 2)
        try b.write("one.log", one)
        try b.write("two.log", two)
        for name in ["one.log", "two.log"] {
            try ProcessRun.check("/usr/bin/env", ["gzip", "-n", b.path(name)])
        }
        let first = try Data(contentsOf: URL(fileURLWithPath: b.path("one.log.gz")))
        var second = [UInt8](try Data(contentsOf: URL(fileURLWithPath: b.path("two.log.gz"))))
        for i in 12..<second.count - 8 { second[i] ^= 0x5A }  // the deflate data, not the header
        try b.write("mail.log.2.gz", [UInt8](first) + second)
        let report = try b.ingest(["mail.log.2.gz"])
        let error = try #require(report.files.first?.error)
        #expect(error.hasPrefix("\(b.path("mail.log.2.gz")): corrupt gzip data at compressed byte "), "\(error)")
        let offset = try #require(Int(error.split(separator: " ")[7]))
        #expect(offset >= first.count && offset < first.count + second.count)
        #expect(try b.messages("queue_id, completed_at") == [["4NmB1q0Bt7z9vKp", "1794182464"]])
        let again = try b.ingest(["mail.log.2.gz"])
        #expect(again.files.first?.error == error)
        #expect(again.stats.lines == 0)
        #expect(try b.messages("queue_id, completed_at") == [["4NmB1q0Bt7z9vKp", "1794182464"]])
    }
}
