import ArgumentParser
import Reports
import Store

/// How `relaysum license` lists the sending domains.
enum LicenseGrouping: String, CaseIterable, ExpressibleByArgument {
    case domain
    case account
}

struct LicenseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license",
        abstract: "Distinct sending domains in the period, in total and per outgoing user (licence counts).",
        discussion: """
            A sending domain is the envelope-sender domain of an accepted message (relay-generated bounces, the \
            null sender and senders without a domain have none). Several relays in one database count each \
            domain once.

            Columns: domain,messages,accounts,first_seen,last_seen; with --by account \
            account,domain,messages,first_seen,last_seen,outside_login_domain, where outside_login_domain says \
            whether a SASL account sends for a domain other than its login's (subdomains either way count as its \
            own; empty when the account has no login domain). --registrable folds subdomains to the registrable \
            domain with the Public Suffix List of Debian's publicsuffix package.

            Examples:
              relaysum license --since 2026-11-01 --until 2026-12-01 --count
              relaysum license --by account --registrable --format csv > licences.csv
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "List per domain, or per account and domain (default: domain).")
    var by: LicenseGrouping = .domain

    @Flag(help: "Fold subdomains to their registrable domain (mail.shop.example.co.uk counts as example.co.uk).")
    var registrable = false

    @Option(help: "The Public Suffix List for --registrable (default: \(PublicSuffixList.debianPath)).")
    var publicSuffixList: String = PublicSuffixList.debianPath

    @Flag(help: "Print only the number of distinct sending domains.")
    var count = false

    @Option(help: "Only this relay (the host name recorded at ingest; default: all relays).")
    var host: String?

    func run() throws {
        let (since, until) = try report.bounds(timeZone: try database.timeZone())
        var suffixes: PublicSuffixList?
        if registrable {
            do {
                suffixes = try PublicSuffixList(contentsOf: publicSuffixList)
            } catch let e as PublicSuffixList.Missing {
                throw RelaysumFailure(description: e.description)
            }
        }
        let store = try ReportStore.open(database, host: host)
        let uses = try ReportStore.run {
            try store.licenseUses(filter: MessageFilter(since: since, until: until, host: host))
        }
        let licence = LicenseReport(uses, suffixes: suffixes)
        if count {
            print(licence.domains.count)
        } else if by == .account {
            print(licence.renderAccounts(as: report.resolvedFormat), terminator: "")
        } else {
            print(licence.renderDomains(as: report.resolvedFormat), terminator: "")
        }
    }
}
