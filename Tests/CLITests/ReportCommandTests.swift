import Foundation
import Testing

/// `summary`, `rejects`, `export` and `license` through the built binary: stdout, stderr and exit status.
@Suite struct ReportCommandTests {
    /// A database of the Postfix fixtures (UTC, 2026).
    static func fixtureDatabase(_ t: TempDir) throws -> String {
        let db = t.path("r.sqlite")
        let r = try CLI.run(
            ["ingest", "--db", db, "--year", "2026", "--timezone", "UTC"]
                + ["relay-classic.log", "stamps-and-instances.log", "rejects.log"].map { CLI.fixture("postfix/\($0)") })
        #expect(r.status == 0, "\(r.stderr)")
        return db
    }

    struct BadArgument: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        BadArgument(arguments: ["summary", "--since", "2026-11-09T25:00"], message: "invalid time '2026-11-09T25:00'"),
        BadArgument(arguments: ["summary", "--until", "tomorrow"], message: "invalid time 'tomorrow'"),
        BadArgument(arguments: ["summary", "--sort", "colour"], message: "--sort"),
        BadArgument(arguments: ["summary", "--sender", " "], message: "--sender needs an address"),
        BadArgument(arguments: ["rejects", "--since=-3d"], message: "invalid time '-3d'"),
        BadArgument(arguments: ["rejects", "--by", "recipient"], message: "--by"),
        BadArgument(arguments: ["rejects", "--top", "0"], message: "--top must be at least 1"),
        BadArgument(
            arguments: ["rejects", "--auth-failures", "--by", "sender"], message: "failed logins have no sender"),
        BadArgument(arguments: ["export", "messages", "--format", "table"], message: "export writes csv or json"),
        BadArgument(arguments: ["export", "mailboxes"], message: "mailboxes"),
        BadArgument(arguments: ["export", "messages", "--until", "2026-02-30x"], message: "invalid time"),
        BadArgument(arguments: ["license", "--since", "last month"], message: "invalid time 'last month'"),
        BadArgument(arguments: ["license", "--by", "sender"], message: "--by"),
    ])
    func usageErrorsExit64(_ bad: BadArgument) throws {
        let t = try TempDir()
        let db = try Self.fixtureDatabase(t)
        let r = try CLI.run(bad.arguments + ["--db", db])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains(bad.message), "\(r.stderr)")
        #expect(r.stdout == "")
    }

    @Test(arguments: [
        ["summary", "--by", "account"], ["rejects", "--by", "reason"], ["rejects", "--auth-failures"], ["license"],
        ["license", "--by", "account"], ["export", "messages"],
    ])
    func anUnknownRelayIsAUsageErrorNamingTheKnownOnes(_ arguments: [String]) throws {
        let t = try TempDir()
        let db = try Self.fixtureDatabase(t)
        let r = try CLI.run(arguments + ["--db", db, "--host", "relay3"])
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.contains("unknown relay 'relay3' for --host (relays in \(db): relay1, relay2)"), "\(r.stderr)")
        let known = try CLI.run(arguments + ["--db", db, "--host", "relay2", "--format", "csv"])
        #expect(known.status == 0, "\(known.stderr)")
        #expect(known.stderr == "")
    }

    @Test func anEmptyDatabasePrintsHeadersOnly() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let empty = t.path("empty.log")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(try CLI.run(["ingest", "--db", db, empty]).status == 0)
        let expected: [([String], String)] = [
            (["rejects", "--format", "csv"], "key,attempts,clients,senders,recipients,first_seen,last_seen\r\n"),
            (
                ["rejects", "--auth-failures", "--format", "csv"],
                "key,attempts,clients,logins,first_seen,last_seen\r\n"
            ),
            (["rejects", "--format", "json"], "[]\n"),
            (["license", "--format", "csv"], "domain,messages,accounts,first_seen,last_seen\r\n"),
            (["license", "--count"], "0\n"),
            (
                ["license", "--format", "table"],
                "domain  messages  accounts  first_seen  last_seen\n0 distinct sending domain(s)\n"
            ),
            (["export", "auth-failures"], "id,host,mta,at,client_ip,client_name,login,mechanism,reason\r\n"),
            (["export", "recipients", "--format", "json"], ""),
            (
                ["summary", "--recipients", "--ids", "--format", "csv"],
                "key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,ids,parent\r\n"
            ),
            (
                ["summary", "--format", "table"],
                "key  messages  recipients  delivered  deferred  bounced  bytes  first_seen  last_seen\n"
            ),
        ]
        for (arguments, stdout) in expected {
            let r = try CLI.run(arguments + ["--db", db])
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            #expect(r.stdout == stdout, "\(arguments)")
            #expect(r.stderr == "", "\(arguments)")
        }
        let unknown = try CLI.run(["summary", "--db", db, "--host", "relay1"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("relays in \(db): none yet"))
    }

    @Test(arguments: [["rejects"], ["license"], ["export", "messages"]])
    func aMissingDatabaseFailsWithoutCreatingOne(_ arguments: [String]) throws {
        let t = try TempDir()
        let r = try CLI.run(arguments + ["--db", t.path("missing.sqlite")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no database at"))
        #expect(r.stdout == "")
        #expect(!FileManager.default.fileExists(atPath: t.path("missing.sqlite")))
    }

    @Test func summaryDrillDownsAndSort() throws {
        let t = try TempDir()
        let db = try Self.fixtureDatabase(t)
        let r = try CLI.run([
            "summary", "--db", db, "--by", "sender", "--sender", "news", "--recipients", "--ids", "--format", "csv",
        ])
        #expect(r.status == 0)
        #expect(
            r.stdout == """
                key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen,ids,parent\r
                news@hosting.example,1,3,1,1,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,7E1F0E0403,\r
                a1@list.example,1,1,1,0,0,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,7E1F0E0403,news@hosting.example\r
                a2@list.example,1,1,0,0,1,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,7E1F0E0403,news@hosting.example\r
                a3@other.example,1,1,0,1,0,15000,2026-11-09T00:20:00Z,2026-11-09T00:20:00Z,7E1F0E0403,news@hosting.example\r

                """)
        let table = try CLI.run([
            "summary", "--db", db, "--by", "sender", "--sender", "news", "--recipients", "--format", "table",
        ])
        #expect(
            table.stdout == """
                key                   messages  recipients  delivered  deferred  bounced  bytes  first_seen            last_seen
                news@hosting.example         1           3          1         1        1  15000  2026-11-09T00:20:00Z  2026-11-09T00:20:00Z
                  a1@list.example            1           1          1         0        0  15000  2026-11-09T00:20:00Z  2026-11-09T00:20:00Z
                  a2@list.example            1           1          0         0        1  15000  2026-11-09T00:20:00Z  2026-11-09T00:20:00Z
                  a3@other.example           1           1          0         1        0  15000  2026-11-09T00:20:00Z  2026-11-09T00:20:00Z

                """)
        let sorted = try CLI.run([
            "summary", "--db", db, "--by", "account", "--sort", "bytes", "--top", "1", "--format", "csv",
        ])
        #expect(
            sorted.stdout.hasSuffix(
                "sasl:shop@store.example,1,2,2,0,0,20480,2026-11-09T09:05:00Z,2026-11-09T09:05:00Z\r\n"))
    }

    /// Relative `--since`: a log stamped (RFC 3339) two and thirty hours before now.
    @Test func relativeSinceCountsBackFromNow() throws {
        let t = try TempDir()
        let db = t.path("r.sqlite")
        let log = t.path("mail.log")
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var lines = ""
        for (hours, id, sender) in [(30, "1A1A1A1A1A", "old@shop.example"), (2, "2B2B2B2B2B", "new@shop.example")] {
            let at = f.string(from: Date().addingTimeInterval(-Double(hours) * 3600))
            lines += """
                \(at) relay1 postfix/smtpd[1]: \(id): client=c.example[192.0.2.1]
                \(at) relay1 postfix/qmgr[2]: \(id): from=<\(sender)>, size=10, nrcpt=1 (queue active)
                \(at) relay1 postfix/smtp[3]: \(id): to=<r@dest.example>, relay=mx.dest.example[203.0.113.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
                \(at) relay1 postfix/qmgr[2]: \(id): removed

                """
        }
        try lines.write(toFile: log, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["ingest", "--db", db, log]).status == 0)
        let recent = try CLI.run(["summary", "--db", db, "--since", "24h", "--format", "csv"])
        #expect(
            recent.stdout.split(separator: "\r\n").map { $0.split(separator: ",").first ?? "" } == [
                "key", "new@shop.example",
            ])
        let week = try CLI.run(["summary", "--db", db, "--since", "7d", "--until", "1d", "--format", "csv"])
        #expect(
            week.stdout.split(separator: "\r\n").map { $0.split(separator: ",").first ?? "" } == [
                "key", "old@shop.example",
            ])
        let count = try CLI.run(["license", "--db", db, "--since", "90m", "--count"])
        #expect(count.stdout == "0\n")
    }

    @Test func licenceRegistrableNeedsThePublicSuffixList() throws {
        let t = try TempDir()
        let db = try Self.fixtureDatabase(t)
        let missing = try CLI.run([
            "license", "--db", db, "--registrable", "--public-suffix-list", t.path("none.dat"),
        ])
        #expect(missing.status == 1)
        #expect(missing.stdout == "")
        #expect(
            missing.stderr.contains(
                "the Public Suffix List is not at \(t.path("none.dat")): install Debian's publicsuffix package"))
        let list = t.path("list.dat")
        try "example\n".write(toFile: list, atomically: true, encoding: .utf8)
        let folded = try CLI.run([
            "license", "--db", db, "--registrable", "--public-suffix-list", list, "--by", "account", "--format", "csv",
        ])
        #expect(folded.status == 0)
        #expect(folded.stdout.contains("\r\nsasl:u1234,isp.example,1,2026-11-09T09:00:01Z,2026-11-09T09:00:01Z,\r\n"))
        let plain = try CLI.run(["license", "--db", db, "--count"])
        #expect(plain.stdout == "7\n")
    }

    @Test func exportStreamsJSONLines() throws {
        let t = try TempDir()
        let db = try Self.fixtureDatabase(t)
        let r = try CLI.run(["export", "rejects", "--db", db, "--format", "json", "--sender", "bob@shop2.example"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["sender"] as? String == "bob@shop2.example")
        }
    }

    @Test func helpListsTheReportCommands() throws {
        let r = try CLI.run(["--help"])
        for name in ["summary", "rejects", "export", "license"] { #expect(r.stdout.contains("  \(name) ")) }
        for command in ["summary", "rejects", "export", "license"] {
            let help = try CLI.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("--since"))
        }
    }
}
