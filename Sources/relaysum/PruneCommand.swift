import ArgumentParser
import Foundation
import Reports
import Store

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Deletes stored data older than a cut and gives the space back (retention).",
        discussion: """
            Deletes, in one transaction, the messages and their recipients received before the cut, rejected \
            attempts, failed logins, the day totals, the hourly account activity, anomaly findings and judged \
            periods that ended by then, and the records of abuse reports about what went; then VACUUMs the file \
            so it shrinks. The cut is rounded down to the start \
            of its UTC day (the stored totals are per UTC day), so reports of the days kept are unchanged.

            Kept whatever their age: what ingest remembers of each log file (so no line is read again), and \
            messages still waiting for a delivery (their end may come in the next ingest). Prune waits for no \
            ingest: if one is running it exits with status 1; run it from the same cron job, after ingest.

            Examples:
              relaysum prune --older-than 90d --dry-run
              relaysum prune --older-than 90d
              relaysum prune --older-than 2026-01-01 --no-vacuum
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var configuration: ConfigOptions

    @Option(
        help: """
            Delete what is older than this: a span back from now (90d, 12w) or an ISO 8601 date or date-time, \
            rounded down to its UTC day (default: older_than in the [retention] section of the configuration file).
            """)
    var olderThan: String?

    @Flag(help: "Print what would be deleted, and delete nothing.")
    var dryRun = false

    @Flag(help: "Do not VACUUM afterwards (the freed pages are reused by later ingests, but the file stays as large).")
    var noVacuum = false

    func run() throws {
        guard let olderThan = try olderThan ?? configuration.load().retention.olderThan else {
            throw ValidationError(
                "name the cut with --older-than (for example 90d), or set older_than in the [retention] section of "
                    + "the configuration file")
        }
        let time: Int64
        do {
            time = try TimeBound.parse(
                olderThan, now: Int64(Date().timeIntervalSince1970), timeZone: try database.timeZone())
        } catch let e as TimeBound.Invalid {
            throw ValidationError("--older-than: \(e.description)")
        }
        let store = try ReportStore.open(database, host: nil, readOnly: false)
        let lock: IngestLock
        do {
            lock = try IngestLock(databasePath: database.path)
        } catch let e as IngestLock.Busy {
            throw RelaysumFailure(description: e.description)
        }
        defer { lock.release() }
        let sizeBefore = store.fileBytes()
        let result = try ReportStore.run { try store.prune(olderThan: time, dryRun: dryRun) }
        print(PruneText.render(result, dryRun: dryRun), terminator: "")
        if !dryRun && !noVacuum && result.total > 0 {
            let (_, after) = try ReportStore.run { try store.reclaimSpace() }
            print(
                String(
                    format: "vacuum: the file went from %.1f MB to %.1f MB", Double(sizeBefore) / 1e6,
                    Double(after) / 1e6))
        }
    }
}

/// What `prune` prints.
enum PruneText {
    static func render(_ r: PruneResult, dryRun: Bool) -> String {
        let verb = dryRun ? "would delete" : "deleted"
        let rows: [(String, Int)] = [
            ("messages", r.messages), ("recipients", r.recipients), ("rejected attempts", r.rejects),
            ("failed logins", r.authFailures), ("message day totals", r.messageBuckets),
            ("recipient-domain day totals", r.recipientDomainBuckets), ("account hours", r.accountHours),
            ("account hour keys", r.accountHourKeys), ("anomaly findings", r.findings),
            ("judged periods", r.anomalyRuns), ("abuse report records", r.abuseReports),
        ]
        var out = "prune: everything before \(ISO8601.utc(r.cut)) (\(verb)):\n"
        let width = rows.map(\.1.description.count).max() ?? 1
        for (label, n) in rows {
            out += "  " + String(repeating: " ", count: width - n.description.count) + "\(n) \(label)\n"
        }
        if r.keptOpenMessages > 0 {
            out += "  kept \(r.keptOpenMessages) older message(s) still waiting for a delivery\n"
        }
        return out
    }
}
