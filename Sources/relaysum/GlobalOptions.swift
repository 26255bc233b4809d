import ArgumentParser
import Foundation
import Reports

#if canImport(Glibc)
import Glibc
#endif

/// `--db`, shared by every command.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).")
    var db: String?

    @Option(help: "Time zone for classic syslog stamps and for dates without a zone (default: the system's).")
    var timezone: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["RELAYSUM_DB"] ?? "./relaysum.sqlite" }

    func timeZone() throws -> TimeZone {
        guard let name = timezone else { return .current }
        guard let zone = TimeZone(identifier: name) else {
            throw ValidationError("unknown time zone '\(name)' (use an IANA name such as Europe/Berlin or UTC)")
        }
        return zone
    }
}

/// `--format`, `--since`, `--until`, shared by the commands that print data.
struct ReportOptions: ParsableArguments {
    @Option(help: "Output format: table, csv or json (default: table on a terminal, else csv).")
    var format: OutputFormat?

    @Option(help: "Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.")
    var since: String?

    @Option(help: "Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.")
    var until: String?

    var resolvedFormat: OutputFormat { format ?? (isatty(STDOUT_FILENO) == 1 ? .table : .csv) }

    func bounds(timeZone: TimeZone) throws -> (since: Int64?, until: Int64?) {
        let now = Int64(Date().timeIntervalSince1970)
        do {
            return (
                try since.map { try TimeBound.parse($0, now: now, timeZone: timeZone) },
                try until.map { try TimeBound.parse($0, now: now, timeZone: timeZone) }
            )
        } catch let e as TimeBound.Invalid {
            throw ValidationError(e.description)
        }
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// A failure already reported on stderr, or to report: exit status 1.
struct RelaysumFailure: Error, CustomStringConvertible {
    var description: String
}
