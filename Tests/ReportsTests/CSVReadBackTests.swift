import Foundation
import Reports
import Store
import Testing

/// CSV that relaysum writes, read back by an independent reader (Python's `csv` module), gives exactly the cells
/// written, with cells a spreadsheet would run as formulas neutralised by a leading `'`.
@Suite(.enabled(if: ReportPaths.python != nil, "python3 is not installed"))
struct CSVReadBackTests {
    /// A written cell and what a reader must get back.
    struct Hostile: Sendable {
        var cell: String
        var read: String
    }

    static let hostile: [Hostile] = [
        Hostile(cell: "=cmd|' /C calc'!A0", read: "'=cmd|' /C calc'!A0"),
        Hostile(cell: "=HYPERLINK(\"http://evil.example\",\"x\")", read: "'=HYPERLINK(\"http://evil.example\",\"x\")"),
        Hostile(cell: "+1@dest.example", read: "'+1@dest.example"),
        Hostile(cell: "-2+3@evil.example", read: "'-2+3@evil.example"),
        Hostile(cell: "@SUM(1+1)", read: "'@SUM(1+1)"),
        Hostile(cell: "\tx@y.example", read: "'\tx@y.example"),
        Hostile(cell: "\rx@y.example", read: "'\rx@y.example"),
        Hostile(cell: "a,b@y.example", read: "a,b@y.example"),
        Hostile(cell: "say \"hi\"@y.example", read: "say \"hi\"@y.example"),
        Hostile(cell: "line1\r\nline2", read: "line1\r\nline2"),
        Hostile(cell: "line1\nline2", read: "line1\nline2"),
        Hostile(cell: "ünïcödé@bücher.example", read: "ünïcödé@bücher.example"),
        Hostile(cell: "'quoted", read: "'quoted"),
        Hostile(cell: "", read: ""),
    ]

    @Test func hostileCellsReadBackNeutralised() throws {
        let format = TableFormat(columns: ["cell", "n", "ids"])
        let rows: [[Cell]] = Self.hostile.map { [.text($0.cell), .number(-5), .list(["-1", "=2"])] }
        let read = try pythonCSV(format.csv(rows))
        #expect(read.first == ["cell", "n", "ids"])
        #expect(read.dropFirst().map { $0[0] } == Self.hostile.map(\.read))
        // Numbers are numbers, not formulas; a list is one text cell.
        #expect(read.dropFirst().allSatisfy { $0[1] == "-5" && $0[2] == "'-1 =2" })
    }

    /// A log whose senders, logins, recipients and HELO are formulas, through ingest, summary and export.
    static let log = """
        Nov  9 10:00:00 relay1 postfix/smtpd[1]: 1A2B3C4D5E: client=evil.example[192.0.2.66], sasl_method=PLAIN, sasl_username=-mallory
        Nov  9 10:00:01 relay1 postfix/qmgr[3]: 1A2B3C4D5E: from=<=HYPERLINK("http://evil.example";"x")@evil.example>, size=100, nrcpt=1 (queue active)
        Nov  9 10:00:02 relay1 postfix/smtp[4]: 1A2B3C4D5E: to=<+1@dest.example>, relay=mx.dest.example[203.0.113.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
        Nov  9 10:00:02 relay1 postfix/qmgr[3]: 1A2B3C4D5E: removed
        Nov  9 10:01:00 relay1 postfix/smtpd[1]: 2A2B3C4D5E: client=evil.example[192.0.2.66], sasl_method=PLAIN, sasl_username=@admin
        Nov  9 10:01:01 relay1 postfix/qmgr[3]: 2A2B3C4D5E: from=<@SUM(1+1)@evil.example>, size=200, nrcpt=1 (queue active)
        Nov  9 10:01:02 relay1 postfix/smtp[4]: 2A2B3C4D5E: to=<"a,b"@dest.example>, relay=mx.dest.example[203.0.113.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
        Nov  9 10:01:02 relay1 postfix/qmgr[3]: 2A2B3C4D5E: removed
        Nov  9 10:03:00 relay1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from evil.example[192.0.2.66]: 554 5.7.1 <=cmd|' /C calc'!A0@dest.example>: Relay access denied; from=<=cmd|' /C calc'!A0@evil.example> to=<=cmd|' /C calc'!A0@dest.example> proto=ESMTP helo=<=evil>

        """

    @Test func hostileLogReadsBackFromSummaryAndExport() throws {
        let db = try ScratchDatabase()
        let path = db.dir.appendingPathComponent("hostile.log").path
        try Self.log.write(toFile: path, atomically: true, encoding: .utf8)
        try db.ingest([path])
        let store = try db.store()
        let summary = try pythonCSV(
            SummaryReport.render(
                try store.summary(SummaryRequest(grouping: .account, sort: .key, recipients: true)), as: .csv,
                recipients: true, ids: false))
        #expect(
            summary.map { [$0[0], $0[1], $0.last!] } == [
                ["key", "messages", "parent"],
                ["sasl:-mallory", "1", ""],
                ["'+1@dest.example", "1", "sasl:-mallory"],
                ["sasl:@admin", "1", ""],
                ["\"a,b\"@dest.example", "1", "sasl:@admin"],
            ])
        let senders = try pythonCSV(
            SummaryReport.render(try store.summary(by: .sender, filter: MessageFilter(), top: nil), as: .csv))
        #expect(
            Set(senders.dropFirst().map { $0[0] }) == [
                "'=HYPERLINK(\"http://evil.example\";\"x\")@evil.example", "'@SUM(1+1)@evil.example",
            ])
        var exported = ""
        let format = ExportFormat(.rejects, encoding: .csv)
        exported += format.header
        try store.export(.rejects, filter: MessageFilter()) { exported += format.line($0) }
        let rejects = try pythonCSV(exported)
        let columns = RelayStore.exportColumnNames(.rejects)
        #expect(rejects.first == columns)
        let row = Dictionary(uniqueKeysWithValues: zip(columns, rejects[1]))
        #expect(row["sender"] == "'=cmd|' /C calc'!A0@evil.example")
        #expect(row["recipient"] == "'=cmd|' /C calc'!A0@dest.example")
        #expect(row["helo"] == "'=evil")
        #expect(row["reason"] == "<=cmd|' /C calc'!A0@dest.example>: Relay access denied")
    }
}
