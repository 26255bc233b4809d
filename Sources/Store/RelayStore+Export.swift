import GRDB

/// The stored tables `relaysum export` streams.
package enum ExportTable: String, CaseIterable, Sendable {
    case messages
    case recipients
    case rejects
    case authFailures = "auth-failures"
}

/// One value of an exported row.
package enum StoredValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    /// Seconds since the epoch (UTC).
    case time(Int64)
}

extension RelayStore {
    private enum ColumnKind {
        case integer, text, time
    }

    /// The columns of an export, in order: the stored columns (the null sender written `<>`), with the relay and
    /// queue ID of each recipient's message.
    private static func exportColumns(_ table: ExportTable) -> [(name: String, sql: String, kind: ColumnKind)] {
        let sender = (name: "sender", sql: "CASE WHEN sender = '' THEN '<>' ELSE sender END", kind: ColumnKind.text)
        switch table {
        case .messages:
            let plain: [(String, ColumnKind)] = [
                ("id", .integer), ("host", .text), ("mta", .text), ("queue_id", .text), ("message_id", .text),
                ("origin", .text), ("account", .text), ("client_ip", .text), ("client_name", .text),
                ("sasl_method", .text), ("sender", .text), ("sender_domain", .text), ("size", .integer),
                ("nrcpt", .integer), ("received_at", .time), ("completed_at", .time), ("recipients", .integer),
                ("delivered", .integer), ("deferred", .integer), ("bounced", .integer),
            ]
            return plain.map { name, kind in
                (name, name == "sender" ? "CASE WHEN m.sender = '' THEN '<>' ELSE m.sender END" : "m." + name, kind)
            }
        case .recipients:
            return [
                ("message", "r.message", .integer), ("host", "m.host", .text), ("queue_id", "m.queue_id", .text),
                ("address", "r.address", .text), ("domain", "r.domain", .text),
                ("original_address", "r.original_address", .text), ("outcome", "r.outcome", .text),
                ("dsn", "r.dsn", .text), ("relay", "r.relay", .text), ("reply", "r.reply", .text),
                ("last_attempt_at", "r.last_attempt_at", .time), ("attempts", "r.attempts", .integer),
            ]
        case .rejects:
            return [
                ("id", "id", .integer), ("host", "host", .text), ("mta", "mta", .text), ("at", "at", .time),
                ("kind", "kind", .text), ("stage", "stage", .text), ("queue_id", "queue_id", .text),
                ("client_ip", "client_ip", .text), ("client_name", "client_name", .text), ("login", "login", .text),
                sender, ("recipient", "recipient", .text), ("code", "code", .text), ("dsn", "dsn", .text),
                ("reason", "reason", .text), ("helo", "helo", .text),
            ]
        case .authFailures:
            return [
                ("id", "id", .integer), ("host", "host", .text), ("mta", "mta", .text), ("at", "at", .time),
                ("client_ip", "client_ip", .text), ("client_name", "client_name", .text), ("login", "login", .text),
                ("mechanism", "mechanism", .text), ("reason", "reason", .text),
            ]
        }
    }

    /// The column names of an export.
    package static func exportColumnNames(_ table: ExportTable) -> [String] {
        exportColumns(table).map(\.name)
    }

    /// Streams every stored row of `table` in the period (messages and recipients by the message's arrival,
    /// rejects and auth failures by their time) to `body`, one row at a time from a cursor: memory stays constant
    /// however many rows there are.
    package func export(_ table: ExportTable, filter: MessageFilter, _ body: ([StoredValue]) throws -> Void) throws {
        let columns = Self.exportColumns(table)
        let select = columns.map(\.sql).joined(separator: ", ")
        let sql: String
        let w: SQLCondition
        switch table {
        case .messages, .recipients:
            var parts = SQLCondition.range("m.received_at", from: filter.since, to: filter.until)
            if let host = filter.host { parts.append(SQLCondition("m.host = ?", [host])) }
            if let s = filter.sender { parts.append(s.condition(sender: "m.sender", domain: "m.sender_domain")) }
            w = SQLCondition.all(parts)
            sql =
                table == .messages
                ? "SELECT \(select) FROM messages m WHERE \(w.sql) ORDER BY m.id"
                : """
                SELECT \(select) FROM messages m JOIN recipients r ON r.message = m.id WHERE \(w.sql)
                ORDER BY r.message, r.address
                """
        case .rejects, .authFailures:
            var parts = Self.eventConditions(filter)
            if table == .rejects, let s = filter.sender { parts.append(s.condition(sender: "sender", domain: nil)) }
            w = SQLCondition.all(parts)
            sql = "SELECT \(select) FROM \(table == .rejects ? "rejects" : "auth_failures") WHERE \(w.sql) ORDER BY id"
        }
        try query { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: w.arguments)
            var values: [StoredValue] = []
            values.reserveCapacity(columns.count)
            while let row = try cursor.next() {
                values.removeAll(keepingCapacity: true)
                for (i, c) in columns.enumerated() {
                    let v = row[i] as DatabaseValue
                    if v.isNull {
                        values.append(.null)
                        continue
                    }
                    switch c.kind {
                    case .integer: values.append(.integer(Int64.fromDatabaseValue(v) ?? 0))
                    case .time: values.append(.time(Int64.fromDatabaseValue(v) ?? 0))
                    case .text: values.append(.text(String.fromDatabaseValue(v) ?? ""))
                    }
                }
                try body(values)
            }
        }
    }
}
