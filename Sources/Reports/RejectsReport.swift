import Store

/// `relaysum rejects`: attempts refused before a message existed, and failed logins, per key.
package enum RejectsReport {
    package static let columns = ["key", "attempts", "clients", "senders", "recipients", "first_seen", "last_seen"]
    package static let authFailureColumns = ["key", "attempts", "clients", "logins", "first_seen", "last_seen"]

    package static func render(_ rows: [RejectRow], as format: OutputFormat) -> String {
        TableFormat(columns: columns).render(
            rows.map { r in
                [
                    .text(r.key), .number(r.attempts), .number(r.clients), .number(r.senders), .number(r.recipients),
                    .time(r.firstSeen), .time(r.lastSeen),
                ]
            }, as: format)
    }

    package static func render(_ rows: [AuthFailureRow], as format: OutputFormat) -> String {
        TableFormat(columns: authFailureColumns).render(
            rows.map { r in
                [
                    .text(r.key), .number(r.attempts), .number(r.clients), .number(r.logins), .time(r.firstSeen),
                    .time(r.lastSeen),
                ]
            }, as: format)
    }
}
