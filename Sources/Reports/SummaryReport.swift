import Store

/// `relaysum summary`: per-key totals of accepted messages, in the SPEC's column order.
package enum SummaryReport {
    package static let columns = [
        "key", "messages", "recipients", "delivered", "deferred", "bounced", "bytes", "first_seen", "last_seen",
    ]

    package static func cells(_ rows: [SummaryRow]) -> [[Cell]] {
        rows.map { r in
            [
                .text(r.key), .number(r.messages), .number(r.recipients), .number(r.delivered), .number(r.deferred),
                .number(r.bounced), .number(r.bytes), .time(r.firstSeen), .time(r.lastSeen),
            ]
        }
    }

    package static func render(_ rows: [SummaryRow], as format: OutputFormat) -> String {
        TableFormat(columns: columns).render(cells(rows), as: format)
    }
}
