import Foundation
import Reports
import Store
import Testing

/// `export`: every stored row of each table, as CSV (read back by Python's `csv`) or JSON Lines, with the filters.
@Suite struct ExportTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var table: ExportTable
        var filter: MessageFilter
        var rows: Int
        var label: String

        var testDescription: String { "\(table.rawValue) \(label)" }
    }

    @Test(arguments: [
        Case(table: .messages, filter: MessageFilter(), rows: 12, label: "all, with relay-generated bounces"),
        Case(table: .messages, filter: MessageFilter(host: "relay2"), rows: 5, label: "one relay"),
        Case(
            table: .messages,
            filter: MessageFilter(since: utc("2026-11-09T09:06:00Z"), until: utc("2026-11-10T00:00:00Z")),
            rows: 2, label: "a period"),
        Case(table: .messages, filter: MessageFilter(sender: SenderFilter("<>")), rows: 4, label: "null sender"),
        Case(table: .recipients, filter: MessageFilter(), rows: 16, label: "all"),
        Case(table: .recipients, filter: MessageFilter(sender: SenderFilter("news")), rows: 3, label: "one sender"),
        Case(table: .rejects, filter: MessageFilter(), rows: 12, label: "all"),
        Case(table: .rejects, filter: MessageFilter(since: utc("2026-11-10T00:00:00Z")), rows: 10, label: "a period"),
        Case(table: .authFailures, filter: MessageFilter(), rows: 3, label: "all"),
    ])
    func rowsAsCSVAndJSONLines(_ c: Case) throws {
        let store = try FixtureDatabases.store("postfix")
        let columns = RelayStore.exportColumnNames(c.table)
        var csv = ""
        var jsonLines = ""
        let asCSV = ExportFormat(c.table, encoding: .csv)
        let asJSON = ExportFormat(c.table, encoding: .jsonLines)
        csv += asCSV.header
        #expect(asJSON.header == "")
        try store.export(c.table, filter: c.filter) { values in
            #expect(values.count == columns.count)
            csv += asCSV.line(values)
            jsonLines += asJSON.line(values)
        }
        let lines = jsonLines.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == c.rows + 1 && lines.last == "")
        for line in lines.dropLast() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == Set(columns))
            #expect(line.hasPrefix("{" + JSONText.string(columns[0]) + ": "))
        }
        if ReportPaths.python != nil {
            let records = try pythonCSV(csv)
            #expect(records.first == columns)
            #expect(records.count == c.rows + 1)
        }
    }

    @Test func aMessageRowHasEveryStoredColumn() throws {
        let store = try FixtureDatabases.store("postfix")
        var first: String?
        let format = ExportFormat(.messages, encoding: .csv)
        try store.export(.messages, filter: MessageFilter()) { values in
            if first == nil { first = format.line(values) }
        }
        #expect(
            first
                == "1,relay1,postfix,4NmB1q0Bt7z9vKp,20261109000248.1@shop1.example,smtp,sasl:alice@shop1.example,"
                + "192.0.2.10,mail.shop1.example,PLAIN,alice@shop1.example,shop1.example,2345,2,2026-11-09T00:02:49Z,"
                + "2026-11-09T00:33:00Z,2,2,0,0\r\n")
    }
}
