import Store

/// `relaysum summary`: per-key totals of accepted messages, in the SPEC's column order.
///
/// `--recipients` adds, under each row, a row per recipient address of that key's messages: in a table its key is
/// indented; in CSV and JSON a last column `parent` holds the key it belongs under (empty on the keys' own rows).
/// `--ids` adds a column `ids`: the queue (Postfix) or message (Exim) IDs, oldest first.
package enum SummaryReport {
    package static let columns = [
        "key", "messages", "recipients", "delivered", "deferred", "bounced", "bytes", "first_seen", "last_seen",
    ]

    package static func cells(_ rows: [SummaryRow]) -> [[Cell]] {
        rows.map(cells)
    }

    static func cells(_ r: SummaryRow) -> [Cell] {
        [
            .text(r.key), .number(r.messages), .number(r.recipients), .number(r.delivered), .number(r.deferred),
            .number(r.bounced), .number(r.bytes), .time(r.firstSeen), .time(r.lastSeen),
        ]
    }

    package static func render(_ rows: [SummaryRow], as format: OutputFormat) -> String {
        TableFormat(columns: columns).render(cells(rows), as: format)
    }

    /// Renders entries with the drill-down columns and rows that were asked for.
    package static func render(
        _ entries: [SummaryEntry], as format: OutputFormat, recipients: Bool, ids: Bool
    )
        -> String
    {
        var names = columns
        if ids { names.append("ids") }
        let parentColumn = recipients && format != .table
        if parentColumn { names.append("parent") }
        var rows: [[Cell]] = []
        func add(_ e: SummaryEntry, parent: String??) {
            var c = cells(e.row)
            if parent != nil, format == .table { c[0] = .text("  " + (e.row.key ?? "")) }
            if ids { c.append(.list(e.ids ?? [])) }
            if parentColumn { c.append(.text(parent.map { $0 ?? "" })) }
            rows.append(c)
        }
        for e in entries {
            add(e, parent: nil)
            for r in e.recipients ?? [] { add(r, parent: .some(e.row.key)) }
        }
        return TableFormat(columns: names).render(rows, as: format)
    }
}
