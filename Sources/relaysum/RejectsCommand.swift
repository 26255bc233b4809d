import ArgumentParser
import Reports
import Store

extension RejectGrouping: ExpressibleByArgument {}
extension RejectSort: ExpressibleByArgument {}

struct RejectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejects",
        abstract: "Rejected attempts, or failed logins, per client IP, account, sender or reason.",
        discussion: """
            Columns: key,attempts,clients,senders,recipients,first_seen,last_seen (clients, senders and recipients \
            are distinct counts). An attempt's account is sasl:<login> when the session had logged in, else \
            ip:<client address>. A reason is the reply code, enhanced status and text, without the leading \
            <address>: of the refused item.

            --auth-failures shows failed SMTP AUTH attempts instead: key,attempts,clients,logins,first_seen,\
            last_seen, by client-ip, account (sasl:<login tried>) or reason.

            Examples:
              relaysum rejects --by client-ip --since 24h --top 20
              relaysum rejects --by reason --format csv
              relaysum rejects --auth-failures --by account
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Group by client-ip, account, sender or reason (default: client-ip).")
    var by: RejectGrouping = .clientIP

    @Flag(help: "Show failed logins (SMTP AUTH) instead of rejected attempts.")
    var authFailures = false

    @Option(help: "Show only the first N rows (default: all).")
    var top: Int?

    @Option(help: "Only this relay (the host name recorded at ingest; default: all relays).")
    var host: String?

    @Option(
        help: """
            Only attempts from these senders: an address, a domain (exact; or @domain), a local part at every \
            domain (user or user@), or <> (default: all).
            """)
    var sender: String?

    @Option(
        help: "Sort by key, attempts, clients, first-seen or last-seen; all but key largest first (default: attempts).")
    var sort: RejectSort = .attempts

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let sender, SenderFilter(sender) == nil {
            throw ValidationError("--sender needs an address, a domain or a local part (or <> for the null sender)")
        }
        if authFailures && (by == .sender || sender != nil) {
            throw ValidationError(
                "failed logins have no sender: use --by client-ip, account or reason, without --sender")
        }
    }

    func run() throws {
        let (since, until) = try report.bounds(timeZone: try database.timeZone())
        let store = try ReportStore.open(database, host: host)
        let filter = MessageFilter(since: since, until: until, host: host, sender: sender.flatMap(SenderFilter.init))
        let text =
            authFailures
            ? RejectsReport.render(
                try ReportStore.run { try store.authFailures(by: by, filter: filter, sort: sort, top: top) },
                as: report.resolvedFormat)
            : RejectsReport.render(
                try ReportStore.run { try store.rejects(by: by, filter: filter, sort: sort, top: top) },
                as: report.resolvedFormat)
        print(text, terminator: "")
    }
}
