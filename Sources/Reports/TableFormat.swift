import Foundation
import Store

/// How a command prints data (`--format`).
package enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, json
}

/// A cell of a report: text or a number.
package enum Cell: Sendable, Equatable {
    case text(String?)
    case number(Int64)
    /// Seconds since the epoch, printed as ISO 8601 UTC.
    case time(Int64?)
    /// Words (IDs): space-separated in a table or CSV, an array in JSON.
    case list([String])
    /// Yes or no (`true`/`false` in JSON); nil when it cannot be told (empty, `null`).
    case flag(Bool?)
    /// A number with one decimal (a score).
    case decimal(Double)

    var plain: String {
        switch self {
        case .text(let s): return s ?? ""
        case .number(let n): return String(n)
        case .time(let t): return t.map(ISO8601.utc) ?? ""
        case .list(let l): return l.joined(separator: " ")
        case .flag(let b): return b.map { $0 ? "yes" : "no" } ?? ""
        case .decimal(let d): return String(format: "%.1f", d)
        }
    }

    var json: String {
        switch self {
        case .number(let n): return String(n)
        case .text(let s): return s.map(JSONText.string) ?? "null"
        case .time(let t): return t.map { JSONText.string(ISO8601.utc($0)) } ?? "null"
        case .list(let l): return "[" + l.map(JSONText.string).joined(separator: ", ") + "]"
        case .flag(let b): return b.map { $0 ? "true" : "false" } ?? "null"
        case .decimal(let d): return String(format: "%.1f", d)
        }
    }
}

/// Renders rows of cells as an aligned table, RFC 4180 CSV or JSON, in that column order.
package struct TableFormat {
    package var columns: [String]

    package init(columns: [String]) {
        self.columns = columns
    }

    package func render(_ rows: [[Cell]], as format: OutputFormat) -> String {
        switch format {
        case .csv: return csv(rows)
        case .json: return json(rows)
        case .table: return table(rows)
        }
    }

    /// RFC 4180: CRLF line ends, fields with `,`, `"`, CR or LF quoted. Cells that a spreadsheet would run as a
    /// formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'` (OWASP's CSV-injection advice):
    /// sender addresses come from strangers.
    package func csv(_ rows: [[Cell]]) -> String {
        var out = csvHeader()
        for row in rows { out += csvLine(row) }
        return out
    }

    /// The CSV header line, with its CRLF.
    package func csvHeader() -> String {
        columns.map(Self.csvField).joined(separator: ",") + "\r\n"
    }

    /// One CSV record, with its CRLF.
    package func csvLine(_ row: [Cell]) -> String {
        row.map { cell -> String in
            switch cell {
            case .text(let s): return Self.csvField(Self.neutralised(s ?? ""))
            case .list(let l): return Self.csvField(Self.neutralised(l.joined(separator: " ")))
            default: return Self.csvField(cell.plain)
            }
        }.joined(separator: ",") + "\r\n"
    }

    package static func neutralised(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return ["=", "+", "-", "@", "\t", "\r"].contains(first) ? "'" + s : s
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return s
        }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A JSON array of objects with the columns in order.
    package func json(_ rows: [[Cell]]) -> String {
        var out = "["
        for (i, row) in rows.enumerated() {
            out += i == 0 ? "\n  " : ",\n  "
            out += jsonObject(row)
        }
        out += rows.isEmpty ? "]\n" : "\n]\n"
        return out
    }

    /// One JSON object with the columns in order, on one line (a JSON Lines record without its LF).
    package func jsonObject(_ row: [Cell]) -> String {
        var out = "{"
        for (j, cell) in row.enumerated() {
            if j > 0 { out += ", " }
            out += JSONText.string(columns[j]) + ": " + cell.json
        }
        return out + "}"
    }

    /// Columns padded to their widest cell; numbers right-aligned. Control characters are shown escaped.
    package func table(_ rows: [[Cell]]) -> String {
        let texts = rows.map { $0.map { Self.printable($0.plain) } }
        var widths = columns.map(\.count)
        for row in texts {
            for (i, t) in row.enumerated() { widths[i] = max(widths[i], t.count) }
        }
        func line(_ cells: [String], numeric: [Bool]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return numeric[i] ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let numeric = columns.indices.map { i in
            rows.first.map { row -> Bool in
                if case .number = row[i] { return true }
                if case .decimal = row[i] { return true }
                return false
            } ?? false
        }
        var out = line(columns, numeric: numeric) + "\n"
        for row in texts { out += line(row, numeric: numeric) + "\n" }
        return out
    }

    static func printable(_ s: String) -> String {
        // C0, DEL and C1 (U+009B is a one-character CSI to some terminals): a sender address must not drive the
        // operator's terminal.
        func control(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }
        guard s.unicodeScalars.contains(where: control) else { return s }
        return s.unicodeScalars.map { u in
            control(u) ? String(format: "\\x%02X", u.value) : String(u)
        }.joined()
    }
}

/// ISO 8601 text of epoch seconds.
package enum ISO8601 {
    /// `2026-11-09T00:02:48Z`.
    package static func utc(_ t: Int64) -> String { CivilDate.iso8601(t) }
}

/// JSON string literals.
package enum JSONText {
    package static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F || u.value == 0x2028 || u.value == 0x2029 {
                    out += String(format: "\\u%04X", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
