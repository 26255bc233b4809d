import Config
import Foundation
import Testing

@testable import Reports
@testable import Store

/// The detector on hand-made hourly activity: each case is one story an operator would recognise.
@Suite struct AnomalyDetectorTests {
    static let h = RelayStore.hourSeconds
    /// 2026-11-01T00:00:00Z, the start of the judged day.
    static let day: Int64 = 1_793_491_200

    /// A small world: accounts with 28 days of history, then one judged day.
    struct World {
        var hours: [AccountHour] = []
        var keys: [AccountHourKey] = []
        var senders: [String: [String: Int64]] = [:]
        var auth: [AuthFailureHour] = []
        var flagged: [String: [ClosedRange<Int64>]] = [:]
        var firstUse: [String: Int64] = [:]

        /// Adds an hour of sending. `network` and `sender` are recorded with their first use.
        mutating func send(
            _ account: String, at hour: Int64, recipients: Int64, messages: Int64 = 0, bounced: Int64 = 0,
            deferred: Int64 = 0, domains: Int64? = nil, network: String = "192.0.2.0/24", clients: Int64 = 1,
            sender: String? = nil
        ) {
            let messages = messages > 0 ? messages : max(1, recipients / 3)
            let sender = sender ?? "\(account.split(separator: ":").last!)@customer.example"
            let row = AccountHour(
                account: account, hour: hour, messages: messages, recipients: recipients,
                delivered: recipients - bounced - deferred, deferred: deferred, bounced: bounced,
                bytes: messages * 20_000, domains: domains ?? min(recipients, 5), clients: clients, networks: 1,
                senders: 1, largest: recipients)
            // A second sending in the same hour adds to it, as the store's hourly rows do.
            if let i = hours.firstIndex(where: { $0.account == account && $0.hour == hour }) {
                hours[i].messages += row.messages
                hours[i].recipients += row.recipients
                hours[i].delivered += row.delivered
                hours[i].deferred += row.deferred
                hours[i].bounced += row.bounced
                hours[i].domains += row.domains
                hours[i].clients += row.clients
                hours[i].networks += 1
            } else {
                hours.append(row)
            }
            for (kind, key) in [(AccountHourKey.Kind.network, network), (.sender, sender)] {
                let id = "\(account)|\(kind.rawValue)|\(key)"
                firstUse[id] = min(firstUse[id] ?? hour, hour)
                keys.append(
                    AccountHourKey(
                        account: account, hour: hour, kind: kind, key: key, messages: messages,
                        recipients: recipients, failed: bounced + deferred, firstHour: 0))
            }
            senders[account, default: [:]][sender] = min(senders[account]?[sender] ?? hour, hour)
        }

        /// 28 days of office hours: `perHour` recipients 9:00–17:00 on weekdays, 2 % bounced now and then.
        mutating func history(_ account: String, perHour: Int64, network: String = "192.0.2.0/24") {
            for d in 1...28 {
                let dayStart = AnomalyDetectorTests.day - Int64(d) * 86_400
                if d % 7 == 0 || d % 7 == 6 { continue }
                for hr in 9..<17 {
                    let bounced: Int64 = (d + hr) % 5 == 0 ? 1 : 0
                    send(
                        account, at: dayStart + Int64(hr) * AnomalyDetectorTests.h, recipients: perHour,
                        bounced: bounced, network: network)
                }
            }
        }

        func input(since: Int64 = AnomalyDetectorTests.day) -> AnomalyInput {
            let until = since + 86_400
            let resolved = keys.map { k -> AccountHourKey in
                var k = k
                k.firstHour = firstUse["\(k.account)|\(k.kind.rawValue)|\(k.key)"]!
                return k
            }
            return AnomalyInput(
                since: since, until: until, hours: hours, relayHours: hours.filter { $0.hour >= since },
                keys: resolved.filter { $0.hour >= since && $0.hour < until }, senderFirstHours: senders,
                authFailures: auth, flagged: flagged)
        }
    }

    static func at(_ hour: Int) -> Int64 { day + Int64(hour) * h }

    func detect(_ world: World, _ thresholds: AnomalyThresholds = AnomalyThresholds()) -> [AnomalyFinding] {
        AnomalyDetector(thresholds: thresholds).detect(world.input())
    }

    @Test func quantilePadsQuietHoursWithZeros() {
        // 10 busy hours (1…10 recipients) among 1000 (nearest rank): they are the top 1 %, so the 99th
        // percentile is a quiet hour; the 995th value is 5, the 999th 9.
        let busy = (1...10).map(Double.init)
        #expect(AnomalyDetector.quantile(busy, of: 1000, 0.99) == 0)
        #expect(AnomalyDetector.quantile(busy, of: 1000, 0.995) == 5)
        #expect(AnomalyDetector.quantile(busy, of: 1000, 0.999) == 9)
        #expect(AnomalyDetector.quantile(busy, of: 1000, 0.5) == 0)
        #expect(AnomalyDetector.quantile([], of: 0, 0.99) == 0)
    }

    @Test func burstFromANewNetworkWithBouncesIsCompromised() throws {
        var w = World()
        w.history("sasl:alice", perHour: 8)
        w.history("sasl:bob", perHour: 20)
        w.send("sasl:bob", at: Self.at(10), recipients: 22)
        w.send("sasl:alice", at: Self.at(10), recipients: 7)
        w.send(
            "sasl:alice", at: Self.at(14), recipients: 612, messages: 600, bounced: 200, deferred: 70, domains: 140,
            network: "203.0.113.0/24", clients: 3, sender: "alice@customer.example")
        let findings = detect(w)
        let f = try #require(findings.first { $0.account == "sasl:alice" })
        #expect(f.verdict == .compromised)
        #expect(f.windowStart == Self.at(14) && f.windowEnd == Self.at(15))
        #expect(f.signals.contains(.volume) && f.signals.contains(.failures) && f.signals.contains(.newNetwork))
        #expect(f.reasons.contains { $0.hasPrefix("612 recipients in 1 h from 14:00 UTC, 77×") })
        #expect(f.reasons.contains { $0.contains("44 % of 612 recipients bounced or deferred") })
        #expect(f.reasons.contains { $0 == "first time from 203.0.113.0/24 (612 recipients)" })
        #expect(!findings.contains { $0.account == "sasl:bob" })
    }

    @Test func newsletterFromTheUsualNetworkIsAtMostReview() {
        var w = World()
        w.history("sasl:shop", perHour: 10)
        w.send("sasl:shop", at: Self.at(9), recipients: 400, messages: 400, bounced: 4, domains: 90)
        w.send("sasl:shop", at: Self.at(10), recipients: 380, messages: 380, bounced: 3, domains: 85)
        let findings = detect(w)
        #expect(findings.count == 1)
        #expect(findings.first?.verdict == .review)
        #expect(findings.first?.windowStart == Self.at(9) && findings.first?.windowEnd == Self.at(11))
        #expect(findings.first?.signals.contains(.volume) == true)
    }

    @Test func newsletterMeetingRateLimitsIsReviewButBouncingBurstIsNot() throws {
        var w = World()
        w.history("sasl:club", perHour: 10)
        w.history("sasl:other", perHour: 10)
        w.send("sasl:other", at: Self.at(9), recipients: 10)
        // 500 recipients, 40 % deferred by the providers' rate limits, 3 % bounced: a newsletter.
        w.send("sasl:club", at: Self.at(9), recipients: 500, bounced: 15, deferred: 200, domains: 40)
        let newsletter = try #require(detect(w).first { $0.account == "sasl:club" })
        #expect(newsletter.verdict == .review)
        #expect(newsletter.signals.contains(.volume) && newsletter.signals.contains(.failures))
        // The same burst with 40 % bounced (unknown users) is not a newsletter.
        w.send("sasl:club", at: Self.at(12), recipients: 500, bounced: 200, domains: 40)
        let burst = try #require(detect(w).first { $0.account == "sasl:club" && $0.windowStart == Self.at(12) })
        #expect(burst.verdict == .compromised)
    }

    @Test func relayWideOutageIsNoOnesFailure() {
        var w = World()
        let accounts = (1...12).map { "sasl:user\($0)" }
        for a in accounts { w.history(a, perHour: 15) }
        // Every account's mail deferred for three hours.
        for a in accounts {
            for hr in 10..<13 { w.send(a, at: Self.at(hr), recipients: 15, deferred: 13) }
        }
        #expect(detect(w).isEmpty)
    }

    @Test func failuresAloneFromTheUsualNetworkAreReview() throws {
        var w = World()
        w.history("sasl:carol", perHour: 12)
        w.history("sasl:dave", perHour: 12)
        w.send("sasl:dave", at: Self.at(11), recipients: 12)
        w.send("sasl:carol", at: Self.at(11), recipients: 40, bounced: 20)
        let f = try #require(detect(w).first)
        #expect(f.account == "sasl:carol" && f.verdict == .review && f.signals == [.failures])
    }

    @Test func slowDripFromANewNetworkIsCompromisedOverItsWindow() throws {
        var w = World()
        w.history("sasl:erin", perHour: 30)
        w.history("sasl:frank", perHour: 10)
        for hr in 2..<8 {
            w.send("sasl:frank", at: Self.at(hr + 8), recipients: 10)
            // 18 recipients an hour, under the account's normal, a third bounced, from a network it never used.
            w.send(
                "sasl:erin", at: Self.at(hr), recipients: 18, bounced: 6, network: "198.51.100.0/24",
                sender: "erin@customer.example")
        }
        let f = try #require(detect(w).first { $0.account == "sasl:erin" })
        #expect(f.verdict == .compromised)
        #expect(f.windowStart == Self.at(2) && f.windowEnd == Self.at(8))
        #expect(!f.signals.contains(.volume))
        #expect(f.recipients == 108 && f.failed == 36)
    }

    @Test func aDripHiddenInTheOwnersMailIsJudgedOnTheNewNetworksMail() throws {
        var w = World()
        w.history("sasl:mo", perHour: 40)
        w.history("sasl:ned", perHour: 10)
        for hr in 9..<15 {
            w.send("sasl:ned", at: Self.at(hr), recipients: 10)
            // The owner's 40 recipients from the office, and 16 an hour with 7 bounced from elsewhere: 12 % failed
            // overall, 44 % of the new network's.
            w.send("sasl:mo", at: Self.at(hr), recipients: 40)
            w.send("sasl:mo", at: Self.at(hr), recipients: 16, bounced: 7, network: "198.51.100.0/24")
        }
        let f = try #require(detect(w).first { $0.account == "sasl:mo" })
        #expect(f.verdict == .compromised)
        #expect(f.reasons.contains { $0.hasPrefix("44 % of the 96 recipients from new networks bounced or deferred") })
    }

    @Test func anIntrudersTestRunAndLaterBurstAreOneWindowFromTheFirst() throws {
        var w = World()
        w.history("sasl:pat", perHour: 6)
        // A test message from the new network at 01:00, the burst at 06:00.
        w.send("sasl:pat", at: Self.at(1), recipients: 2, network: "203.0.113.0/24")
        w.send("sasl:pat", at: Self.at(6), recipients: 400, bounced: 150, network: "203.0.113.0/24")
        let findings = detect(w)
        #expect(findings.count == 1)
        #expect(findings.first?.verdict == .compromised)
        #expect(findings.first?.windowStart == Self.at(1) && findings.first?.windowEnd == Self.at(7))
    }

    @Test func travellerWithNormalMailIsReviewOnly() throws {
        var w = World()
        w.history("sasl:gina", perHour: 6)
        w.send("sasl:gina", at: Self.at(15), recipients: 6, network: "2001:db8:77::/48")
        let f = try #require(detect(w).first)
        #expect(f.verdict == .review && f.signals == [.newNetwork])
    }

    @Test func loginAfterFailedLoginBurstFromANewNetwork() throws {
        var w = World()
        w.history("sasl:hank", perHour: 5)
        w.auth = [
            AuthFailureHour(login: "hank", clientIP: "203.0.113.50", hour: Self.at(2), failures: 140),
            AuthFailureHour(login: "hank", clientIP: "203.0.113.51", hour: Self.at(3), failures: 60),
        ]
        w.send("sasl:hank", at: Self.at(4), recipients: 45, network: "203.0.113.0/24")
        let f = try #require(detect(w).first)
        #expect(f.verdict == .compromised)
        #expect(f.signals.contains(.bruteForce))
        #expect(f.reasons.contains { $0.hasPrefix("200 failed logins in the 3 h before, most from 203.0.113.50") })
    }

    @Test func failedLoginsWithoutALoginCountFromTheNetworkThatThenLoggedIn() throws {
        var w = World()
        w.history("sasl:lee", perHour: 5)
        w.auth = [
            AuthFailureHour(login: nil, clientIP: "198.51.100.7", hour: Self.at(6), failures: 80),
            AuthFailureHour(login: nil, clientIP: "192.0.2.99", hour: Self.at(6), failures: 500),
        ]
        w.send("sasl:lee", at: Self.at(7), recipients: 35, network: "198.51.100.0/24")
        let f = try #require(detect(w).first)
        #expect(f.verdict == .compromised)
        #expect(f.reasons.contains { $0.hasPrefix("80 failed logins in the 3 h before, most from 198.51.100.7") })
    }

    @Test func aFewFailedLoginsElsewhereDoNotMakeATravellerABruteForce() throws {
        var w = World()
        w.history("sasl:quinn", perHour: 5)
        w.auth = [AuthFailureHour(login: "quinn", clientIP: "198.51.100.110", hour: Self.at(7), failures: 24)]
        w.send("sasl:quinn", at: Self.at(8), recipients: 36, network: "203.0.113.0/24")
        let f = try #require(detect(w).first)
        #expect(f.verdict == .review && f.signals == [.newNetwork])
        // Five times the minimum from anywhere is a botnet's guessing.
        w.auth[0].failures = 50
        #expect(detect(w).first?.verdict == .compromised)
    }

    @Test func failedLoginsFromTheUsualNetworkAreAStalePasswordNotABruteForce() {
        var w = World()
        w.history("sasl:ivy", perHour: 5)
        w.auth = [AuthFailureHour(login: "ivy", clientIP: "192.0.2.10", hour: Self.at(8), failures: 300)]
        w.send("sasl:ivy", at: Self.at(9), recipients: 40)
        #expect(detect(w).isEmpty)
    }

    @Test func ipRelaySendingAsNewDomainsWithBouncesIsCompromised() throws {
        var w = World()
        let account = "ip:192.0.2.80"
        for d in 1...28 {
            for hr in [3, 11, 19] {
                w.send(
                    account, at: Self.day - Int64(d) * 86_400 + Int64(hr) * Self.h, recipients: 4,
                    sender: "orders@shop.example")
            }
        }
        w.send(account, at: Self.at(3), recipients: 4, sender: "orders@shop.example")
        w.send(account, at: Self.at(5), recipients: 60, bounced: 25, domains: 40, sender: "support@bank-login.example")
        let f = try #require(detect(w).first { $0.windowStart == Self.at(5) })
        #expect(f.verdict == .compromised)
        #expect(f.signals.contains(.newSender))
        #expect(f.reasons.contains { $0.contains("bank-login.example") })
    }

    @Test func aNewSubdomainOfItsOwnDomainIsNoNewSender() throws {
        var w = World()
        w.history("sasl:shop", perHour: 10)
        w.history("sasl:other", perHour: 10)
        w.send("sasl:other", at: Self.at(9), recipients: 10)
        // The shop's first newsletter from news.customer.example: volume, but no new sender and no compromise.
        w.send("sasl:shop", at: Self.at(9), recipients: 400, bounced: 4, sender: "letter@news.customer.example")
        let f = try #require(detect(w).first { $0.account == "sasl:shop" })
        #expect(f.verdict == .review && !f.signals.contains(.newSender))
        // The same from a domain it never used is an intruder's forged sender.
        w.send("sasl:shop", at: Self.at(14), recipients: 400, bounced: 4, sender: "alert@paypa1-secure.example")
        let g = try #require(detect(w).first { $0.account == "sasl:shop" && $0.windowStart == Self.at(14) })
        #expect(g.verdict == .compromised && g.signals.contains(.newSender))
    }

    @Test func newAccountIsJudgedAgainstTheRelaysTypicalAccount() throws {
        var w = World()
        for i in 1...5 { w.history("sasl:old\(i)", perHour: 10) }
        // 30 recipients an hour is normal for the relay's accounts here (4 × 10 = 40 would be a burst).
        w.send("sasl:newbie", at: Self.at(10), recipients: 30)
        #expect(detect(w).isEmpty)
        w.send("sasl:newbie", at: Self.at(11), recipients: 500, bounced: 200, domains: 150)
        let f = try #require(detect(w).first)
        #expect(f.verdict == .compromised)
        #expect(f.reasons.first?.contains("a new account") == true)
        #expect(f.windowStart == Self.at(11))
    }

    @Test func windowsAlreadyFlaggedLeaveTheBaseline() {
        var w = World()
        w.history("sasl:jo", perHour: 10)
        // A past burst of 2000 recipients an hour for a whole day would raise the 99th percentile to 2000.
        for hr in 0..<24 { w.send("sasl:jo", at: Self.day - 3 * 86_400 + Int64(hr) * Self.h, recipients: 2000) }
        w.send("sasl:jo", at: Self.at(12), recipients: 500)
        #expect(detect(w).isEmpty)
        w.flagged["sasl:jo"] = [(Self.day - 3 * 86_400)...(Self.day - 2 * 86_400 - 1)]
        #expect(detect(w).first?.signals.contains(.volume) == true)
    }

    @Test func thresholdsComeFromTheSettings() {
        var w = World()
        w.history("sasl:kim", perHour: 10)
        w.send("sasl:kim", at: Self.at(12), recipients: 60)
        #expect(detect(w).first?.signals == [.volume])
        var strict = AnomalyThresholds()
        strict.volumeMinimum = 100
        #expect(detect(w, strict).isEmpty)
    }
}
