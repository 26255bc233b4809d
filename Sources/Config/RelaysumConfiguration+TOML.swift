import Foundation
import TOMLKit

extension RelaysumConfiguration {
    /// The file read when neither `--config` nor `$RELAYSUM_CONFIG` names one (and only if it exists).
    public static let systemPath = "/etc/relaysum/relaysum.toml"

    /// The configuration in force: `explicit` (`--config`), else `$RELAYSUM_CONFIG`, else `systemPath` if it
    /// exists, else the built-in defaults. A named file that cannot be read is an error.
    public static func resolve(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        systemPath: String = RelaysumConfiguration.systemPath
    ) throws -> RelaysumConfiguration {
        if let path = explicit ?? environment["RELAYSUM_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try load(path: path)
        }
        if FileManager.default.fileExists(atPath: systemPath) { return try load(path: systemPath) }
        return RelaysumConfiguration()
    }

    /// Reads and checks one TOML file.
    public static func load(path: String) throws -> RelaysumConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError([.init(file: path, line: nil, column: nil, message: "cannot read the file")])
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigurationError([.init(file: path, line: nil, column: nil, message: "the file is not UTF-8")])
        }
        var config = try parse(text, file: path)
        config.path = path
        return config
    }

    /// Parses TOML `text` (named `file` in errors). Every problem is collected: unknown keys and sections, wrong
    /// types and bad values, each with its line and column.
    public static func parse(_ text: String, file: String) throws -> RelaysumConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigurationError([
                .init(file: file, line: e.source.begin.line, column: e.source.begin.column, message: e.description)
            ])
        }
        let reader = TableReader(table: root, path: [], file: file, positions: TOMLKeyPositions(text))
        var c = RelaysumConfiguration()

        if let t = reader.table("report") {
            if let v = t.address("from") { c.report.from = v }
            if let v = t.string("reporting_mta") {
                if MailboxSyntax.isHostName(v) {
                    c.report.reportingMTA = v
                } else {
                    t.fail("reporting_mta", "must be a host name")
                }
            }
            if let v = t.int("limit", min: 0) { c.report.limit = v }
            if let v = t.int("limit_hours", min: 1) { c.report.limitHours = v }
            if let v = t.int("max_recipients", min: 1) { c.report.maxRecipients = v }
            t.finish()
        }
        if let t = reader.table("abuse") {
            if let v = t.address("default") { c.abuse.defaultAddress = v }
            if let users = t.table("users") {
                for key in users.keys { if let v = users.address(key) { c.abuse.users[key] = v } }
            }
            if let domains = t.table("domains") {
                for key in domains.keys { if let v = domains.address(key) { c.abuse.domains[key.lowercased()] = v } }
            }
            t.finish()
        }
        if let t = reader.table("transport") {
            if let v = t.string("kind") {
                if let kind = Transport.Kind(rawValue: v) {
                    c.transport.kind = kind
                } else {
                    t.fail("kind", "must be \"sendmail\" or \"smtp\", not \"\(v)\"")
                }
            }
            if let v = t.string("sendmail_path") { c.transport.sendmailPath = v }
            if let v = t.string("host") { c.transport.host = v }
            if let v = t.int("port", min: 1, max: 65535) { c.transport.port = v }
            if let v = t.bool("starttls") { c.transport.starttls = v }
            if let v = t.string("username") { c.transport.username = v }
            if let v = t.string("password_file") { c.transport.passwordFile = v }
            if let v = t.string("ca_file") { c.transport.caFile = v }
            if let v = t.int("timeout_seconds", min: 1) { c.transport.timeoutSeconds = v }
            if let v = t.int("give_up_after_hours", min: 0) { c.transport.giveUpAfterHours = v }
            if c.transport.kind == .smtp && c.transport.host == nil {
                t.fail("host", "is required with kind = \"smtp\"")
            }
            if c.transport.username != nil && c.transport.passwordFile == nil {
                t.fail("username", "needs password_file too")
            }
            if c.transport.username == nil && c.transport.passwordFile != nil {
                t.fail("password_file", "needs username too")
            }
            t.finish()
        }
        if let t = reader.table("anomalies") {
            let a = c.anomalies
            c.anomalies.baselineDays = t.int("baseline_days", min: 1) ?? a.baselineDays
            c.anomalies.quantile = t.double("quantile", min: 0, max: 1) ?? a.quantile
            c.anomalies.volumeMinimum = t.int("volume_minimum", min: 0).map(Int64.init) ?? a.volumeMinimum
            c.anomalies.volumeFactor = t.double("volume_factor", min: 0) ?? a.volumeFactor
            c.anomalies.failureShare = t.double("failure_share", min: 0, max: 1) ?? a.failureShare
            c.anomalies.failureMinimum = t.int("failure_minimum", min: 0).map(Int64.init) ?? a.failureMinimum
            c.anomalies.failureMargin = t.double("failure_margin", min: 0, max: 1) ?? a.failureMargin
            c.anomalies.spreadMinimum = t.int("spread_minimum", min: 0).map(Int64.init) ?? a.spreadMinimum
            c.anomalies.spreadFactor = t.double("spread_factor", min: 0) ?? a.spreadFactor
            c.anomalies.clientsMinimum = t.int("clients_minimum", min: 0).map(Int64.init) ?? a.clientsMinimum
            c.anomalies.authFailureMinimum =
                t.int("auth_failure_minimum", min: 0).map(Int64.init) ?? a.authFailureMinimum
            c.anomalies.authLookbackHours = t.int("auth_lookback_hours", min: 0) ?? a.authLookbackHours
            c.anomalies.historyMinimumHours = t.int("history_minimum_hours", min: 0) ?? a.historyMinimumHours
            c.anomalies.historyMinimumDays = t.int("history_minimum_days", min: 0) ?? a.historyMinimumDays
            c.anomalies.compromiseMinimum = t.int("compromise_minimum", min: 0).map(Int64.init) ?? a.compromiseMinimum
            t.finish()
        }
        if let t = reader.table("retention") {
            if let v = t.string("older_than") {
                if let seconds = Self.duration(v) {
                    c.retention.olderThan = v
                    c.retention.olderThanSeconds = seconds
                } else {
                    t.fail("older_than", "must be a number of hours, days or weeks such as \"90d\", not \"\(v)\"")
                }
            }
            t.finish()
        }
        reader.finish()
        if !reader.problems.isEmpty {
            throw ConfigurationError(reader.problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        return c
    }

    /// `36h`, `90d`, `2w` in seconds.
    static func duration(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "h": return n * 3600
        case "d": return n * 86_400
        case "w": return n * 604_800
        default: return nil
        }
    }

    /// The effective settings as TOML (what `relaysum config check` prints); the password itself never appears.
    public var effectiveDescription: String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["# effective settings (from \(path ?? "built-in defaults"))", "[report]"]
        lines.append("from = \(q(reportFrom))")
        lines.append("reporting_mta = \(q(reportingHost))")
        lines += [
            "limit = \(report.limit)", "limit_hours = \(report.limitHours)", "max_recipients = \(report.maxRecipients)",
        ]
        lines += ["", "[abuse]"]
        if let d = abuse.defaultAddress { lines.append("default = \(q(d))") } else { lines.append("# default: none") }
        lines += ["", "[abuse.users]"] + abuse.users.sorted { $0.key < $1.key }.map { "\(q($0.key)) = \(q($0.value))" }
        lines += ["", "[abuse.domains]"]
        lines += abuse.domains.sorted { $0.key < $1.key }.map { "\(q($0.key)) = \(q($0.value))" }
        let t = transport
        lines += ["", "[transport]", "kind = \(q(t.kind.rawValue))", "sendmail_path = \(q(t.sendmailPath))"]
        if let h = t.host { lines.append("host = \(q(h))") }
        lines += ["port = \(t.port)", "starttls = \(t.starttls)"]
        if let u = t.username { lines.append("username = \(q(u))") }
        if let p = t.passwordFile { lines.append("password_file = \(q(p))") }
        if let ca = t.caFile { lines.append("ca_file = \(q(ca))") }
        lines.append("timeout_seconds = \(t.timeoutSeconds)")
        lines.append("give_up_after_hours = \(t.giveUpAfterHours)")
        let a = anomalies
        lines += [
            "", "[anomalies]", "baseline_days = \(a.baselineDays)", "quantile = \(a.quantile)",
            "volume_minimum = \(a.volumeMinimum)", "volume_factor = \(a.volumeFactor)",
            "failure_share = \(a.failureShare)", "failure_minimum = \(a.failureMinimum)",
            "failure_margin = \(a.failureMargin)", "spread_minimum = \(a.spreadMinimum)",
            "spread_factor = \(a.spreadFactor)", "clients_minimum = \(a.clientsMinimum)",
            "auth_failure_minimum = \(a.authFailureMinimum)", "auth_lookback_hours = \(a.authLookbackHours)",
            "history_minimum_hours = \(a.historyMinimumHours)", "history_minimum_days = \(a.historyMinimumDays)",
            "compromise_minimum = \(a.compromiseMinimum)",
        ]
        lines += ["", "[retention]"]
        if let o = retention.olderThan {
            lines.append("older_than = \(q(o))")
        } else {
            lines.append("# older_than: keep everything")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Reads typed values from one TOML table, remembering which keys were read so the rest can be reported as unknown,
/// and collecting problems with their positions.
private final class TableReader {
    let table: TOMLTable
    let path: [String]
    let file: String
    let positions: TOMLKeyPositions
    private var read: Set<String> = []
    private var sink: ProblemSink

    final class ProblemSink {
        var problems: [ConfigurationError.Problem] = []
    }

    var problems: [ConfigurationError.Problem] { sink.problems }

    init(table: TOMLTable, path: [String], file: String, positions: TOMLKeyPositions, sink: ProblemSink = ProblemSink())
    {
        self.table = table
        self.path = path
        self.file = file
        self.positions = positions
        self.sink = sink
    }

    var keys: [String] { table.keys }

    private func name(_ key: String) -> String {
        path.isEmpty ? "[\(key)]" : "[\(path.joined(separator: "."))] \(key)"
    }

    func fail(_ key: String, _ message: String) {
        let p = positions.position(of: path + [key]) ?? positions.position(of: path)
        sink.problems.append(.init(file: file, line: p?.line, column: p?.column, message: "\(name(key)) \(message)"))
    }

    private func value(_ key: String, _ expected: String, _ types: [TOMLType]) -> TOMLValueConvertible? {
        read.insert(key)
        guard let v = table[key] else { return nil }
        guard types.contains(v.type) else {
            fail(key, "must be \(expected), not \(Self.article(v.type))")
            return nil
        }
        return v
    }

    private static func article(_ type: TOMLType) -> String {
        switch type {
        case .int: return "an integer"
        case .array: return "an array"
        default: return "a \(type)"
        }
    }

    func table(_ key: String) -> TableReader? {
        guard let v = value(key, "a table", [.table]), let t = v.table else { return nil }
        return TableReader(table: t, path: path + [key], file: file, positions: positions, sink: sink)
    }

    func string(_ key: String) -> String? {
        value(key, "a string", [.string])?.string
    }

    func bool(_ key: String) -> Bool? {
        value(key, "true or false", [.bool])?.bool
    }

    func int(_ key: String, min: Int, max: Int = .max) -> Int? {
        guard let v = value(key, "an integer", [.int])?.int else { return nil }
        guard v >= min && v <= max else {
            fail(key, max == .max ? "must be at least \(min), not \(v)" : "must be from \(min) to \(max), not \(v)")
            return nil
        }
        return v
    }

    func double(_ key: String, min: Double, max: Double = .infinity) -> Double? {
        guard let v = value(key, "a number", [.double, .int]) else { return nil }
        guard let d = v.double ?? v.int.map(Double.init), d >= min && d <= max else {
            fail(key, max == .infinity ? "must be at least \(min)" : "must be from \(min) to \(max)")
            return nil
        }
        return d
    }

    /// A plain `local@domain` address (see `MailboxSyntax.isSafeAddress`).
    func address(_ key: String) -> String? {
        guard let v = string(key) else { return nil }
        guard MailboxSyntax.isSafeAddress(v) else {
            // The value is not repeated: errors never print mail addresses.
            fail(key, "must be a plain address such as abuse@example.net")
            return nil
        }
        return v
    }

    /// Reports every key of this table that no reader asked for.
    func finish() {
        for key in table.keys where !read.contains(key) {
            fail(key, path.isEmpty ? "is not a known section" : "is not a known key")
        }
    }
}
