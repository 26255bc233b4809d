import ArgumentParser
import Config
import Foundation
import Reports
import Store

extension AnomalyFinding.Verdict: ExpressibleByArgument {}

struct AnomaliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "Accounts whose sending departs from their own history: compromised, or worth a review.",
        discussion: """
            Each account's hours in the period are measured against its own trailing baseline (28 days before the \
            period, leaving out windows already flagged), or against the relay's typical account when it has \
            little history. Signals: volume (recipients per hour far above its 99th-percentile hour), failures \
            (bounced and deferred share, beyond the relay's own deferrals), new network (a client /24 or /48 it \
            never used, or more client addresses in an hour than ever), brute force (a login from a new network \
            after a burst of failed logins), new sender (sender domains it never used) and spread (recipient \
            domains per hour). Flagged hours join into windows; a window is compromised when several signals \
            come together (volume with failures, a new network or a new sender; failures with a new network or \
            new sender and enough recipients), else review.

            Columns: account,window_start,window_end,verdict,score,reasons,signals,messages,recipients,failed. \
            Windows are whole UTC hours, window_end exclusive. The score grows with how far and in how many ways \
            the window departs; it is for sorting, not a probability. Findings are stored in the database for \
            `arf build` and so later baselines leave them out.

            Without --since the period goes on from where the last run ended (a fresh database is judged whole, \
            each day against the 28 days before it), and only findings that are new or changed are shown; with \
            --since every finding of the period is shown. Without --until the period ends with the newest hour \
            in the database. Thresholds \
            come from the [anomalies] section of the configuration file. The exit status is 0 whatever is found, \
            unless --fail-on is given.

            Examples:
              relaysum anomalies
              relaysum anomalies --since 7d --format csv
              relaysum anomalies --account sasl:alice@customer.example --since 2026-11-01
              relaysum anomalies --since 1h --fail-on compromised     # for monitoring
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var settings: ConfigOptions

    @Option(help: "Only this account, as relaysum names it (sasl:<login>, ip:<client address>, local:<user>).")
    var account: String?

    @Option(help: "Exit with status 2 if a finding is at least this bad: compromised or review.")
    var failOn: AnomalyFinding.Verdict?

    func run() throws {
        let (since, until) = try report.bounds(timeZone: try database.timeZone())
        let store = try ReportStore.open(database, host: nil, readOnly: false)
        let thresholds = try settings.load().anomalies
        let findings = try ReportStore.run {
            try AnomalyReport.run(
                store: store, since: since, until: until, account: account, thresholds: thresholds,
                now: Int64(Date().timeIntervalSince1970))
        }
        print(AnomalyReport.render(findings, as: report.resolvedFormat), terminator: "")
        if let failOn {
            let hit = findings.contains { failOn == .review || $0.verdict == .compromised }
            if hit { throw ExitCode(2) }
        }
    }
}
