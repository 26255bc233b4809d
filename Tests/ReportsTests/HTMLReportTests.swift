import Foundation
import Reports
import Store
import Testing

/// The numbers `report --html` draws equal the summaries, by the hour and by the day; text from logs is escaped.
@Suite struct HTMLReportTests {
    static func totals(_ bins: [TrafficBin]) -> [Int64] {
        bins.reduce(into: [0, 0, 0, 0, 0, 0]) { t, b in
            t[0] += b.messages
            t[1] += b.recipients
            t[2] += b.delivered
            t[3] += b.deferred
            t[4] += b.bounced
            t[5] += b.bytes
        }
    }

    static func totals(_ rows: [SummaryRow]) -> [Int64] {
        rows.reduce(into: [0, 0, 0, 0, 0, 0]) { t, r in
            t[0] += r.messages
            t[1] += r.recipients
            t[2] += r.delivered
            t[3] += r.deferred
            t[4] += r.bounced
            t[5] += r.bytes
        }
    }

    @Test(.enabled(if: ReportPaths.python != nil, "python3 is not installed"))
    func binsEqualTheSummariesHourlyAndDaily() throws {
        let db = try ScratchDatabase()
        try db.ingest([
            try GeneratedLogs.directory(PruneTests.logArguments).appendingPathComponent("postfix/mail.log").path
        ])
        try RelayStore(path: db.path).refreshActivity()
        let store = try db.store()
        let start = utc("2026-11-07T00:00:00Z")

        // Four days: by the hour on both charts, from the account activity (messages with an account).
        let short = try #require(try HTMLReport.gather(store: store, since: nil, until: nil, top: 5, now: 0))
        #expect(short.timelineSeconds == 3600 && short.outcomeSeconds == 3600)
        #expect(short.period.lowerBound == start)
        #expect(short.timeline.count == Int(short.period.count / 3600))
        let byAccount = try store.summary(by: .account, filter: MessageFilter(), top: nil)
        #expect(Self.totals(short.timeline) == Self.totals(byAccount.filter { $0.key != nil }))
        #expect(short.topAccounts.map(\.messages) == Array(byAccount.map(\.messages).sorted(by: >).prefix(5)))

        // Seventy days: by the day, from the day totals (every accepted message).
        let long = try #require(
            try HTMLReport.gather(store: store, since: start - 60 * 86_400, until: start + 10 * 86_400, top: 5, now: 0))
        #expect(long.timelineSeconds == 86_400 && long.outcomeSeconds == 86_400)
        #expect(long.timeline.count == 70)
        let bySender = try store.summary(by: .sender, filter: MessageFilter(), top: nil)
        #expect(Self.totals(long.timeline) == Self.totals(bySender))
        #expect(long.timeline.filter { $0.messages > 0 }.map(\.start) == (0..<4).map { start + Int64($0) * 86_400 })
    }

    @Test func logTextIsEscapedEverywhere() throws {
        let hostile = #"<script>alert("x")</script>&'"#
        let row = SummaryRow(
            key: hostile, messages: 3, recipients: 4, delivered: 4, deferred: 0, bounced: 0, bytes: 10, firstSeen: 0,
            lastSeen: 0)
        let finding = AnomalyFindingRecord(
            account: hostile, windowStart: 3600, windowEnd: 7200, verdict: "compromised", score: 9,
            reasons: hostile, messages: 3, recipients: 4, failed: 0, detectedAt: 0)
        let page = HTMLReport.render(
            HTMLReport.Content(
                period: 0..<86_400, timeline: [TrafficBin(start: 3600, messages: 3, recipients: 4, delivered: 4)],
                timelineSeconds: 3600, outcomes: [TrafficBin(start: 3600, delivered: 4)], outcomeSeconds: 3600,
                topAccounts: [row], topDomains: [row], findings: [finding], generatedAt: 0,
                databaseName: "<db>.sqlite"))
        #expect(!page.contains("<script"))
        #expect(!page.contains("<db>"))
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        // Bar label, its tooltip, two table cells, the window's tooltip, the finding's account and reasons.
        #expect(page.components(separatedBy: escaped).count - 1 >= 8, "\(page)")
        #expect(page.contains(#"<rect class="window compromised""#))
    }
}
