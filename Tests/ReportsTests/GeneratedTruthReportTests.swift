import Foundation
import Reports
import Store
import Testing

/// Reports over logs of `Benchmarks/genlog.py` equal the simulated relay's own records, for both MTAs: every
/// `--by` the records give, the licence count, the rejected attempts and failed logins; and `--since`/`--until`
/// slices add up to the whole.
@Suite(.enabled(if: ReportPaths.python != nil, "python3 is not installed: generated-log tests skipped"))
struct GeneratedTruthReportTests {
    static let arguments = [
        "--mta", "both", "--messages", "3000", "--days", "3", "--seed", "9", "--rotate", "2", "--stamp", "rfc3339",
        "--tz", "+01:00",
    ]

    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var databases: [String: ScratchDatabase] = [:]
    }

    private static let cache = Cache()

    /// The rotated set of one MTA, ingested once.
    static func store(_ mta: String) throws -> (RelayStore, GeneratedTruth) {
        let dir = try GeneratedLogs.directory(arguments).appendingPathComponent(mta)
        cache.lock.lock()
        defer { cache.lock.unlock() }
        let db: ScratchDatabase
        if let made = cache.databases[mta] {
            db = made
        } else {
            db = try ScratchDatabase()
            let base = mta == "postfix" ? "mail.log" : "mainlog"
            let report = try db.ingest([base + ".2.gz", base, base + ".1"].map { dir.appendingPathComponent($0).path })
            #expect(report.stats.unparsed == 0)
            cache.databases[mta] = db
        }
        return (try db.store(), try GeneratedTruth(dir))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var mta: String
        var grouping: SummaryGrouping
        var testDescription: String { "\(mta) by \(grouping.rawValue)" }
    }

    static let mtas = ["postfix", "exim"]

    @Test(
        arguments: mtas.flatMap { m in
            [SummaryGrouping.sender, .senderDomain, .account].map { Case(mta: m, grouping: $0) }
        })
    func summaryEqualsTheRelaysRecords(_ c: Case) throws {
        if c.mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let (store, truth) = try Self.store(c.mta)
        let expected: [String: [Int64]]
        switch c.grouping {
        case .sender: expected = truth.sender
        case .account: expected = truth.account
        default: expected = truth.senderDomain
        }
        #expect(expected.count > 20)
        #expect(try GeneratedTruth.totals(store, by: c.grouping) == expected)
    }

    @Test(arguments: mtas)
    func licenceEqualsTheRelaysSendingDomains(_ mta: String) throws {
        if mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let (store, truth) = try Self.store(mta)
        let licence = LicenseReport(try store.licenseUses(filter: MessageFilter()))
        var expected = truth.senderDomain
        expected["(none)"] = nil
        #expect(licence.domains.count == expected.count)
        #expect(
            Dictionary(uniqueKeysWithValues: licence.domains.map { ($0.domain, $0.messages) })
                == expected.mapValues { $0[0] })
        // Per account, the same messages; every account is one of the relay's.
        #expect(licence.accounts.reduce(0) { $0 + $1.messages } == expected.values.reduce(0) { $0 + $1[0] })
        #expect(Set(licence.accounts.map { $0.account ?? "(none)" }).isSubset(of: Set(truth.account.keys)))
    }

    @Test(arguments: mtas)
    func rejectsAndFailedLoginsEqualTheRelaysCounts(_ mta: String) throws {
        if mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let (store, truth) = try Self.store(mta)
        for g in RejectGrouping.allCases {
            let rejects = try store.rejects(by: g, filter: MessageFilter(), top: nil)
            #expect(rejects.reduce(0) { $0 + $1.attempts } == (truth.totals["rejects"] as? Int).map(Int64.init))
            if g != .sender {
                let failures = try store.authFailures(by: g, filter: MessageFilter(), top: nil)
                #expect(
                    failures.reduce(0) { $0 + $1.attempts } == (truth.totals["auth_failures"] as? Int).map(Int64.init))
            }
        }
    }

    /// Cut the period at random times (to the second and to the minute): the slices' summaries add up to the whole,
    /// each key's first and last seen are the extremes of its slices, and the licence's domains are the union.
    @Test(arguments: mtas)
    func slicesAddUpToTheWhole(_ mta: String) throws {
        if mta == "exim" && !FixtureDatabases.eximAvailable { return }
        let (store, _) = try Self.store(mta)
        var rng = SeededGenerator(seed: 77)
        let start = utc("2026-11-06T22:00:00Z")
        let end = utc("2026-11-10T02:00:00Z")
        var cuts = (0..<9).map { i in
            let t = Int64.random(in: start...end, using: &rng)
            return i % 3 == 0 ? t / 60 * 60 : t
        }.sorted()
        cuts = [start] + cuts + [end]
        for g in SummaryGrouping.allCases {
            let whole = try store.summary(SummaryRequest(grouping: g, sort: .key)).map(\.row)
            var merged: [String?: SummaryRow] = [:]
            for (since, until) in zip(cuts, cuts.dropFirst()) {
                for r in try store.summary(
                    SummaryRequest(grouping: g, filter: MessageFilter(since: since, until: until), sort: .key)
                ).map(\.row) {
                    if var m = merged[r.key] {
                        m.messages += r.messages
                        m.recipients += r.recipients
                        m.delivered += r.delivered
                        m.deferred += r.deferred
                        m.bounced += r.bounced
                        m.bytes += r.bytes
                        m.firstSeen = min(m.firstSeen, r.firstSeen)
                        m.lastSeen = max(m.lastSeen, r.lastSeen)
                        merged[r.key] = m
                    } else {
                        merged[r.key] = r
                    }
                }
            }
            #expect(whole.count > 10)
            #expect(Dictionary(uniqueKeysWithValues: whole.map { ($0.key, $0) }) == merged, "\(g)")
        }
        var domains: Set<String> = []
        for (since, until) in zip(cuts, cuts.dropFirst()) {
            let uses = try store.licenseUses(filter: MessageFilter(since: since, until: until))
            domains.formUnion(uses.map(\.domain))
        }
        #expect(domains == Set(try store.licenseUses(filter: MessageFilter()).map(\.domain)))
    }
}
