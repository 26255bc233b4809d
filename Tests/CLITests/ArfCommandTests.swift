import Foundation
import TestSupport
import Testing

/// `relaysum config check` and `relaysum arf build|send` as an operator runs them, over the reject fixtures of both
/// MTAs, with a sendmail stand-in that records its arguments and input.
@Suite struct ArfCommandTests {
    static let packageRoot = CLI.packageRoot
    static let validator = ExternalTools.validator(packageRoot: packageRoot)
    static let sisimaiScript = packageRoot.appendingPathComponent("Tests/ARFTests/sisimai_check.pl").path
    static let python = ExternalTools.python

    /// A database with the Postfix and Exim reject fixtures, a sendmail stand-in and a configuration using it.
    static func setUp(_ t: TempDir, sendmailStatus: Int = 0, abuse: Bool = true) throws -> (db: String, config: String)
    {
        let db = t.path("r.sqlite")
        for fixture in ["postfix/rejects.log", "exim/rejects.log"] {
            let r = try CLI.run(["ingest", "--db", db, "--year", "2026", "--timezone", "UTC", CLI.fixture(fixture)])
            try #require(r.status == 0, "\(r.stderr)")
        }
        try FileManager.default.createDirectory(atPath: t.path("mail"), withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            echo "$@" >> '\(t.path("argv.log"))'
            if [ \(sendmailStatus) -ne 0 ]; then echo "no queue" >&2; exit \(sendmailStatus); fi
            n=$(ls '\(t.path("mail"))' | wc -l)
            cat > '\(t.path("mail"))'/$((n + 1)).eml
            """
        try script.write(toFile: t.path("sendmail"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: t.path("sendmail"))
        let config = """
            [report]
            from = "abuse-desk@relay.example"
            reporting_mta = "relay.example"
            limit = 0
            [abuse]
            \(abuse ? "default = \"abuse@hosting.example\"" : "")
            [abuse.users]
            "sasl:bob@shop2.example" = "abuse@shop2.example"
            [transport]
            sendmail_path = "\(t.path("sendmail"))"
            """
        try config.write(toFile: t.path("relaysum.toml"), atomically: true, encoding: .utf8)
        return (db, t.path("relaysum.toml"))
    }

    static func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }

    @Test(
        .enabled(
            if: ExternalTools.reportCheckers(packageRoot: CLI.packageRoot),
            Comment(rawValue: ExternalTools.reportCheckersMissing)))
    func buildWritesReportsThatPassTheValidatorAndSisimai() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t)
        let build = try CLI.run(["arf", "build", "--db", db, "--config", config, "--out", t.path("out")])
        #expect(build.status == 0, "\(build.stderr)")
        // Postfix: header check, body check discard, milter reject, content filter; Exim: two `rejected after DATA`
        // (the temporary one is not reported).
        #expect(build.stdout.contains("built 6 reports (0 compromised account, 6 blocked message); 0 held"))
        #expect(build.stdout.contains("wrote 6 reports to"))
        let emls = Self.files(t.path("out"))
        #expect(emls.count == 6)
        let python = try #require(Self.python)
        let validated = try CLI.runTool(python, [Self.validator, "--strict"] + emls)
        #expect(validated.status == 0, "\(validated.stdout)")
        let sisimai = try CLI.runTool("/usr/bin/perl", [Self.sisimaiScript] + emls)
        #expect(sisimai.status == 0, "\(sisimai.stderr)")
        let lines = sisimai.stdout.split(separator: "\n")
        #expect(lines.count == 6 && lines.allSatisfy { $0.split(separator: " ")[1] == "abuse" }, "\(sisimai.stdout)")
        #expect(sisimai.stdout.contains(" abuse victim@far.example"))
        // Addressed per the configuration: bob's by account, the rest to the default.
        let bob = try emls.filter {
            try String(contentsOfFile: $0, encoding: .utf8).contains("To: <abuse@shop2.example>")
        }
        #expect(bob.count == 4)
        // Building again builds nothing new.
        let again = try CLI.run(["arf", "build", "--db", db, "--config", config])
        #expect(again.stdout.hasPrefix("built 0 reports"))
    }

    @Test func sendDeliversEachReportOnceThroughSendmail() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t)
        let dry = try CLI.run(["arf", "send", "--db", db, "--config", config, "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.split(separator: "\n").filter { $0.hasPrefix("would build and send") }.count == 6)
        #expect(dry.stdout.contains("to abuse@shop2.example via sendmail \(t.path("sendmail"))"))
        #expect(!FileManager.default.fileExists(atPath: t.path("argv.log")))

        let first = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("sent 6 reports via sendmail"))
        let second = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(second.status == 0)
        #expect(second.stdout.contains("sent 0 reports via sendmail"))
        #expect(Self.files(t.path("mail")).count == 6)
        let argv = try String(contentsOfFile: t.path("argv.log"), encoding: .utf8)
        #expect(argv == String(repeating: "-t -oi\n", count: 6))
    }

    @Test func aFailedSendExitsOneAndIsRetried() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t, sendmailStatus: 75)
        let failed = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("sent 0 reports via sendmail"))
        #expect(failed.stdout.contains("6 failed"))
        #expect(failed.stderr.contains("not delivered:") && failed.stderr.contains("failed (exit status 75): no queue"))
        // Mend the stand-in: the next run sends all six.
        let fixed = try String(contentsOfFile: t.path("sendmail"), encoding: .utf8)
            .replacingOccurrences(of: "[ 75 -ne 0 ]", with: "[ 0 -ne 0 ]")
        try fixed.write(toFile: t.path("sendmail"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: t.path("sendmail"))
        let retried = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(retried.status == 0)
        #expect(retried.stdout.contains("sent 6 reports"))
        #expect(Self.files(t.path("mail")).count == 6)
    }

    /// A report still failing `give_up_after_hours` after it was built is given up at that attempt: said on stderr,
    /// exit 1 that once, never tried again.
    @Test(.enabled(if: python != nil, "python3 is not installed: the reports' build time cannot be set back"))
    func aReportFailingPastTheGiveUpAgeIsGivenUpOnce() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t, sendmailStatus: 75)
        let failed = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(failed.status == 1 && failed.stdout.contains("6 failed") && !failed.stderr.contains("given up"))
        // Built 121 hours ago (the default is 120).
        let aged = try ProcessRun.run(
            try #require(Self.python),
            [
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                    + "c.execute('UPDATE arf_reports SET created_at = created_at - 121 * 3600'); c.commit()",
                db,
            ])
        try #require(aged.status == 0, "\(aged.stderr)")
        let givenUp = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(givenUp.status == 1)
        #expect(givenUp.stdout.contains("6 failed (6 given up)"), "\(givenUp.stdout)")
        #expect(
            givenUp.stderr.contains(
                "failed (exit status 75): no queue; given up: still failing 120 h or more after it was built "
                    + "(give_up_after_hours), it will not be tried again"), "\(givenUp.stderr)")
        let after = try CLI.run(["arf", "send", "--db", db, "--config", config])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stdout.contains("sent 0 reports via sendmail") && after.stdout.contains("; 0 failed"))
        #expect(after.stderr.isEmpty)
    }

    /// Hostile data as the parsers pass it on from a log (non-ASCII, `=?`, quotes and semicolons in addresses and
    /// the subject, a 1000-character local part) gives reports that still pass both readers.
    @Test(
        .enabled(
            if: ExternalTools.reportCheckers(packageRoot: CLI.packageRoot),
            Comment(rawValue: ExternalTools.reportCheckersMissing)))
    func hostileLogLinesGiveSafeReports() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t)
        let long = String(repeating: "x", count: 1000)
        let log = """
            Nov 10 08:01:01 relay9 postfix/cleanup[4004]: 9E2F3A4B5C: reject: header Subject: Gewinn =?utf-8?q?x?= \
            für Sie; "quoted" <b> from mail.shop2.example[192.0.2.20]; from=<\(long)@shop2.example> \
            to=<lucky@far.example> proto=ESMTP helo=<mail.shop2.example>: 5.7.1 message content rejected
            Nov 10 08:03:01 relay9 postfix/smtpd[4003]: 3A4B5C6D7E: milter-reject: END-OF-MESSAGE from \
            mail.shop2.example[192.0.2.20]: 5.7.1 Rejected by rspamd: spam; from=<a"b;c@shop2.example> \
            to=<"x;y"@far.example> proto=ESMTP helo=<mail.shop2.example>
            Nov 10 08:04:01 relay9 postfix/smtpd[4003]: 4A4B5C6D7E: milter-reject: END-OF-MESSAGE from \
            mail.shop2.example[192.0.2.20]: 5.7.1 Spam ü; from=<jürgen@shop2.example> to=<müller@far.example> \
            proto=ESMTP helo=<mail.shop2.example>

            """
        try log.write(toFile: t.path("hostile.log"), atomically: true, encoding: .utf8)
        let ingest = try CLI.run(["ingest", "--db", db, "--year", "2026", "--timezone", "UTC", t.path("hostile.log")])
        try #require(ingest.status == 0)
        let build = try CLI.run(["arf", "build", "--db", db, "--config", config, "--out", t.path("out")])
        #expect(build.stdout.contains("built 9 reports"))
        let emls = Self.files(t.path("out"))
        let python = try #require(Self.python)
        let validated = try CLI.runTool(python, [Self.validator, "--strict"] + emls)
        #expect(validated.status == 0, "\(validated.stdout)")
        let sisimai = try CLI.runTool("/usr/bin/perl", [Self.sisimaiScript] + emls)
        #expect(sisimai.stdout.split(separator: "\n").count == 9)
        #expect(sisimai.stdout.split(separator: "\n").allSatisfy { $0.split(separator: " ")[1] == "abuse" })
        for eml in emls {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: eml))
            #expect(bytes.allSatisfy { $0 < 0x80 }, "8-bit data in \(eml)")
        }
        let header = try emls.map { try String(contentsOfFile: $0, encoding: .utf8) }.first {
            $0.contains("9E2F3A4B5C")
        }
        let text = try #require(header)
        #expect(text.contains("Subject: =?UTF-8?B?"))
        #expect(!text.contains(long))
    }

    @Test func withoutAnAbuseAddressNothingIsBuiltAndTheOutputSaysSo() throws {
        let t = try TempDir()
        let (db, config) = try Self.setUp(t, abuse: false)
        let build = try CLI.run(["arf", "build", "--db", db, "--config", config])
        #expect(build.status == 0)
        #expect(build.stdout.contains("built 4 reports"))
        #expect(build.stdout.contains("not built: 1 report about ip:192.0.2.12: no abuse address configured"))
        #expect(
            build.stdout.contains("not built: 1 report about sasl:alice@shop1.example: no abuse address configured"))
    }

    @Test(arguments: [["arf", "build"], ["arf", "send"], ["arf", "send", "--dry-run"]])
    func aMissingDatabaseIsAnErrorNotAnEmptyOne(_ command: [String]) throws {
        let t = try TempDir()
        let r = try CLI.run(
            command + [
                "--db", t.path("typo.sqlite"), "--config",
                Self.packageRoot.appendingPathComponent("contrib/relaysum.toml").path,
            ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no database at \(t.path("typo.sqlite"))"))
        #expect(!FileManager.default.fileExists(atPath: t.path("typo.sqlite")))
    }

    @Test func configCheck() throws {
        let t = try TempDir()
        let good = try CLI.run([
            "config", "check", "--config", Self.packageRoot.appendingPathComponent("contrib/relaysum.toml").path,
        ])
        #expect(good.status == 0)
        #expect(good.stdout.hasPrefix("OK "))
        #expect(good.stdout.contains("default = \"abuse@hosting.example\""))
        try "[report]\nlimit = \"one\"\n[transprt]\n".write(
            toFile: t.path("bad.toml"), atomically: true, encoding: .utf8)
        let bad = try CLI.run(["config", "check", "--config", t.path("bad.toml")])
        #expect(bad.status == 1)
        #expect(bad.stdout == "")
        #expect(bad.stderr.contains("\(t.path("bad.toml")):2:1: [report] limit must be an integer, not a string"))
        #expect(bad.stderr.contains("\(t.path("bad.toml")):3:1: [transprt] is not a known section"))
        // $RELAYSUM_CONFIG is used when --config is not given.
        let env = try CLI.run(["config", "check"], environment: ["RELAYSUM_CONFIG": t.path("bad.toml")])
        #expect(env.status == 1)
    }
}

extension CLI {
    /// Runs another program (the validator, Sisimai) to its end.
    static func runTool(_ executable: String, _ arguments: [String]) throws -> Result {
        let r = try ProcessRun.run(executable, arguments)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }
}
