import Foundation
import Reports
import Store
import Testing

/// `rejects` over the ingested fixtures of both MTAs: every `--by`, the failed-login view and the filters, with
/// exact rows.
@Suite struct RejectsFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mta: String
        var label: String
        var authFailures: Bool
        var grouping: RejectGrouping
        var filter: MessageFilter
        var sort: RejectSort
        var top: Int?
        /// The CSV, with LF line ends.
        var csv: String

        init(
            _ mta: String, _ label: String, auth: Bool = false, _ grouping: RejectGrouping,
            since: String? = nil, until: String? = nil, host: String? = nil, sender: String? = nil,
            sort: RejectSort = .attempts, top: Int? = nil, _ csv: String
        ) {
            self.mta = mta
            self.label = label
            self.authFailures = auth
            self.grouping = grouping
            self.filter = MessageFilter(
                since: since.map(utc), until: until.map(utc), host: host, sender: sender.flatMap(SenderFilter.init))
            self.sort = sort
            self.top = top
            self.csv = csv
        }

        var testDescription: String { "\(mta): \(label)" }
    }

    static let header = "key,attempts,clients,senders,recipients,first_seen,last_seen\n"
    static let authHeader = "key,attempts,clients,logins,first_seen,last_seen\n"

    static let cases: [Case] = [
        Case(
            "postfix", "by client-ip", .clientIP,
            header + """
                192.0.2.20,5,1,1,5,2026-11-10T08:01:01Z,2026-11-10T08:06:02Z
                203.0.113.50,2,1,2,1,2026-11-10T08:00:00Z,2026-11-10T08:00:01Z
                203.0.113.51,2,1,0,1,2026-11-10T08:00:02Z,2026-11-10T08:00:03Z
                192.0.2.10,1,1,1,1,2026-11-09T00:30:01Z,2026-11-09T00:30:01Z
                203.0.113.52,1,1,1,1,2026-11-10T08:00:04Z,2026-11-10T08:00:04Z
                203.0.113.66,1,1,1,1,2026-11-09T00:05:03Z,2026-11-09T00:05:03Z

                """),
        Case(
            "postfix", "by account", .account,
            header + """
                sasl:bob@shop2.example,5,1,1,5,2026-11-10T08:01:01Z,2026-11-10T08:06:02Z
                ip:203.0.113.50,2,1,2,1,2026-11-10T08:00:00Z,2026-11-10T08:00:01Z
                ip:203.0.113.51,2,1,0,1,2026-11-10T08:00:02Z,2026-11-10T08:00:03Z
                ip:203.0.113.52,1,1,1,1,2026-11-10T08:00:04Z,2026-11-10T08:00:04Z
                ip:203.0.113.66,1,1,1,1,2026-11-09T00:05:03Z,2026-11-09T00:05:03Z
                sasl:alice@shop1.example,1,1,1,1,2026-11-09T00:30:01Z,2026-11-09T00:30:01Z

                """),
        Case(
            "postfix", "by sender", .sender,
            header + """
                bob@shop2.example,5,1,1,5,2026-11-10T08:01:01Z,2026-11-10T08:06:02Z
                ,2,1,0,1,2026-11-10T08:00:02Z,2026-11-10T08:00:03Z
                a@spoof.example,1,1,1,1,2026-11-10T08:00:00Z,2026-11-10T08:00:00Z
                alice@shop1.example,1,1,1,1,2026-11-09T00:30:01Z,2026-11-09T00:30:01Z
                b@spam.example,1,1,1,1,2026-11-10T08:00:04Z,2026-11-10T08:00:04Z
                ceo@bank.example,1,1,1,0,2026-11-10T08:00:01Z,2026-11-10T08:00:01Z
                spam@bad.example,1,1,1,1,2026-11-09T00:05:03Z,2026-11-09T00:05:03Z

                """),
        Case(
            "postfix", "by reason", .reason,
            header + """
                554 5.7.1 Relay access denied,2,2,2,2,2026-11-09T00:05:03Z,2026-11-10T08:00:00Z
                "250 2.7.0 Ok, discarded, id=04009-01 - spam",1,1,1,1,2026-11-10T08:06:02Z,2026-11-10T08:06:02Z
                454 4.7.1 Relay access denied,1,1,0,1,2026-11-10T08:00:03Z,2026-11-10T08:00:03Z
                5.7.1 Rejected by rspamd: spam,1,1,1,1,2026-11-10T08:03:01Z,2026-11-10T08:03:01Z
                5.7.1 Spam message rejected,1,1,1,1,2026-11-09T00:30:01Z,2026-11-09T00:30:01Z
                5.7.1 message content rejected (header Subject: You have won a prize),1,1,1,1,2026-11-10T08:01:01Z,2026-11-10T08:01:01Z
                550 5.1.1 Recipient address rejected: User unknown in virtual alias table,1,1,1,1,2026-11-10T08:04:00Z,2026-11-10T08:04:00Z
                550 5.7.1 Service unavailable; client [203.0.113.52] blocked using zen.spamhaus.example,1,1,1,1,2026-11-10T08:00:04Z,2026-11-10T08:00:04Z
                553 5.7.1 Sender address rejected: not logged in,1,1,1,0,2026-11-10T08:00:01Z,2026-11-10T08:00:01Z
                554 5.7.1 Client host rejected: Access denied,1,1,0,0,2026-11-10T08:00:02Z,2026-11-10T08:00:02Z
                phishing link (body http://phish.example/login),1,1,1,1,2026-11-10T08:02:01Z,2026-11-10T08:02:01Z

                """),
        Case(
            "postfix", "--sender domain", .sender, sender: "shop2.example",
            header + """
                bob@shop2.example,5,1,1,5,2026-11-10T08:01:01Z,2026-11-10T08:06:02Z

                """),
        Case(
            "postfix", "--since/--until", .clientIP, since: "2026-11-10T08:00:01Z", until: "2026-11-10T08:00:04Z",
            header + """
                203.0.113.51,2,1,0,1,2026-11-10T08:00:02Z,2026-11-10T08:00:03Z
                203.0.113.50,1,1,1,0,2026-11-10T08:00:01Z,2026-11-10T08:00:01Z

                """),
        Case(
            "postfix", "failed logins by client-ip", auth: true, .clientIP,
            authHeader + """
                203.0.113.66,2,1,1,2026-11-09T00:05:01Z,2026-11-09T00:05:02Z
                203.0.113.53,1,1,0,2026-11-10T08:05:01Z,2026-11-10T08:05:01Z

                """),
        Case(
            "postfix", "failed logins by account", auth: true, .account,
            authHeader + """
                ,2,2,0,2026-11-09T00:05:01Z,2026-11-10T08:05:01Z
                sasl:alice@shop1.example,1,1,1,2026-11-09T00:05:02Z,2026-11-09T00:05:02Z

                """),
        Case(
            "postfix", "failed logins by reason", auth: true, .reason,
            authHeader + """
                Invalid authentication mechanism,1,1,0,2026-11-10T08:05:01Z,2026-11-10T08:05:01Z
                UGFzc3dvcmQ6,1,1,0,2026-11-09T00:05:01Z,2026-11-09T00:05:01Z
                authentication failure,1,1,1,2026-11-09T00:05:02Z,2026-11-09T00:05:02Z

                """),
        Case(
            "exim", "by client-ip", .clientIP,
            header + """
                192.0.2.11,6,1,2,2,2026-11-09T11:00:03Z,2026-11-09T13:21:00Z
                192.0.2.12,3,1,2,1,2026-11-09T11:00:12Z,2026-11-09T11:00:14Z
                192.0.2.10,2,1,1,1,2026-11-09T11:00:00Z,2026-11-09T11:00:11Z
                192.0.2.21,2,1,2,0,2026-11-09T11:00:09Z,2026-11-09T11:00:10Z
                ,1,0,1,1,2026-11-09T11:00:21Z,2026-11-09T11:00:21Z
                203.0.113.80,1,1,1,1,2026-11-09T11:00:01Z,2026-11-09T11:00:01Z
                203.0.113.81,1,1,1,1,2026-11-09T11:00:02Z,2026-11-09T11:00:02Z
                203.0.113.82,1,1,0,0,2026-11-09T11:00:05Z,2026-11-09T11:00:05Z
                203.0.113.83,1,1,0,0,2026-11-09T11:00:06Z,2026-11-09T11:00:06Z
                203.0.113.84,1,1,0,0,2026-11-09T11:00:07Z,2026-11-09T11:00:07Z
                203.0.113.85,1,1,1,0,2026-11-09T11:00:08Z,2026-11-09T11:00:08Z

                """),
        Case(
            "exim", "by account, one relay, top 1", .account, host: "vm", top: 1,
            header + """
                ip:192.0.2.11,3,1,2,2,2026-11-09T11:00:03Z,2026-11-09T11:00:22Z

                """),
        Case(
            "exim", "by sender <>", .sender, sender: "<>",
            header + """
                <>,1,1,1,1,2026-11-09T11:00:03Z,2026-11-09T11:00:03Z

                """),
        Case(
            "exim", "by reason, latest first", .reason, sort: .lastSeen, top: 2,
            header + """
                spam score too high,1,1,1,0,2026-11-09T13:21:00Z,2026-11-09T13:21:00Z
                relay not permitted,4,3,3,3,2026-11-09T11:00:00Z,2026-11-09T13:20:30Z

                """),
        Case(
            "exim", "failed logins by account", auth: true, .account,
            authHeader + """
                sasl:mallory@shop1.example,2,1,1,2026-11-09T11:00:15Z,2026-11-09T13:31:00Z
                ,1,1,0,2026-11-09T11:00:17Z,2026-11-09T11:00:17Z
                sasl:eve,1,1,1,2026-11-09T11:00:18Z,2026-11-09T11:00:18Z
                sasl:info@shop1.example,1,1,1,2026-11-09T11:00:16Z,2026-11-09T11:00:16Z

                """),
        Case(
            "exim", "failed logins by reason", auth: true, .reason,
            authHeader + """
                535 Incorrect authentication data,5,4,3,2026-11-09T11:00:15Z,2026-11-09T13:31:00Z

                """),
    ]

    @Test(arguments: cases)
    func rows(_ c: Case) throws {
        if c.mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let store = try FixtureDatabases.store(c.mta)
        let csv =
            c.authFailures
            ? RejectsReport.render(
                try store.authFailures(by: c.grouping, filter: c.filter, sort: c.sort, top: c.top), as: .csv)
            : RejectsReport.render(
                try store.rejects(by: c.grouping, filter: c.filter, sort: c.sort, top: c.top), as: .csv)
        #expect(lf(csv) == c.csv)
        let json =
            c.authFailures
            ? RejectsReport.render(
                try store.authFailures(by: c.grouping, filter: c.filter, sort: c.sort, top: c.top), as: .json)
            : RejectsReport.render(
                try store.rejects(by: c.grouping, filter: c.filter, sort: c.sort, top: c.top), as: .json)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(objects.count == c.csv.split(separator: "\n").count - 1)
    }

    @Test func failedLoginsHaveNoSender() throws {
        let store = try FixtureDatabases.store("postfix")
        #expect(throws: StoreError.self) {
            try store.authFailures(by: .sender, filter: MessageFilter(), top: nil)
        }
    }

    struct Reason: Sendable {
        var code: String?
        var dsn: String?
        var reason: String
        var key: String
    }

    @Test(arguments: [
        Reason(
            code: "554", dsn: "5.7.1", reason: "<x@far.example>: Relay access denied",
            key: "554 5.7.1 Relay access denied"),
        Reason(code: nil, dsn: "2.7.0", reason: "250 2.7.0 Ok, discarded", key: "250 2.7.0 Ok, discarded"),
        Reason(code: "550", dsn: nil, reason: "550 too many", key: "550 too many"),
        Reason(code: nil, dsn: nil, reason: "<unterminated: x", key: "<unterminated: x"),
        Reason(code: "", dsn: nil, reason: "relay not permitted", key: "relay not permitted"),
    ])
    func reasonKeys(_ r: Reason) {
        #expect(RelayStore.rejectReason(code: r.code, dsn: r.dsn, reason: r.reason) == r.key)
    }
}
