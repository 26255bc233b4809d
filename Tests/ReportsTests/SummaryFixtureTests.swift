import Foundation
import Reports
import Store
import Testing

/// `summary` over the ingested fixtures of both MTAs: every `--by`, filter, drill-down and format, with exact rows.
@Suite struct SummaryFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mta: String
        var request: SummaryRequest
        var label: String
        /// The CSV, with LF line ends.
        var csv: String

        init(_ mta: String, _ label: String, _ request: SummaryRequest, _ csv: String) {
            self.mta = mta
            self.label = label
            self.request = request
            self.csv = csv
        }

        var testDescription: String { "\(mta): \(label)" }
    }

    static let header = "key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen\n"

    static func request(
        _ by: SummaryGrouping, since: String? = nil, until: String? = nil, host: String? = nil, sender: String? = nil,
        sort: SummarySort = .messages, top: Int? = nil, recipients: Bool = false, ids: Bool = false
    ) -> SummaryRequest {
        SummaryRequest(
            grouping: by,
            filter: MessageFilter(
                since: since.map(utc), until: until.map(utc), host: host, sender: sender.flatMap(SenderFilter.init)),
            sort: sort, top: top, recipients: recipients, ids: ids)
    }

    static let postfixCases: [Case] = [
        Case(
            "postfix", "by sender", request(.sender),
            header + """
                bob@shop2.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                <>,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                alice@shop1.example,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                backup@relay2.example,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                billing@client1.isp.example,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                news@hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                orders@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                www-data@relay1.example,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z

                """),
        Case(
            "postfix", "by sender-domain", request(.senderDomain),
            header + """
                shop2.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                ,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                client1.isp.example,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                relay1.example,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z
                relay2.example,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                shop1.example,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "by account", request(.account),
            header + """
                sasl:bob@shop2.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                ip:198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                ip:203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                local:1001,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                local:33,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z
                sasl:alice@shop1.example,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                sasl:shop@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                sasl:u1234,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z

                """),
        Case(
            "postfix", "by client-ip", request(.clientIP),
            header + """
                ,2,2,0,0,2,1112,2026-11-09T00:10:00Z,2026-11-09T09:20:00Z
                192.0.2.20,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                192.0.2.10,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                198.51.100.44,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                2001:db8:10::25,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z

                """),
        Case(
            "postfix", "by recipient-domain", request(.recipientDomain),
            header + """
                far.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                other.example,2,2,1,1,0,17345,2026-11-09T00:02:49Z,2026-11-09T00:20:00Z
                customer.example,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                dest.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                gone.example,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z
                list.example,1,2,1,0,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                mail.example,1,1,1,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                monitor.example,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                nowhere.invalid,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                store.example,1,1,1,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "--sender address, by account", request(.account, sender: "Alice@Shop1.example"),
            header + """
                sasl:alice@shop1.example,1,2,2,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z

                """),
        Case(
            "postfix", "--sender domain", request(.sender, sender: "shop2.example"),
            header + """
                bob@shop2.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z

                """),
        Case(
            "postfix", "--sender @domain is exact, not subdomains", request(.sender, sender: "@isp.example"),
            header),
        Case(
            "postfix", "--sender @domain", request(.sender, sender: "@store.example"),
            header + """
                orders@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "--sender local part at every domain", request(.senderDomain, sender: "news"),
            header + """
                hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z

                """),
        Case(
            "postfix", "--sender <>, by account", request(.account, sender: "<>"),
            header + """
                ip:203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z

                """),
        Case(
            "postfix", "--since/--until inside one day",
            request(.sender, since: "2026-11-09T09:00:00Z", until: "2026-11-09T09:10:00Z"),
            header + """
                billing@client1.isp.example,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                orders@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "--since/--until over a whole day and edges",
            request(.account, since: "2026-11-09T00:15:00Z", until: "2026-11-10T00:00:00Z"),
            header + """
                ip:198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                ip:203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                local:1001,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                sasl:shop@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                sasl:u1234,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z

                """),
        Case(
            "postfix", "--until is exclusive, to the second",
            request(.recipientDomain, since: "2026-11-09T00:02:49Z", until: "2026-11-09T00:20:00Z"),
            header + """
                dest.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                gone.example,1,1,0,0,1,812,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z
                other.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z

                """),
        Case(
            "postfix", "--host", request(.sender, host: "relay2"),
            header + """
                <>,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                backup@relay2.example,1,1,0,0,1,300,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                billing@client1.isp.example,1,1,1,0,0,4096,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                orders@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "--top 2 --sort bytes", request(.sender, sort: .bytes, top: 2),
            header + """
                orders@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z
                news@hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z

                """),
        Case(
            "postfix", "--sort first-seen --top 3", request(.clientIP, sort: .firstSeen, top: 3),
            header + """
                192.0.2.20,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z
                198.51.100.44,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "--sort key", request(.account, sort: .key, top: 2),
            header + """
                ip:198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                ip:203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z

                """),
        Case(
            "postfix", "--recipients", request(.sender, sender: "news@hosting.example", recipients: true),
            """
            key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,parent
            news@hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,
            a1@list.example,1,1,1,0,0,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,news@hosting.example
            a2@list.example,1,1,0,0,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,news@hosting.example
            a3@other.example,1,1,0,1,0,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,news@hosting.example

            """),
        Case(
            "postfix", "--ids --top 3", request(.account, top: 3, ids: true),
            """
            key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,ids
            sasl:bob@shop2.example,2,2,1,0,1,4600,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z,4B5C6D7E8F 5C6D7E8F9A
            ip:198.51.100.7,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,7E1F0E0403
            ip:203.0.113.3,1,1,0,0,1,900,2026-11-09T09:10:00Z,2026-11-09T09:10:00Z,5C3D4E5F6A

            """),
        Case(
            "postfix", "by recipient-domain --sender --recipients --ids",
            request(.recipientDomain, sender: "shop1.example", recipients: true, ids: true),
            """
            key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,ids,parent
            dest.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,4NmB1q0Bt7z9vKp,
            bob@dest.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,4NmB1q0Bt7z9vKp,dest.example
            other.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,4NmB1q0Bt7z9vKp,
            carol@other.example,1,1,1,0,0,2345,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,4NmB1q0Bt7z9vKp,other.example

            """),
    ]

    static let eximCases: [Case] = [
        Case(
            "exim", "by sender", request(.sender),
            header + """
                alice@shop1.example,3,8,5,1,2,7545,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                carol@shop4.example,2,1,1,0,0,1200,2026-11-09T08:08:00Z,2026-11-09T13:10:00Z
                dave@shop5.example,2,0,0,0,0,5010,2026-11-09T08:09:00Z,2026-11-09T13:40:00Z
                news@shop2.example,2,1,0,0,1,10340,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                <>,1,0,0,0,0,3000,2026-11-09T08:05:00Z,2026-11-09T08:05:00Z
                \"\"\"john smith\"\"@shop3.example\",1,0,0,0,0,1000,2026-11-09T08:06:00Z,2026-11-09T08:06:00Z
                bob@shop3.example,1,1,0,1,0,300,2026-11-09T09:50:00Z,2026-11-09T09:50:00Z
                erin@shop6.example,1,0,0,0,0,7777,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                frank@shop7.example,1,0,0,0,0,100,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z
                list@shop2.example,1,5,4,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                root@relay.example,1,0,0,0,0,500,2026-11-09T08:03:00Z,2026-11-09T08:03:00Z
                spam@bad.example,1,0,0,0,0,700,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z
                www-data@web3.example,1,1,1,0,0,812,2026-11-09T08:02:00Z,2026-11-09T08:02:00Z

                """),
        Case(
            "exim", "by sender-domain", request(.senderDomain),
            header + """
                shop1.example,3,8,5,1,2,7545,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                shop2.example,3,6,4,0,2,11240,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                shop3.example,2,1,0,1,0,1300,2026-11-09T08:06:00Z,2026-11-09T09:50:00Z
                shop4.example,2,1,1,0,0,1200,2026-11-09T08:08:00Z,2026-11-09T13:10:00Z
                shop5.example,2,0,0,0,0,5010,2026-11-09T08:09:00Z,2026-11-09T13:40:00Z
                ,1,0,0,0,0,3000,2026-11-09T08:05:00Z,2026-11-09T08:05:00Z
                bad.example,1,0,0,0,0,700,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z
                relay.example,1,0,0,0,0,500,2026-11-09T08:03:00Z,2026-11-09T08:03:00Z
                shop6.example,1,0,0,0,0,7777,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                shop7.example,1,0,0,0,0,100,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z
                web3.example,1,1,1,0,0,812,2026-11-09T08:02:00Z,2026-11-09T08:02:00Z

                """),
        Case(
            "exim", "by account", request(.account),
            header + """
                sasl:alice@shop1.example,3,8,5,1,2,7545,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                ip:192.0.2.20,2,1,0,0,1,10340,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                ,1,0,0,0,0,100,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z
                ip:192.0.2.30,1,0,0,0,0,400,2026-11-09T08:08:00Z,2026-11-09T08:08:00Z
                ip:198.51.100.66,1,0,0,0,0,700,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z
                ip:198.51.100.7,1,0,0,0,0,7777,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                ip:203.0.113.44,1,0,0,0,0,10,2026-11-09T13:40:00Z,2026-11-09T13:40:00Z
                ip:203.0.113.50,1,0,0,0,0,3000,2026-11-09T08:05:00Z,2026-11-09T08:05:00Z
                local:bob,1,1,0,1,0,300,2026-11-09T09:50:00Z,2026-11-09T09:50:00Z
                local:root,1,0,0,0,0,500,2026-11-09T08:03:00Z,2026-11-09T08:03:00Z
                local:www-data,1,1,1,0,0,812,2026-11-09T08:02:00Z,2026-11-09T08:02:00Z
                sasl:carol@shop4.example,1,1,1,0,0,800,2026-11-09T13:10:00Z,2026-11-09T13:10:00Z
                sasl:dave@shop5.example,1,0,0,0,0,5000,2026-11-09T08:09:00Z,2026-11-09T08:09:00Z
                sasl:john smith,1,0,0,0,0,1000,2026-11-09T08:06:00Z,2026-11-09T08:06:00Z
                sasl:list@shop2.example,1,5,4,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z

                """),
        Case(
            "exim", "by client-ip", request(.clientIP),
            header + """
                ,4,2,1,1,0,1712,2026-11-09T08:02:00Z,2026-11-09T09:50:00Z
                192.0.2.10,3,8,5,1,2,7545,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                192.0.2.20,2,1,0,0,1,10340,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                192.0.2.30,2,1,1,0,0,1200,2026-11-09T08:08:00Z,2026-11-09T13:10:00Z
                127.0.0.1,1,0,0,0,0,5000,2026-11-09T08:09:00Z,2026-11-09T08:09:00Z
                192.0.2.21,1,5,4,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                198.51.100.66,1,0,0,0,0,700,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z
                198.51.100.7,1,0,0,0,0,7777,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                2001:db8::25,1,0,0,0,0,1000,2026-11-09T08:06:00Z,2026-11-09T08:06:00Z
                203.0.113.44,1,0,0,0,0,10,2026-11-09T13:40:00Z,2026-11-09T13:40:00Z
                203.0.113.50,1,0,0,0,0,3000,2026-11-09T08:05:00Z,2026-11-09T08:05:00Z

                """),
        Case(
            "exim", "by recipient-domain", request(.recipientDomain),
            header + """
                dest.example,5,6,5,0,1,18597,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                alias.example,1,2,2,0,0,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                cut.example,1,1,1,0,0,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                d.example,1,1,1,0,0,800,2026-11-09T13:10:00Z,2026-11-09T13:10:00Z
                down.example,1,1,0,1,0,4000,2026-11-09T09:00:00Z,2026-11-09T09:00:00Z
                full.example,1,1,0,0,1,4000,2026-11-09T09:00:00Z,2026-11-09T09:00:00Z
                nowhere.example,1,1,0,0,1,4000,2026-11-09T09:00:00Z,2026-11-09T09:00:00Z
                old.example,1,1,0,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                slow.example,1,1,1,0,0,4000,2026-11-09T09:00:00Z,2026-11-09T09:00:00Z
                stuck.example,1,1,0,1,0,300,2026-11-09T09:50:00Z,2026-11-09T09:50:00Z
                test.example,1,1,1,0,0,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z

                """),
        Case(
            "exim", "--sender domain, by account", request(.account, sender: "shop2.example"),
            header + """
                ip:192.0.2.20,2,1,0,0,1,10340,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                sasl:list@shop2.example,1,5,4,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z

                """),
        Case(
            "exim", "--since/--until over a whole day and edges",
            request(.sender, since: "2026-11-09T08:05:00Z", until: "2026-11-09T09:31:00Z"),
            header + """
                <>,1,0,0,0,0,3000,2026-11-09T08:05:00Z,2026-11-09T08:05:00Z
                \"\"\"john smith\"\"@shop3.example\",1,0,0,0,0,1000,2026-11-09T08:06:00Z,2026-11-09T08:06:00Z
                alice@shop1.example,1,6,3,1,2,4000,2026-11-09T09:00:00Z,2026-11-09T09:00:00Z
                carol@shop4.example,1,0,0,0,0,400,2026-11-09T08:08:00Z,2026-11-09T08:08:00Z
                dave@shop5.example,1,0,0,0,0,5000,2026-11-09T08:09:00Z,2026-11-09T08:09:00Z
                erin@shop6.example,1,0,0,0,0,7777,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                frank@shop7.example,1,0,0,0,0,100,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z
                list@shop2.example,1,5,4,0,1,900,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z
                spam@bad.example,1,0,0,0,0,700,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z

                """),
        Case(
            "exim", "--host --recipients --ids", request(.sender, host: "mx2", recipients: true, ids: true),
            """
            key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,ids,parent
            alice@shop1.example,1,1,1,0,0,1200,2026-11-09T13:00:00Z,2026-11-09T13:00:00Z,1vHgDa-000000005Ab-0001,
            bob@dest.example,1,1,1,0,0,1200,2026-11-09T13:00:00Z,2026-11-09T13:00:00Z,1vHgDa-000000005Ab-0001,alice@shop1.example
            carol@shop4.example,1,1,1,0,0,800,2026-11-09T13:10:00Z,2026-11-09T13:10:00Z,1vHgDc-000000005Ad-0003,
            a3@d.example,1,1,1,0,0,800,2026-11-09T13:10:00Z,2026-11-09T13:10:00Z,1vHgDc-000000005Ad-0003,carol@shop4.example

            """),
    ]

    static func check(_ c: Case) throws {
        let store = try FixtureDatabases.store(c.mta)
        let entries = try store.summary(c.request)
        let csv = SummaryReport.render(entries, as: .csv, recipients: c.request.recipients, ids: c.request.ids)
        #expect(lf(csv) == c.csv)
        #expect(csv.hasSuffix("\r\n") && !csv.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        // The aggregates (whole days) plus rows (partial days) equal the rows alone.
        var rowsOnly = c.request
        rowsOnly.source = .rows
        #expect(try store.summary(rowsOnly) == entries)
        // JSON has the same rows and columns as CSV, numbers as numbers and IDs as arrays.
        let json = SummaryReport.render(entries, as: .json, recipients: c.request.recipients, ids: c.request.ids)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let records = Self.records(csv)
        #expect(objects.count == records.count - 1)
        for (object, record) in zip(objects, records.dropFirst()) {
            for (name, cell) in zip(records[0], record) {
                switch object[name] {
                case let n as Int: #expect(String(n) == cell, "\(name)")
                case let s as String: #expect(s == cell, "\(name)")
                case let a as [String]: #expect(a.joined(separator: " ") == cell, "\(name)")
                case nil, is NSNull: #expect(cell == "", "\(name)")
                default: Issue.record("unexpected JSON value for \(name)")
                }
            }
        }
        // The table has a header and a line per row, in the same order, keys of recipient rows indented.
        let table = SummaryReport.render(entries, as: .table, recipients: c.request.recipients, ids: c.request.ids)
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == records.count)
        #expect(lines.first?.hasPrefix("key") == true)
        for (line, record) in zip(lines.dropFirst(), records.dropFirst()) {
            let isRecipient = c.request.recipients && record.last != ""
            #expect(line.hasPrefix(isRecipient ? "  " + record[0] : record[0]), "\(line)")
            #expect(line.contains(record[8]))
        }
    }

    /// CSV records; these fixtures have no line break inside a cell, so a quote-aware split of lines suffices
    /// (Python's reader is the judge in `CSVReadBackTests`).
    static func records(_ csv: String) -> [[String]] {
        csv.split(separator: "\r\n").map { line in
            var cells: [String] = []
            var cell = ""
            var quoted = false
            let chars = Array(line)
            var i = 0
            while i < chars.count {
                let ch = chars[i]
                if quoted {
                    if ch == "\"" {
                        if i + 1 < chars.count && chars[i + 1] == "\"" {
                            cell.append("\"")
                            i += 1
                        } else {
                            quoted = false
                        }
                    } else {
                        cell.append(ch)
                    }
                } else if ch == "\"" {
                    quoted = true
                } else if ch == "," {
                    cells.append(cell)
                    cell = ""
                } else {
                    cell.append(ch)
                }
                i += 1
            }
            cells.append(cell)
            return cells
        }
    }

    @Test(arguments: postfixCases)
    func postfix(_ c: Case) throws {
        try Self.check(c)
    }

    @Test(.enabled(if: FixtureDatabases.eximAvailable, "no Exim fixtures or parser"), arguments: eximCases)
    func exim(_ c: Case) throws {
        try Self.check(c)
    }

    /// The `SummaryRow` API the ingest tests use gives the same rows.
    @Test func rowsAPIMatchesEntries() throws {
        let store = try FixtureDatabases.store("postfix")
        for g in SummaryGrouping.allCases {
            let rows = try store.summary(by: g, filter: MessageFilter(), top: nil)
            #expect(rows == (try store.summary(SummaryRequest(grouping: g))).map(\.row))
        }
    }
}
