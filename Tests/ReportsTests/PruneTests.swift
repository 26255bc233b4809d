import Config
import Foundation
import GRDB
import Reports
import Store
import Testing

/// `RelayStore.prune`: what stays reports as before, the aggregates stay a GROUP BY of the rows that stay, the
/// file shrinks, and an ingest after a prune neither loses nor double counts a message that was still open.
@Suite struct PruneTests {
    static let logArguments = ["--mta", "both", "--messages", "1500", "--days", "4", "--seed", "5"]
    /// Midnight UTC of the third day; `olderThan` is later the same day, so the cut is rounded down to it.
    static let cut = utc("2026-11-09T00:00:00Z")
    static let olderThan = utc("2026-11-09T05:30:00Z")

    /// Everything the kept period reports: every summary grouping and the licence uses, from `cut` on.
    struct KeptReports: Equatable {
        var summaries: [[SummaryRow]]
        var license: [LicenseUse]
        var hours: [AccountHour]

        init(_ store: RelayStore) throws {
            let filter = MessageFilter(since: PruneTests.cut, until: nil)
            summaries = try SummaryGrouping.allCases.map {
                try store.summary(SummaryRequest(grouping: $0, filter: filter, sort: .key)).map(\.row)
            }
            license = try store.licenseUses(filter: filter)
            hours = try store.accountHours(from: PruneTests.cut, to: .max)
        }
    }

    static func logs() throws -> [String] {
        let dir = try GeneratedLogs.directory(logArguments)
        var files = [dir.appendingPathComponent("postfix/mail.log").path]
        if FixtureDatabases.eximAvailable { files.append(dir.appendingPathComponent("exim/mainlog").path) }
        return files
    }

    static func count(_ store: RelayStore, _ sql: String) throws -> Int {
        try store.read { db in try Int.fetchOne(db, sql: sql, arguments: [cut]) ?? -1 }
    }

    @Test(.enabled(if: ReportPaths.python != nil, "python3 is not installed"))
    func keptPeriodReportsAsBeforeAndTheFileShrinks() throws {
        let db = try ScratchDatabase()
        try db.ingest(try Self.logs())
        let store = try RelayStore(path: db.path)
        _ = try AnomalyReport.run(
            store: store, since: nil, until: nil, account: nil, thresholds: AnomalyThresholds(), now: Self.cut)
        let before = try KeptReports(store)
        let findingsBefore = try store.findings(from: Self.cut)
        // Records of abuse reports: of rejects on either side of the cut, and of every stored finding.
        func report(_ key: String, _ kind: String, _ at: Int64) -> ARFReportRecord {
            ARFReportRecord(
                sourceKey: key, kind: kind, account: "sasl:x", abuseAddress: "abuse@isp.example", eventAt: at,
                message: [], state: .sent, createdAt: at)
        }
        let allFindings = try store.findings()
        #expect(allFindings.contains { $0.windowEnd <= Self.cut }, "the test needs findings before the cut")
        try store.insertARFReports(
            [report("reject:#1", "reject", Self.cut - 60), report("reject:#999999", "reject", Self.cut + 60)]
                + allFindings.map { report("finding:\($0.account):\($0.windowStart)", "compromised", $0.windowStart) })
        let reportsKept =
            ["reject:#999999"]
            + allFindings.filter { $0.windowEnd > Self.cut }.map { "finding:\($0.account):\($0.windowStart)" }
        let oldMessages = try Self.count(store, "SELECT count(*) FROM messages WHERE received_at < ?")
        #expect(oldMessages > 500)
        #expect(try Self.count(store, "SELECT count(*) FROM account_hours WHERE hour < ?") > 0)

        let dry = try store.prune(olderThan: Self.olderThan, dryRun: true)
        #expect(dry.cut == Self.cut)
        #expect(dry.messages + dry.keptOpenMessages == oldMessages)
        #expect(try Self.count(store, "SELECT count(*) FROM messages WHERE received_at < ?") == oldMessages)

        let result = try store.prune(olderThan: Self.olderThan)
        #expect(result == dry)
        #expect(result.rejects > 0 && result.authFailures > 0 && result.messageBuckets > 0)
        #expect(result.recipientDomainBuckets > 0 && result.accountHours > 0 && result.accountHourKeys > 0)
        let (bytesBefore, bytesAfter) = try store.reclaimSpace()
        #expect(bytesAfter < bytesBefore * 3 / 4, "\(bytesBefore) -> \(bytesAfter) bytes")

        #expect(try store.aggregateMismatches() == [])
        #expect(try KeptReports(store) == before)
        #expect(try store.findings(from: Self.cut) == findingsBefore)
        #expect(try store.findings().allSatisfy { $0.windowEnd > Self.cut })
        #expect(try store.arfReportSummaries().map(\.sourceKey).sorted() == reportsKept.sorted())
        #expect(result.abuseReports == allFindings.count + 2 - reportsKept.count)
        // Only messages still open stay from before the cut; nothing else does.
        #expect(
            try Self.count(store, "SELECT count(*) FROM messages WHERE received_at < ?") == result.keptOpenMessages)
        for table in ["rejects WHERE at", "auth_failures WHERE at", "message_buckets WHERE start"] {
            let kept = try Self.count(store, "SELECT count(*) FROM \(table) < ?")
            #expect(kept == 0 || (table.hasPrefix("message") && result.keptOpenMessages > 0), "\(table)")
        }
        // Pruning again finds nothing more.
        #expect(try store.prune(olderThan: Self.olderThan).total == 0)
    }

    /// A prune between two ingests of one growing log: messages received before the cut and still open at the
    /// prune keep their rows, so the ingest that sees their end rewrites them exactly; the kept period equals a
    /// database that read the whole log at once, and the log is not read again.
    @Test(.enabled(if: ReportPaths.python != nil, "python3 is not installed"))
    func anIngestAfterAPruneCountsOpenMessagesOnce() throws {
        let dir = try GeneratedLogs.directory(Self.logArguments)
        let full = try Data(contentsOf: dir.appendingPathComponent("postfix/mail.log"))
        let whole = try ScratchDatabase()
        try whole.ingest([dir.appendingPathComponent("postfix/mail.log").path])
        try RelayStore(path: whole.path).refreshActivity()
        let expected = try KeptReports(try whole.store())

        // The first part ends in the morning after the cut, when mail of the day before still waits in the queue.
        let marker = Data("\nNov  9 07:".utf8)
        let split = try #require(full.range(of: marker)).lowerBound + 1
        let db = try ScratchDatabase()
        let live = db.dir.appendingPathComponent("mail.log")
        try full[..<split].write(to: live)
        try db.ingest([live.path], batchLines: 997)
        let store = try RelayStore(path: db.path)
        let result = try store.prune(olderThan: Self.olderThan)
        #expect(result.keptOpenMessages > 0, "the test needs messages open across the prune")
        #expect(try store.aggregateMismatches() == [])
        _ = try store.reclaimSpace()

        let h = try FileHandle(forWritingTo: live)
        try h.seekToEnd()
        try h.write(contentsOf: full[split...])
        try h.close()
        let report = try db.ingest([live.path], batchLines: 997)
        #expect(report.files.first?.lines == full[split...].split(separator: UInt8(ascii: "\n")).count)
        try store.refreshActivity()
        let after = try db.store()
        #expect(try after.aggregateMismatches() == [])
        #expect(try KeptReports(after) == expected)
        // And once more: nothing new, nothing counted twice.
        #expect(try db.ingest([live.path]).stats.lines == 0)
        #expect(try KeptReports(try db.store()) == expected)
    }
}
