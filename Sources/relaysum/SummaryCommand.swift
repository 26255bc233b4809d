import ArgumentParser
import Foundation
import Reports
import Store

extension SummaryGrouping: ExpressibleByArgument {}

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Totals per sender, sender domain, account, client IP or recipient domain.",
        discussion: """
            Columns: key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen. \
            Messages are accepted submissions; bounces the relay generated itself are left out. \
            Each recipient is counted once with its final outcome.

            Examples:
              relaysum summary --by sender --top 10
              relaysum summary --by account --since 2026-11-01 --until 2026-11-08 --format json
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Group by sender, sender-domain, account, client-ip or recipient-domain (default: sender).")
    var by: SummaryGrouping = .sender

    @Option(help: "Show only the first N rows.")
    var top: Int?

    @Option(help: "Only this relay (the host name recorded at ingest).")
    var host: String?

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let zone = try database.timeZone()
        let (since, until) = try report.bounds(timeZone: zone)
        do {
            let store = try RelayStore(path: database.path, readOnly: true)
            let rows = try store.summary(
                by: by, filter: MessageFilter(since: since, until: until, host: host), top: top)
            print(SummaryReport.render(rows, as: report.resolvedFormat), terminator: "")
        } catch let e as StoreError {
            throw RelaysumFailure(description: e.description)
        }
    }
}
