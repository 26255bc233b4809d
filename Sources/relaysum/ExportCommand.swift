import ArgumentParser
import Foundation
import Reports
import Store

#if canImport(Glibc)
import Glibc
#endif

extension ExportTable: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Streams stored rows (messages, recipients, rejects or auth-failures) as CSV or JSON Lines.",
        discussion: """
            Every stored column, times as ISO 8601 UTC, the null sender as <>. Messages and recipients are chosen \
            by the message's arrival time, rejects and auth-failures by their own. Rows are read from a cursor and \
            written as they come, so memory stays constant however large the database. In CSV, cells starting \
            with =, +, -, @, tab or CR get a leading ' so spreadsheets do not run them.

            Examples:
              relaysum export messages --since 2026-11-01 --until 2026-12-01 > november.csv
              relaysum export recipients --format json --host relay2 | jq -c 'select(.outcome == "bounced")'
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions

    @Argument(help: "What to export: messages, recipients, rejects or auth-failures.")
    var table: ExportTable

    @Option(help: "Only this relay (the host name recorded at ingest; default: all relays).")
    var host: String?

    @Option(
        help: """
            Only messages (or rejects) from these senders: an address, a domain (exact; or @domain), a local part \
            at every domain (user or user@), or <> (default: all).
            """)
    var sender: String?

    func validate() throws {
        if report.format == .table {
            throw ValidationError("export writes csv or json (JSON Lines, one object a line), not a table")
        }
        if let sender, SenderFilter(sender) == nil {
            throw ValidationError("--sender needs an address, a domain or a local part (or <> for the null sender)")
        }
        if sender != nil && table == .authFailures {
            throw ValidationError("failed logins have no sender: export auth-failures without --sender")
        }
    }

    func run() throws {
        let (since, until) = try report.bounds(timeZone: try database.timeZone())
        let store = try ReportStore.open(database, host: host)
        let format = ExportFormat(table, encoding: report.format == .json ? .jsonLines : .csv)
        let filter = MessageFilter(since: since, until: until, host: host, sender: sender.flatMap(SenderFilter.init))
        var out = BufferedOutput(fd: STDOUT_FILENO)
        try out.write(format.header)
        try ReportStore.run {
            try store.export(table, filter: filter) { values in try out.write(format.line(values)) }
        }
        try out.flush()
    }
}

/// Writes to a file descriptor in 64 KiB chunks.
struct BufferedOutput {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RelaysumFailure(description: "cannot write the export: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
