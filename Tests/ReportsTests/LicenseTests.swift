import Foundation
import Reports
import Store
import Testing

/// `license`: distinct sending domains over the fixtures of both MTAs, per account, folded to registrable domains,
/// counted once over several relays, with accounts that send outside their login's domain flagged.
@Suite struct LicenseTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mta: String
        var label: String
        var byAccount: Bool
        var registrable: Bool
        var since: String?
        var csv: String

        init(
            _ mta: String, _ label: String, byAccount: Bool = false, registrable: Bool = false, since: String? = nil,
            _ csv: String
        ) {
            self.mta = mta
            self.label = label
            self.byAccount = byAccount
            self.registrable = registrable
            self.since = since
            self.csv = csv
        }

        var testDescription: String { "\(mta): \(label)" }
    }

    static let domainHeader = "domain,messages,accounts,first_seen,last_seen\n"
    static let accountHeader = "account,domain,messages,first_seen,last_seen,outside_login_domain\n"

    /// The list's algorithm on a list of the rules these cases need.
    static let suffixes = PublicSuffixList(text: "example\nco.uk\nuk\n")

    static let cases: [Case] = [
        Case(
            "postfix", "domains",
            domainHeader + """
                client1.isp.example,1,1,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                hosting.example,1,1,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z
                relay1.example,1,1,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z
                relay2.example,1,1,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                shop1.example,1,1,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z
                shop2.example,2,1,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                store.example,1,1,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "domains since", since: "2026-11-09T09:00:00Z",
            domainHeader + """
                client1.isp.example,1,1,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z
                relay2.example,1,1,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z
                shop2.example,2,1,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z
                store.example,1,1,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z

                """),
        Case(
            "postfix", "per account", byAccount: true,
            accountHeader + """
                ip:198.51.100.7,hosting.example,1,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,
                local:1001,relay2.example,1,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z,
                local:33,relay1.example,1,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z,
                sasl:alice@shop1.example,shop1.example,1,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,no
                sasl:bob@shop2.example,shop2.example,2,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z,no
                sasl:shop@store.example,store.example,1,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z,no
                sasl:u1234,client1.isp.example,1,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z,

                """),
        Case(
            "postfix", "per account, registrable", byAccount: true, registrable: true,
            accountHeader + """
                ip:198.51.100.7,hosting.example,1,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,
                local:1001,relay2.example,1,2026-11-09T09:20:00Z,2026-11-09T09:20:00Z,
                local:33,relay1.example,1,2026-11-09T00:10:00Z,2026-11-09T00:10:00Z,
                sasl:alice@shop1.example,shop1.example,1,2026-11-09T00:02:49Z,2026-11-09T00:02:49Z,no
                sasl:bob@shop2.example,shop2.example,2,2026-11-10T08:04:00Z,2026-11-10T08:06:00Z,no
                sasl:shop@store.example,store.example,1,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z,no
                sasl:u1234,isp.example,1,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z,

                """),
        Case(
            "exim", "per account", byAccount: true,
            accountHeader + """
                ,shop7.example,1,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z,
                ip:192.0.2.20,shop2.example,2,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z,
                ip:192.0.2.30,shop4.example,1,2026-11-09T08:08:00Z,2026-11-09T08:08:00Z,
                ip:198.51.100.66,bad.example,1,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z,
                ip:198.51.100.7,shop6.example,1,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z,
                ip:203.0.113.44,shop5.example,1,2026-11-09T13:40:00Z,2026-11-09T13:40:00Z,
                local:bob,shop3.example,1,2026-11-09T09:50:00Z,2026-11-09T09:50:00Z,
                local:root,relay.example,1,2026-11-09T08:03:00Z,2026-11-09T08:03:00Z,
                local:www-data,web3.example,1,2026-11-09T08:02:00Z,2026-11-09T08:02:00Z,
                sasl:alice@shop1.example,shop1.example,3,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z,no
                sasl:carol@shop4.example,shop4.example,1,2026-11-09T13:10:00Z,2026-11-09T13:10:00Z,no
                sasl:dave@shop5.example,shop5.example,1,2026-11-09T08:09:00Z,2026-11-09T08:09:00Z,no
                sasl:john smith,shop3.example,1,2026-11-09T08:06:00Z,2026-11-09T08:06:00Z,
                sasl:list@shop2.example,shop2.example,1,2026-11-09T09:30:00Z,2026-11-09T09:30:00Z,no

                """),
        Case(
            "exim", "domains",
            domainHeader + """
                bad.example,1,1,2026-11-09T08:07:00Z,2026-11-09T08:07:00Z
                relay.example,1,1,2026-11-09T08:03:00Z,2026-11-09T08:03:00Z
                shop1.example,3,1,2026-11-09T08:00:01Z,2026-11-09T13:00:00Z
                shop2.example,3,2,2026-11-09T08:01:00Z,2026-11-09T13:05:00Z
                shop3.example,2,2,2026-11-09T08:06:00Z,2026-11-09T09:50:00Z
                shop4.example,2,2,2026-11-09T08:08:00Z,2026-11-09T13:10:00Z
                shop5.example,2,2,2026-11-09T08:09:00Z,2026-11-09T13:40:00Z
                shop6.example,1,1,2026-11-09T08:10:00Z,2026-11-09T08:10:00Z
                shop7.example,1,1,2026-11-09T08:11:00Z,2026-11-09T08:11:00Z
                web3.example,1,1,2026-11-09T08:02:00Z,2026-11-09T08:02:00Z

                """),
    ]

    @Test(arguments: cases)
    func rows(_ c: Case) throws {
        if c.mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let store = try FixtureDatabases.store(c.mta)
        let uses = try store.licenseUses(filter: MessageFilter(since: c.since.map(utc)))
        #expect(uses == (try store.licenseUses(filter: MessageFilter(since: c.since.map(utc)), source: .rows)))
        let licence = LicenseReport(uses, suffixes: c.registrable ? Self.suffixes : nil)
        let csv = c.byAccount ? licence.renderAccounts(as: .csv) : licence.renderDomains(as: .csv)
        #expect(lf(csv) == c.csv)
    }

    static func use(_ id: Int64, host: String, account: String, sender: String, at offset: Int64) -> MessageWrite {
        MessageWrite(
            record: MessageRecord(
                rowID: id, host: host, mta: .postfix, queueID: "Q\(id)", origin: .smtp, account: account,
                sender: sender, receivedAt: utc("2026-11-09T10:00:00Z") + offset,
                recipients: [RecipientRecord(address: "r@dest.example", outcome: .delivered)]),
            replaces: false)
    }

    @Test func severalRelaysCountADomainOnceAndForeignDomainsAreFlagged() throws {
        let db = try ScratchDatabase()
        let store = try RelayStore(path: db.path)
        var batch = WriteBatch()
        batch.messages = [
            Self.use(1, host: "relay1", account: "sasl:alice@shop.co.uk", sender: "alice@shop.co.uk", at: 0),
            Self.use(2, host: "relay2", account: "sasl:alice@shop.co.uk", sender: "Alice@SHOP.co.uk", at: 7200),
            Self.use(3, host: "relay2", account: "sasl:alice@shop.co.uk", sender: "news@mail.shop.co.uk", at: 60),
            Self.use(4, host: "relay1", account: "sasl:alice@shop.co.uk", sender: "ceo@bank.example", at: 120),
            Self.use(5, host: "relay1", account: "sasl:bob@mail.other.co.uk", sender: "bob@other.co.uk", at: 180),
            Self.use(6, host: "relay2", account: "ip:192.0.2.1", sender: "x@shop.co.uk", at: 240),
            Self.use(7, host: "relay1", account: "sasl:carol", sender: "", at: 300),
        ]
        try store.write(batch)
        let plain = LicenseReport(try store.licenseUses(filter: MessageFilter()))
        #expect(plain.domains.map(\.domain) == ["bank.example", "mail.shop.co.uk", "other.co.uk", "shop.co.uk"])
        #expect(plain.domains.last?.messages == 3)
        #expect(plain.domains.last?.accounts == 2)
        #expect(
            plain.accounts.map {
                "\($0.account ?? "-") \($0.domain) \($0.messages) \(String(describing: $0.outsideLoginDomain))"
            }
                == [
                    "ip:192.0.2.1 shop.co.uk 1 nil",
                    "sasl:alice@shop.co.uk bank.example 1 Optional(true)",
                    "sasl:alice@shop.co.uk mail.shop.co.uk 1 Optional(false)",
                    "sasl:alice@shop.co.uk shop.co.uk 2 Optional(false)",
                    "sasl:bob@mail.other.co.uk other.co.uk 1 Optional(false)",
                ])
        #expect(plain.accountsOutsideLoginDomain == 1)
        let folded = LicenseReport(try store.licenseUses(filter: MessageFilter()), suffixes: Self.suffixes)
        #expect(folded.domains.map(\.domain) == ["bank.example", "other.co.uk", "shop.co.uk"])
        #expect(folded.domains.last?.messages == 4)
        // One relay only.
        let relay1 = LicenseReport(try store.licenseUses(filter: MessageFilter(host: "relay1")))
        #expect(relay1.domains.map(\.domain) == ["bank.example", "other.co.uk", "shop.co.uk"])
        let table = folded.renderAccounts(as: .table)
        #expect(
            table.hasSuffix(
                "3 distinct sending domain(s) over 3 account(s); 1 account(s) send for domains outside their login's domain\n"
            ))
    }
}
