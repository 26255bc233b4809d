import Foundation
import Testing

/// `relaysum prune` through the built binary on the bundled sample logs (2026-11-07 to 2026-11-09).
@Suite struct PruneCommandTests {
    static func sample(_ t: TempDir) throws -> String {
        let db = t.path("s.sqlite")
        let files = ["mail.log", "mail.log.1", "mail.log.2.gz"].map { CLI.fixture("sample/\($0)") }
        let r = try CLI.run(["ingest", "--db", db, "--quiet", "--timezone", "UTC"] + files)
        #expect(r.status == 0, "\(r.stderr)")
        return db
    }

    @Test func dryRunDeletesNothingAndPruneKeepsTheDaysAfterTheCut() throws {
        let t = try TempDir()
        let db = try Self.sample(t)
        let kept = ["summary", "--db", db, "--by", "account", "--format", "csv", "--since", "2026-11-09T00:00:00Z"]
        let all = ["summary", "--db", db, "--by", "account", "--format", "csv"]
        let keptBefore = try CLI.run(kept).stdout
        let allBefore = try CLI.run(all).stdout

        // A cut in the afternoon goes back to midnight UTC.
        let cut = ["--db", db, "--older-than", "2026-11-09T15:00:00Z"]
        let dry = try CLI.run(["prune", "--dry-run"] + cut)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(
            dry.stdout.hasPrefix("prune: everything before 2026-11-09T00:00:00Z (would delete):\n"), "\(dry.stdout)")
        #expect(!dry.stdout.contains("vacuum"))
        #expect(try CLI.run(all).stdout == allBefore)

        let real = try CLI.run(["prune"] + cut)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.replacingOccurrences(of: "would delete", with: "deleted").hasPrefix(dry.stdout.prefix(40)))
        // The same counts as the dry run promised.
        let counts = { (s: String) in s.split(separator: "\n").dropFirst().prefix(11).map(String.init) }
        #expect(counts(real.stdout) == counts(dry.stdout))
        #expect(real.stdout.contains(" messages\n") && real.stdout.contains("vacuum: "), "\(real.stdout)")
        #expect(try CLI.run(kept).stdout == keptBefore)
        #expect(try CLI.run(all).stdout != allBefore)
    }

    @Test func theCutIsRequiredAndChecked() throws {
        let t = try TempDir()
        let db = try Self.sample(t)
        let none = try CLI.run(["prune", "--db", db])
        #expect(none.status == 64)
        #expect(none.stderr.contains("--older-than"), "\(none.stderr)")
        // The configuration file's [retention] older_than stands in for --older-than.
        let config = t.path("relaysum.toml")
        try "[retention]\nolder_than = \"3650d\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try CLI.run(["prune", "--db", db, "--config", config, "--dry-run"])
        #expect(configured.status == 0, "\(configured.stderr)")
        #expect(configured.stdout.hasPrefix("prune: everything before 20"), "\(configured.stdout)")
        #expect(configured.stdout.contains("\n  0 messages\n"), "\(configured.stdout)")
        let bad = try CLI.run(["prune", "--db", db, "--older-than", "ninety days"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("invalid time 'ninety days'"), "\(bad.stderr)")
    }
}
