import Config
import Foundation
import Store
import Testing

@testable import ARF

/// What is reported, to whom, and the per-account limit, over a real store.
@Suite struct ReportPlannerTests {
    static let t0: Int64 = 1_794_222_000  // 2026-11-09 11:00 UTC

    static func reject(
        _ offset: Int64, kind: RejectKind, stage: String?, queueID: String? = "Q1",
        login: String? = "alice@shop1.example",
        ip: String = "192.0.2.10", sender: String = "alice@shop1.example", to: String? = "bob@far.example",
        code: String? = nil, dsn: String? = "5.7.1", reason: String = "Spam message rejected"
    ) -> RejectRecord {
        RejectRecord(
            host: "relay1", mta: .postfix, at: t0 + offset, kind: kind, stage: stage, queueID: queueID, clientIP: ip,
            clientName: "mail.shop1.example", login: login, sender: sender, recipient: to, code: code, dsn: dsn,
            reason: reason)
    }

    static func message(
        _ id: Int64, _ offset: Int64, account: String, sender: String, recipients: [(String, RecipientOutcome)],
        messageID: String? = nil
    ) -> MessageWrite {
        MessageWrite(
            record: MessageRecord(
                rowID: id, host: "relay1", mta: .postfix, queueID: "M\(id)", messageID: messageID, origin: .smtp,
                account: account, clientIP: "203.0.113.\(id)", clientName: nil, sender: sender, size: 1000,
                receivedAt: t0 + offset, completedAt: t0 + offset + 5,
                recipients: recipients.map { RecipientRecord(address: $0.0, outcome: $0.1, attempts: 1) }),
            replaces: false)
    }

    static func configuration(limit: Int = 0) -> RelaysumConfiguration {
        var c = RelaysumConfiguration()
        c.report.from = "abuse-desk@relay.example"
        c.report.reportingMTA = "relay.example"
        c.report.limit = limit
        c.abuse.users["sasl:alice@shop1.example"] = "abuse@shop1.example"
        c.abuse.domains["shop2.example"] = "abuse@shop2.example"
        return c
    }

    func store(_ dir: ScratchDirectory, rejects: [RejectRecord], messages: [MessageWrite] = []) throws -> RelayStore {
        let store = try RelayStore(path: dir.path("relaysum.sqlite"))
        var batch = WriteBatch()
        batch.rejects = rejects
        batch.messages = messages
        try store.write(batch)
        return store
    }

    @Test func reportsMessagesRefusedForTheirContentOnly() throws {
        let dir = try ScratchDirectory("select")
        defer { dir.cleanUp() }
        let s = try store(
            dir,
            rejects: [
                Self.reject(0, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A1"),
                Self.reject(10, kind: .reject, stage: "RCPT", queueID: nil, code: "554", reason: "Relay access denied"),
                Self.reject(
                    20, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "E1",
                    reason: "temporarily rejected: spam scanner unavailable"),
                Self.reject(30, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "T1", dsn: "4.7.1"),
                Self.reject(
                    40, kind: .checkReject, stage: "HEADER", queueID: "H1",
                    reason: "message content rejected (header Subject: You have won a prize)"),
                // A content filter's discard is logged once per recipient: one message, one report.
                Self.reject(50, kind: .contentReject, stage: "CONTENT-FILTER", queueID: "C1", to: "x@far.example"),
                Self.reject(50, kind: .contentReject, stage: "CONTENT-FILTER", queueID: "C1", to: "y@far.example"),
                Self.reject(60, kind: .discard, stage: "RCPT", queueID: nil, reason: "spamtrap"),
            ])
        let plan = try ReportPlanner(
            store: s, configuration: Self.configuration(), userAgent: "relaysum/t", now: Self.t0
        )
        .plan()
        #expect(
            plan.reports.map(\.sourceKey) == [
                "reject:relay1:A1:\(Self.t0)", "reject:relay1:H1:\(Self.t0 + 40)", "reject:relay1:C1:\(Self.t0 + 50)",
            ])
        #expect(plan.reports.allSatisfy { $0.abuseAddress == "abuse@shop1.example" && $0.state == .pending })
        let header = BuiltReport(plan.reports[1].message)
        #expect(header.originalHeaders.contains("Subject: You have won a prize"))
        #expect(header.headers.first { $0.name == "Subject" }?.value == "FW: You have won a prize")
        let filter = BuiltReport(plan.reports[2].message)
        #expect(
            filter.feedbackFields.filter { $0.hasPrefix("Original-Rcpt-To:") } == [
                "Original-Rcpt-To: <x@far.example>", "Original-Rcpt-To: <y@far.example>",
            ])
        // Stored, they are not planned again.
        try s.insertARFReports(plan.reports)
        let again = try ReportPlanner(
            store: s, configuration: Self.configuration(), userAgent: "relaysum/t", now: Self.t0
        )
        .plan()
        #expect(again.reports.isEmpty)
    }

    @Test func abuseAddressByAccountThenLoginDomainThenSenderDomainThenDefault() throws {
        var c = Self.configuration()
        #expect(
            c.abuseAddress(account: "sasl:alice@shop1.example", senderDomain: "shop2.example") == "abuse@shop1.example")
        #expect(c.abuseAddress(account: "sasl:carol", senderDomain: "news.shop2.example") == "abuse@shop2.example")
        #expect(c.abuseAddress(account: "sasl:carol", senderDomain: "other.example") == nil)
        c.abuse.users["192.0.2.99"] = "noc@shop1.example"
        #expect(c.abuseAddress(account: "ip:192.0.2.99", senderDomain: nil) == "noc@shop1.example")
        c.abuse.defaultAddress = "abuse@hosting.example"
        #expect(c.abuseAddress(account: "sasl:carol", senderDomain: "other.example") == "abuse@hosting.example")
        // A login that is an address belongs to its domain's customer, whatever sender an intruder forged.
        #expect(
            c.abuseAddress(account: "sasl:dave@mail.shop2.example", senderDomain: "forged.example")
                == "abuse@shop2.example")
        #expect(c.abuseAddress(account: "ip:192.0.2.7", senderDomain: "shop2.example") == "abuse@shop2.example")
    }

    @Test func withoutAnAddressNothingIsBuiltAndThePlanSaysSo() throws {
        let dir = try ScratchDirectory("unaddressed")
        defer { dir.cleanUp() }
        let s = try store(
            dir,
            rejects: [
                Self.reject(
                    0, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A1", login: "carol",
                    sender: "c@x.example"),
                Self.reject(
                    9, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A2", login: "carol",
                    sender: "c@x.example"),
            ])
        let plan = try ReportPlanner(
            store: s, configuration: Self.configuration(), userAgent: "relaysum/t", now: Self.t0
        )
        .plan()
        #expect(plan.reports.isEmpty)
        #expect(plan.unaddressed == ["sasl:carol": 2])
    }

    @Test func perAccountLimitHoldsTheRestOfTheSameKind() throws {
        let dir = try ScratchDirectory("limit")
        defer { dir.cleanUp() }
        let s = try store(
            dir,
            rejects: [
                Self.reject(0, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A1"),
                Self.reject(3600, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A2"),
                Self.reject(25 * 3600, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "A3"),
                Self.reject(
                    60, kind: .contentReject, stage: "END-OF-MESSAGE", queueID: "B1", login: "bob",
                    sender: "b@shop2.example"),
            ],
            messages: [
                Self.message(
                    1, 120, account: "sasl:alice@shop1.example", sender: "alice@shop1.example",
                    recipients: [("z@far.example", .bounced)])
            ])
        try s.saveFindings([
            AnomalyFindingRecord(
                account: "sasl:alice@shop1.example", windowStart: Self.t0, windowEnd: Self.t0 + 3600,
                verdict: "compromised",
                score: 9, reasons: "failures", messages: 1, recipients: 1, failed: 1, detectedAt: Self.t0)
        ])
        let plan = try ReportPlanner(
            store: s, configuration: Self.configuration(limit: 1), userAgent: "relaysum/t", now: Self.t0
        )
        .plan()
        let states = Dictionary(uniqueKeysWithValues: plan.reports.map { ($0.sourceKey, $0.state) })
        #expect(states["finding:sasl:alice@shop1.example:\(Self.t0)"] == .pending)
        #expect(states["reject:relay1:A1:\(Self.t0)"] == .pending)
        #expect(states["reject:relay1:A2:\(Self.t0 + 3600)"] == .held)
        #expect(states["reject:relay1:A3:\(Self.t0 + 25 * 3600)"] == .pending)
        #expect(states["reject:relay1:B1:\(Self.t0 + 60)"] == .pending)
    }

    @Test func compromisedFindingReportsARepresentativeMessageWithIncidents() throws {
        let dir = try ScratchDirectory("finding")
        defer { dir.cleanUp() }
        let account = "sasl:alice@shop1.example"
        let s = try store(
            dir, rejects: [],
            messages: [
                Self.message(
                    1, 60, account: account, sender: "alice@shop1.example", recipients: [("a@far.example", .delivered)]),
                Self.message(
                    2, 120, account: account, sender: "alice@shop1.example",
                    recipients: [
                        ("b@far.example", .bounced), ("c@far.example", .deferred), ("d@far.example", .delivered),
                    ],
                    messageID: "spam-2@shop1.example"),
                Self.message(
                    3, 180, account: account, sender: "alice@shop1.example", recipients: [("e@far.example", .bounced)]),
                Self.message(
                    4, 240, account: "sasl:other", sender: "o@x.example", recipients: [("f@far.example", .bounced)]),
            ])
        try s.saveFindings([
            AnomalyFindingRecord(
                account: account, windowStart: Self.t0, windowEnd: Self.t0 + 3600, verdict: "compromised", score: 7.5,
                reasons: "3 of 5 recipients failed; new network 203.0.113.0/24", messages: 3, recipients: 5, failed: 3,
                detectedAt: Self.t0),
            AnomalyFindingRecord(
                account: "sasl:other", windowStart: Self.t0, windowEnd: Self.t0 + 3600, verdict: "review", score: 2,
                reasons: "volume", messages: 1, recipients: 1, failed: 1, detectedAt: Self.t0),
        ])
        let plan = try ReportPlanner(
            store: s, configuration: Self.configuration(), userAgent: "relaysum/t", now: Self.t0
        )
        .plan()
        #expect(plan.reports.count == 1)
        let r = try #require(plan.reports.first)
        #expect(r.kind == "compromised" && r.account == account && r.abuseAddress == "abuse@shop1.example")
        let built = BuiltReport(r.message)
        #expect(built.feedbackFields.contains("Incidents: 3"))
        #expect(built.feedbackFields.contains("Source-IP: 203.0.113.2"))
        #expect(built.originalHeaders.contains("Message-ID: <spam-2@shop1.example>"))
        #expect(built.description.contains("3 of 5 recipients failed; new network 203.0.113.0/24"))
        let file = dir.path("finding.eml")
        try Data(r.message).write(to: URL(fileURLWithPath: file))
        #expect(try IndependentChecks.validate([file]).isEmpty)
        let read = try IndependentChecks.sisimai([file])
        #expect(read[file]?.type == "abuse")
        #expect(read[file]?.recipients == ["b@far.example", "c@far.example", "d@far.example"])
    }
}
