import Foundation
import Testing

/// What `relaysum ingest` prints while it reads: a bar on a terminal (run here under `script`, which gives the
/// child a pseudo-terminal), plain lines elsewhere, colours never with NO_COLOR.
@Suite struct IngestProgressTests {
    static let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func ingest(_ t: TempDir, _ options: [String]) -> [String] {
        ["ingest", "--db", t.path("p.sqlite"), "--batch-lines", "50"] + options + [
            CLI.fixture("sample/mail.log.2.gz"), CLI.fixture("sample/mail.log.1"),
        ]
    }

    /// Runs relaysum on a pseudo-terminal; what the terminal showed.
    static func onTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let quoted = ([CLI.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var env = environment
        env["TERM"] = "xterm"
        let r = try CLI.run(
            ["-qec", "stty cols 120; " + quoted.joined(separator: " "), "/dev/null"], environment: env,
            executable: URL(fileURLWithPath: try #require(script)))
        #expect(r.status == 0, "\(r.stdout)")
        return r.stdout
    }

    @Test(.enabled(if: script != nil, "script (util-linux) is not installed"))
    func aTerminalGetsABarWithSpeedAndTimeLeftInColour() throws {
        let t = try TempDir()
        let shown = try Self.onTerminal(Self.ingest(t, []), environment: ["NO_COLOR": ""])
        let bar = try #require(shown.split(separator: "\r").first { $0.contains("mail.log.1") && $0.contains("ETA") })
        #expect(bar.contains(" MB/s  ETA 0:"), "\(bar)")
        #expect(bar.contains("%"), "\(bar)")
        #expect(bar.contains("\u{1B}[32m"), "a green bar: \(bar)")
        #expect(shown.contains("relaysum: 2 file(s), 3131 new line(s)"), "\(shown)")
    }

    @Test(.enabled(if: script != nil, "script (util-linux) is not installed"))
    func noColorTurnsColoursOffButKeepsTheBar() throws {
        let t = try TempDir()
        let shown = try Self.onTerminal(Self.ingest(t, []), environment: ["NO_COLOR": "1"])
        #expect(shown.contains("ETA"), "\(shown)")
        #expect(!shown.contains("\u{1B}[32m") && !shown.contains("\u{1B}[1m"), "\(shown)")
    }

    @Test func notOnATerminalThereIsNoBarAndVerboseNamesEachFile() throws {
        let t = try TempDir()
        let plain = try CLI.run(Self.ingest(t, []))
        #expect(plain.status == 0)
        #expect(!plain.stderr.contains("\r") && !plain.stderr.contains("\u{1B}"), "\(plain.stderr)")
        #expect(!plain.stderr.contains("MB/s"))

        let t2 = try TempDir()
        let verbose = try CLI.run(Self.ingest(t2, ["--verbose"]))
        #expect(verbose.status == 0)
        let lines = verbose.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("relaysum: \(CLI.fixture("sample/mail.log.2.gz")): 0.") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("relaysum: \(CLI.fixture("sample/mail.log.1")): 0.") == true)
        #expect(lines.prefix(2).allSatisfy { $0.hasSuffix(" MB/s)") })
        #expect(!verbose.stderr.contains("\u{1B}"))

        let t3 = try TempDir()
        let quiet = try CLI.run(Self.ingest(t3, ["--quiet"]))
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        let both = try CLI.run(Self.ingest(t3, ["--quiet", "--verbose"]))
        #expect(both.status == 64)
        #expect(both.stderr.contains("--quiet and --verbose cannot be used together"), "\(both.stderr)")
    }
}
