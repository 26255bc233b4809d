import ArgumentParser
import Foundation
import Reports
import Store

extension SummaryGrouping: ExpressibleByArgument {}
extension SummarySort: ExpressibleByArgument {}

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Totals per sender, sender domain, account, client IP or recipient domain.",
        discussion: """
            Columns: key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen (ISO 8601 UTC). \
            Messages are accepted submissions; bounces the relay generated itself are left out. Each recipient is \
            counted once with its final outcome. --since and --until take ISO 8601 dates or times to the minute \
            (read in --timezone unless they carry a zone) or spans back from now (30m, 24h, 7d).

            --recipients adds a row per recipient address under each row (in CSV and JSON, its last column \
            "parent" names the row it belongs under); --ids adds a column "ids" with the queue or message IDs. \
            In CSV, cells starting with =, +, -, @, tab or CR get a leading ' so spreadsheets do not run them.

            Examples:
              relaysum summary --by sender --top 10
              relaysum summary --by account --since 2026-11-01 --until 2026-11-08 --format json
              relaysum summary --sender shop1.example --recipients --ids --since 24h
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Group by sender, sender-domain, account, client-ip or recipient-domain (default: sender).")
    var by: SummaryGrouping = .sender

    @Option(help: "Show only the first N rows (default: all).")
    var top: Int?

    @Option(help: "Only this relay (the host name recorded at ingest; default: all relays).")
    var host: String?

    @Option(
        help: """
            Only these senders: an address, a domain (exact; or @domain), a local part at every domain (user or \
            user@), or <> (default: all).
            """)
    var sender: String?

    @Flag(help: "Add a row per recipient address under each row.")
    var recipients = false

    @Flag(help: "Add the queue or message IDs of each row's messages, oldest first.")
    var ids = false

    @Option(
        help: """
            Sort by key, messages, recipients, delivered, deferred, bounced, bytes, first-seen or last-seen; all but \
            key largest or latest first (default: messages).
            """)
    var sort: SummarySort = .messages

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let sender, SenderFilter(sender) == nil {
            throw ValidationError("--sender needs an address, a domain or a local part (or <> for the null sender)")
        }
    }

    func run() throws {
        let zone = try database.timeZone()
        let (since, until) = try report.bounds(timeZone: zone)
        let store = try ReportStore.open(database, host: host)
        let request = SummaryRequest(
            grouping: by,
            filter: MessageFilter(since: since, until: until, host: host, sender: sender.flatMap(SenderFilter.init)),
            sort: sort, top: top, recipients: recipients, ids: ids)
        let entries = try ReportStore.run { try store.summary(request) }
        print(
            SummaryReport.render(entries, as: report.resolvedFormat, recipients: recipients, ids: ids),
            terminator: "")
    }
}

/// Opening the database for a report, shared by the report commands.
enum ReportStore {
    /// Opens the database read-only. A `--host` the database has never seen is a usage error (exit 64) that names
    /// the relays it has: a typo must not pass for a quiet relay.
    static func open(_ database: DatabaseOptions, host: String?, readOnly: Bool = true) throws -> RelayStore {
        if !readOnly && !FileManager.default.fileExists(atPath: database.path) {
            throw RelaysumFailure(
                description: "no database at \(database.path) (run `relaysum ingest` first, or pass --db)")
        }
        let store = try run { try RelayStore(path: database.path, readOnly: readOnly) }
        if let host {
            let known = try run { try store.knownHosts() }
            if !known.contains(host) {
                let list = known.isEmpty ? "none yet" : known.joined(separator: ", ")
                printError("Error: unknown relay '\(host)' for --host (relays in \(database.path): \(list))")
                throw ExitCode.validationFailure
            }
        }
        return store
    }

    /// Runs a store call; its failures exit with status 1 and a message.
    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as StoreError {
            throw RelaysumFailure(description: e.description)
        } catch {
            throw StoreError.from(error).map { RelaysumFailure(description: $0.description) } ?? error
        }
    }
}
