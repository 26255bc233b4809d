import Store

/// `relaysum export`: stored rows as RFC 4180 CSV (formula cells neutralised, as in every CSV relaysum writes) or
/// JSON Lines (one object a line), rendered one row at a time so an export of any size runs in constant memory.
package struct ExportFormat: Sendable {
    package enum Encoding: Sendable {
        case csv
        case jsonLines
    }

    private let table: TableFormat
    private let encoding: Encoding

    package init(_ exported: ExportTable, encoding: Encoding) {
        table = TableFormat(columns: RelayStore.exportColumnNames(exported))
        self.encoding = encoding
    }

    /// What comes before the first row (the CSV header line).
    package var header: String {
        encoding == .csv ? table.csvHeader() : ""
    }

    /// One row, with its line end.
    package func line(_ values: [StoredValue]) -> String {
        let cells = values.map { v -> Cell in
            switch v {
            case .null: return .text(nil)
            case .integer(let n): return .number(n)
            case .text(let s): return .text(s)
            case .time(let t): return .time(t)
            }
        }
        return encoding == .csv ? table.csvLine(cells) : table.jsonObject(cells) + "\n"
    }
}
