import ArgumentParser
import Foundation
import Reports
import Store

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Writes one self-contained HTML page with charts of the period (traffic, outcomes, top senders).",
        discussion: """
            The page has no script and loads nothing (inline CSS and SVG), so it can be mailed or opened offline. \
            It shows messages and recipients per hour (per day for periods over 62 days), recipient outcomes \
            stacked per hour (per day over 4 days), the top accounts and sending domains, and the windows that \
            `relaysum anomalies` stored, shaded on the timelines (red: compromised, amber: review) with their \
            reasons below. Every chart's numbers are in a table too, and the page prints on A4 landscape.

            Without --since/--until the period is all stored messages. Run `relaysum anomalies` first to have \
            the newest windows on the page.

            Examples:
              relaysum report --html report.html
              relaysum report --html week.html --since 7d
              relaysum report --html november.html --since 2026-11-01 --until 2026-12-01 --top 20
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The HTML file to write (- for standard output).")
    var html: String

    @Option(help: "Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.")
    var since: String?

    @Option(help: "Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.")
    var until: String?

    @Option(help: "How many accounts and sending domains to list (default: 10).")
    var top = 10

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let zone = try database.timeZone()
        let now = Int64(Date().timeIntervalSince1970)
        let since: Int64?
        let until: Int64?
        do {
            since = try self.since.map { try TimeBound.parse($0, now: now, timeZone: zone) }
            until = try self.until.map { try TimeBound.parse($0, now: now, timeZone: zone) }
        } catch let e as TimeBound.Invalid {
            throw ValidationError(e.description)
        }
        if let since, let until, since >= until { throw ValidationError("--since must be before --until") }
        // Hours an ingest left for later (a bulk load) are brought up to date first; a database this user may
        // only read is reported as it stands.
        if FileManager.default.isWritableFile(atPath: database.path) {
            let writable = try ReportStore.open(database, host: nil, readOnly: false)
            _ = try ReportStore.run { try writable.refreshActivity() }
        }
        let store = try ReportStore.open(database, host: nil)
        guard
            let content = try ReportStore.run({
                try HTMLReport.gather(store: store, since: since, until: until, top: top, now: now)
            })
        else {
            throw RelaysumFailure(description: "no messages in \(database.path) yet (run `relaysum ingest` first)")
        }
        let page = Data(HTMLReport.render(content).utf8)
        if html == "-" {
            FileHandle.standardOutput.write(page)
            return
        }
        do {
            try page.write(to: URL(fileURLWithPath: html), options: .atomic)
        } catch {
            throw RelaysumFailure(description: "cannot write \(html): \(error.localizedDescription)")
        }
    }
}
