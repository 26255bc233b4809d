import Foundation
import TestSupport
import Testing

/// `relaysum anomalies` through the built binary, on a Postfix log written here: two customers with three weeks of
/// office-hour mail, then one of them sends a burst from a network it never used, with many bounces.
@Suite struct AnomaliesCommandTests {
    /// 2026-10-01T00:00:00Z.
    static let start: Int64 = 1_790_812_800

    /// RFC 3339 stamps, so no year or zone needs guessing.
    static func stamp(_ t: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// One submitted message: smtpd, cleanup, qmgr, one smtp line per recipient, removed.
    static func message(
        _ n: Int, at t: Int64, login: String, ip: String, sender: String, recipients: [String], bounced: Set<Int> = []
    ) -> [String] {
        let qid = String(format: "%010X", 0x1_0000 + n)
        let h = "relay1.example"
        var lines = [
            "\(stamp(t)) \(h) postfix/smtpd[100]: \(qid): client=unknown[\(ip)], sasl_method=PLAIN, sasl_username=\(login)",
            "\(stamp(t)) \(h) postfix/cleanup[101]: \(qid): message-id=<m\(n)@customer.example>",
            "\(stamp(t)) \(h) postfix/qmgr[102]: \(qid): from=<\(sender)>, size=2048, nrcpt=\(recipients.count) (queue active)",
        ]
        for (i, r) in recipients.enumerated() {
            let status =
                bounced.contains(i)
                ? "status=bounced (host mx.dest.example[192.0.2.250] said: 550 5.1.1 <\(r)>: user unknown)"
                : "status=sent (250 2.0.0 Ok: queued as ABC)"
            lines.append(
                "\(stamp(t + 1)) \(h) postfix/smtp[103]: \(qid): to=<\(r)>, relay=mx.dest.example[192.0.2.250]:25, "
                    + "delay=1, delays=0.1/0/0.4/0.5, dsn=\(bounced.contains(i) ? "5.1.1" : "2.0.0"), \(status)")
        }
        lines.append("\(stamp(t + 2)) \(h) postfix/qmgr[102]: \(qid): removed")
        return lines
    }

    /// The log, and the hour the burst starts.
    static func writeLog(_ path: String) throws -> Int64 {
        var lines: [String] = []
        var n = 0
        for day in 0..<21 where day % 7 < 5 {
            for hour in 9..<17 {
                let t = start + Int64(day) * 86_400 + Int64(hour) * 3600 + 300
                for (login, ip) in [("alice@shop.example", "192.0.2.10"), ("bob@law.example", "192.0.2.20")] {
                    n += 1
                    let local = login.split(separator: "@")[0]
                    lines += message(
                        n, at: t, login: login, ip: ip, sender: login,
                        recipients: (0..<3).map { "\(local)-friend\($0)@dest\($0 % 2).example" })
                }
            }
        }
        // Day 22, 02:00–03:59: 300 recipients at 60 domains from a new network, 40 % bounced.
        let burst = start + 22 * 86_400 + 2 * 3600
        for i in 0..<60 {
            n += 1
            lines += message(
                n, at: burst + Int64(i) * 110, login: "alice@shop.example", ip: "203.0.113.\(5 + i % 3)",
                sender: "alice@shop.example", recipients: (0..<5).map { "victim\(i)-\($0)@target\(i).example" },
                bounced: [0, 1])
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return burst
    }

    static func database(_ t: TempDir) throws -> (db: String, burst: Int64) {
        let log = t.path("mail.log")
        let burst = try writeLog(log)
        let db = t.path("a.sqlite")
        let r = try CLI.run(["ingest", "--db", db, "--quiet", log])
        #expect(r.status == 0, "\(r.stderr)")
        return (db, burst)
    }

    @Test func theBurstIsCompromisedWithItsWindowAndReasons() throws {
        let t = try TempDir()
        let (db, burst) = try Self.database(t)
        let r = try CLI.run(["anomalies", "--db", db, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\r\n").map(String.init)
        #expect(
            rows.first == "account,window_start,window_end,verdict,score,reasons,signals,messages,recipients,failed")
        let alice = rows.filter { $0.hasPrefix("sasl:alice@shop.example,") }
        #expect(alice.count == 1, "\(r.stdout)")
        let row = try #require(alice.first)
        #expect(row.hasPrefix("sasl:alice@shop.example,\(Self.stamp(burst)),\(Self.stamp(burst + 7200)),compromised,"))
        #expect(row.contains("first time from 203.0.113.0/24 (300 recipients)"), "\(row)")
        #expect(row.contains("40 % of 300 recipients bounced or deferred (120"), "\(row)")
        #expect(row.hasSuffix(",60,300,120"), "\(row)")
        #expect(!rows.contains { $0.hasPrefix("sasl:bob") }, "\(r.stdout)")
    }

    @Test func failOnGivesAnExitStatusForMonitoring() throws {
        let t = try TempDir()
        let (db, burst) = try Self.database(t)
        let whole = ["--since", Self.stamp(burst - 86_400)]
        let hit = try CLI.run(["anomalies", "--db", db, "--fail-on", "compromised", "--format", "json"] + whole)
        #expect(hit.status == 2)
        #expect(hit.stdout.contains(#""verdict": "compromised""#), "\(hit.stdout)")
        // Bob alone: nothing found, status 0 even with --fail-on review.
        let bob = try CLI.run(
            ["anomalies", "--db", db, "--account", "sasl:bob@law.example", "--fail-on", "review", "--format", "json"]
                + whole)
        #expect(bob.status == 0, "\(bob.stderr)")
        #expect(bob.stdout == "[]\n")
    }

    @Test func aSecondRunGoesOnFromTheFirstAndFindingsAreStored() throws {
        let t = try TempDir()
        let (db, burst) = try Self.database(t)
        let first = try CLI.run(["anomalies", "--db", db, "--format", "csv"])
        #expect(first.stdout.contains(",compromised,"))
        // A day later, Bob's usual mail: the next run judges only the new hours (and two before them).
        var lines: [String] = []
        for hour in 9..<17 {
            lines += Self.message(
                90_000 + hour, at: burst + 86_400 + Int64(hour) * 3600, login: "bob@law.example", ip: "192.0.2.20",
                sender: "bob@law.example", recipients: ["x@dest0.example"])
        }
        let more = t.path("mail.log.new")
        try (lines.joined(separator: "\n") + "\n").write(toFile: more, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["ingest", "--db", db, "--quiet", more]).status == 0)
        let again = try CLI.run(["anomalies", "--db", db, "--format", "csv"])
        #expect(again.status == 0)
        #expect(!again.stdout.contains(",compromised,"), "\(again.stdout)")
        // The stored finding is still there for `arf build`, and a judged period can be judged again.
        let stored = try CLI.run(["anomalies", "--db", db, "--format", "csv", "--since", "2026-10-01"])
        #expect(stored.stdout.contains("sasl:alice@shop.example,\(Self.stamp(burst))"), "\(stored.stdout)")
    }

    @Test func thresholdsComeFromTheConfigurationFile() throws {
        let t = try TempDir()
        let (db, _) = try Self.database(t)
        let config = t.path("relaysum.toml")
        try "[anomalies]\nvolume_minimum = 100000\ncompromise_minimum = 100000\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["anomalies", "--db", db, "--config", config, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sasl:alice@shop.example,"), "\(r.stdout)")
        #expect(!r.stdout.contains(",compromised,"), "\(r.stdout)")
        try "[anomalies]\nvolume_minimun = 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["anomalies", "--db", db, "--config", config])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(config):2:"), "\(bad.stderr)")
        #expect(bad.stdout == "")
    }

    @Test(.enabled(if: ExternalTools.python != nil, "python3 is not installed"))
    func aDamagedDatabaseIsSQLitesMessageWithoutTheSQL() throws {
        let t = try TempDir()
        let (db, _) = try Self.database(t)
        // A table dropped by hand (python3's sqlite3 module stands in for the sqlite3 shell).
        let drop = try ProcessRun.run(
            try #require(ExternalTools.python),
            [
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE anomaly_runs'); "
                    + "c.commit()", db,
            ])
        try #require(drop.status == 0, "\(drop.stderr)")
        let r = try CLI.run(["anomalies", "--db", db, "--format", "csv"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("database error: no such table: anomaly_runs"), "\(r.stderr)")
        #expect(!r.stderr.contains("SELECT"), "\(r.stderr)")
        #expect(r.stdout == "")
    }

    @Test func noDatabaseIsAClearError() throws {
        let t = try TempDir()
        let r = try CLI.run(["anomalies", "--db", t.path("none.sqlite")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no database at \(t.path("none.sqlite"))"), "\(r.stderr)")
    }
}
