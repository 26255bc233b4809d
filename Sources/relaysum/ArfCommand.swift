import ARF
import ArgumentParser
import Config
import Foundation
import Reports
import Store

struct ArfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arf",
        abstract: "Builds and mails RFC 5965 abuse reports (ARF) for blocked messages and compromised accounts.",
        discussion: """
            One report per message the relay refused for its content after DATA (milter, header/body checks, \
            content filter, Exim `rejected after DATA`), and one per window that `relaysum anomalies` judged \
            compromised (a representative message; Incidents counts the window's messages). Each is addressed by \
            the configuration file's [abuse] section: the account, else the sender domain, else the default; \
            without an address a report is not built, and the output says so. Every report is stored in the \
            database with its state (pending, sent, failed, held by the per-account limit, expired: given up after \
            failing for [transport] give_up_after_hours); docs/arf.md explains.

            Examples:
              relaysum arf build --since 24h --out /tmp/arf
              relaysum arf send --config /etc/relaysum/relaysum.toml
            """,
        subcommands: [Build.self, Send.self])

    /// `--since`, shared by both subcommands.
    struct Selection: ParsableArguments {
        @Option(help: "Only activity at or after this time: an ISO 8601 date or date-time, or 24h, 7d (default: all).")
        var since: String?

        func bound(timeZone: TimeZone) throws -> Int64? {
            do {
                return try since.map {
                    try TimeBound.parse($0, now: Int64(Date().timeIntervalSince1970), timeZone: timeZone)
                }
            } catch let e as TimeBound.Invalid {
                throw ValidationError(e.description)
            }
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Builds the reports not built yet, stores them, and writes the unsent ones as .eml files.",
            discussion: """
                Writes every pending or failed report to DIR as arf-<id>-<kind>.eml (CRLF line ends), including \
                those built by earlier runs. Exit status 0, or 1 on a database, configuration or file error.

                Example:
                  relaysum arf build --config /etc/relaysum/relaysum.toml --out /tmp/arf
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var options: ConfigOptions
        @OptionGroup var selection: Selection

        @Option(help: "The directory to write the .eml files to (created if missing; default: none, only store).")
        var out: String?

        func run() throws {
            let config = try options.load()
            let since = try selection.bound(timeZone: try database.timeZone())
            let store = try ArfCommand.openStore(database)
            _ = try ArfCommand.buildAndStore(store: store, config: config, since: since)
            guard let out else { return }
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let unsent = try ReportStore.run { try store.arfReports(states: [.pending, .failed]) }
                for r in unsent {
                    let id = String(r.id ?? 0)
                    let name = "arf-" + String(repeating: "0", count: max(0, 6 - id.count)) + id + "-\(r.kind).eml"
                    try Data(r.message).write(to: URL(fileURLWithPath: out).appendingPathComponent(name))
                }
                print("wrote \(unsent.count) report\(unsent.count == 1 ? "" : "s") to \(out)")
            } catch let e as RelaysumFailure {
                throw e
            } catch {
                throw RelaysumFailure(description: "cannot write reports to \(out): \(error.localizedDescription)")
            }
        }
    }

    struct Send: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract:
                "Builds new reports, then delivers every pending and failed one through the configured transport.",
            discussion: """
                Delivers through `sendmail -t -oi` (the default; run without a shell) or SMTP to a smarthost with \
                STARTTLS and AUTH ([transport] in the configuration file). Each report's state is stored right after \
                its attempt: a sent report is never sent again, a failed one is tried again on the next run until it \
                fails give_up_after_hours (default 120) after it was built, when it is given up (expired), and one \
                held by the per-account limit is not sent. Exit status 0 when everything was delivered, 1 when any \
                report failed (the reasons go to stderr).

                Examples:
                  relaysum arf send --dry-run
                  relaysum arf send --config /etc/relaysum/relaysum.toml
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var options: ConfigOptions
        @OptionGroup var selection: Selection

        @Flag(help: "List what would be sent where, and change nothing.")
        var dryRun = false

        func run() throws {
            let config = try options.load()
            let since = try selection.bound(timeZone: try database.timeZone())
            let version = "relaysum/\(RelaysumVersion.string)"
            let now = Int64(Date().timeIntervalSince1970)
            let via =
                config.transport.kind == .sendmail
                ? "sendmail \(config.transport.sendmailPath)"
                : "smtp \(config.transport.host ?? "localhost"):\(config.transport.port)"
            if dryRun {
                // Opened for writing so an older database gets the reports table; nothing else is written.
                let store = try ArfCommand.openStore(database)
                let plan = try ReportStore.run {
                    try ReportPlanner(store: store, configuration: config, userAgent: version, now: now).plan(
                        since: since)
                }
                let stored = try ReportStore.run { try store.arfReports(states: [.pending, .failed]) }
                for r in stored {
                    print(
                        "would send report \(r.id ?? 0) (\(r.kind), \(r.account ?? "-"), \(r.state.rawValue)) to \(r.abuseAddress) via \(via)"
                    )
                }
                for r in plan.reports {
                    let verb = r.state == .held ? "would hold (per-account limit)" : "would build and send"
                    print("\(verb) a \(r.kind) report (\(r.account ?? "-")) to \(r.abuseAddress) via \(via)")
                }
                ArfCommand.printUnaddressed(plan)
                return
            }
            let store = try ArfCommand.openStore(database)
            _ = try ArfCommand.buildAndStore(store: store, config: config, since: since)
            let transport: any ReportTransport
            do {
                transport = try config.transport.makeTransport()
            } catch let e as DeliveryError {
                throw RelaysumFailure(description: e.description)
            }
            let outcome = try ReportStore.run {
                try ReportMailer(
                    store: store, transport: transport, from: config.reportFrom,
                    giveUpAfter: config.transport.giveUpAfterHours > 0
                        ? Int64(config.transport.giveUpAfterHours) * 3600 : nil
                ).sendAll { Int64(Date().timeIntervalSince1970) }
            }
            for (r, error, givenUp) in outcome.failed {
                let end =
                    givenUp
                    ? "; given up: still failing \(config.transport.giveUpAfterHours) h or more after it was built "
                        + "(give_up_after_hours), it will not be tried again"
                    : ""
                printError("report \(r.id ?? 0) (\(r.kind), \(r.account ?? "-")) not delivered: \(error)\(end)")
            }
            let gaveUp = outcome.givenUp.isEmpty ? "" : " (\(outcome.givenUp.count) given up)"
            print(
                "sent \(outcome.sent.count) report\(outcome.sent.count == 1 ? "" : "s") via \(via); \(outcome.failed.count) failed\(gaveUp)"
            )
            if !outcome.failed.isEmpty { throw ExitCode.failure }
        }
    }

    /// The existing database (a mistyped --db must not pass for an empty one).
    static func openStore(_ database: DatabaseOptions) throws -> RelayStore {
        guard FileManager.default.fileExists(atPath: database.path) else {
            throw RelaysumFailure(
                description: "no database at \(database.path) (run `relaysum ingest` first, or pass --db)")
        }
        return try ReportStore.run { try RelayStore(path: database.path) }
    }

    /// Plans and stores new reports; prints what was built, held and not built.
    static func buildAndStore(
        store: RelayStore, config: RelaysumConfiguration, since: Int64?
    ) throws
        -> ReportPlanner.Plan
    {
        let planner = ReportPlanner(
            store: store, configuration: config, userAgent: "relaysum/\(RelaysumVersion.string)",
            now: Int64(Date().timeIntervalSince1970))
        let plan = try ReportStore.run { try planner.plan(since: since) }
        let stored = try ReportStore.run { try store.insertARFReports(plan.reports) }
        let held = stored.filter { $0.state == .held }.count
        let kinds = Dictionary(grouping: stored.filter { $0.state != .held }, by: \.kind).mapValues(\.count)
        print(
            "built \(stored.count - held) report\(stored.count - held == 1 ? "" : "s") "
                + "(\(kinds["compromised"] ?? 0) compromised account, \(kinds["reject"] ?? 0) blocked message); "
                + "\(held) held by the per-account limit")
        printUnaddressed(plan)
        if plan.emptyFindings > 0 {
            print("not built: \(plan.emptyFindings) compromised window(s) with no stored message")
        }
        return plan
    }

    static func printUnaddressed(_ plan: ReportPlanner.Plan) {
        for (account, count) in plan.unaddressed.sorted(by: { $0.key < $1.key }) {
            print(
                "not built: \(count) report\(count == 1 ? "" : "s") about \(account): no abuse address configured "
                    + "(set [abuse] default, or an entry in [abuse.users] or [abuse.domains])")
        }
    }
}
