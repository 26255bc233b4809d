import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Logs rotated by renaming (logrotate's default: `mail.log` → `mail.log.1`, a new `mail.log`) and by copying and
/// truncating in place (`copytruncate`), between two ingests and while one runs: no line lost, none read twice.
@Suite struct RotationTests {
    enum Mode: String, Sendable, CaseIterable {
        case rename, copytruncate
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var mode: Mode
        var duringRun: Bool
        var log: String
        var testDescription: String { "\(mode.rawValue) \(duringRun ? "during a run" : "between runs") of \(log)" }
    }

    /// All lines of the sample's rotated set of one MTA, oldest first.
    static func lines(_ base: String) throws -> [String] {
        let old = try ProcessRun.run("/usr/bin/env", ["gzip", "-dc", Relaysum.fixture("sample/\(base).2.gz")])
        try #require(old.status == 0, "\(old.stderr)")
        var all = old.stdout.split(separator: "\n").map(String.init)
        for name in ["\(base).1", base] {
            let text = try String(contentsOfFile: Relaysum.fixture("sample/\(name)"), encoding: .utf8)
            all += text.split(separator: "\n").map(String.init)
        }
        return all
    }

    static let arguments = ["ingest", "--timezone", "UTC", "--year", "2026", "--batch-lines", "20", "--quiet"]

    @Test(
        arguments: Mode.allCases.flatMap { mode in
            [false, true].flatMap { during in
                ["mail.log", "mainlog"].map { Case(mode: mode, duringRun: during, log: $0) }
            }
        })
    func rotationLosesNothingAndCountsNothingTwice(_ c: Case) throws {
        let all = try Self.lines(c.log)
        let n = all.count
        let t = try Scratch()
        // The reference: every line in one file, read once.
        try t.write("whole.log", all[...])
        let reference = t.path("reference.sqlite")
        #expect(try Relaysum.run(Self.arguments + ["--db", reference, t.path("whole.log")]).status == 0)

        let db = t.path("r.sqlite")
        let live = t.path(c.log)
        let rotated = t.path(c.log + ".1")
        let (a, b, cut) = (n / 5, 2 * n / 5, 4 * n / 5)
        try t.write(c.log, all[..<a])
        var held: Relaysum.Child?
        if c.duringRun {
            // An ingest reading the live file, held still halfway through what it has.
            let child = try Relaysum.Child(
                Self.arguments + ["--db", db, "--fault", "stop", "--fault-at-line", "\(a / 2)", live], pipeStderr: true)
            #expect(try child.readUntilStopped().contains("stopping after line \(a / 2)"))
            held = child
        } else {
            #expect(try Relaysum.run(Self.arguments + ["--db", db, live]).status == 0)
        }
        // The MTA writes on, then the log rotates; the new live file grows past where the reader was.
        try t.append(c.log, all[a..<b])
        switch c.mode {
        case .rename:
            #expect(rename(live, rotated) == 0)
            try t.write(c.log, all[b..<cut])
        case .copytruncate:
            try FileManager.default.copyItem(atPath: live, toPath: rotated)
            #expect(truncate(live, 0) == 0)
            try t.append(c.log, all[b..<cut])
        }
        if let held {
            kill(held.pid, SIGCONT)
            let r = try held.wait()
            #expect(r.status == 0, "\(r)")
        }
        try t.append(c.log, all[cut...])
        let last = try Relaysum.run(Self.arguments + ["--db", db, live, rotated])
        #expect(last.status == 0, "\(last)")
        #expect(try Relaysum.inspect(db).lines == n)
        let got = try Relaysum.snapshot(db)
        let want = try Relaysum.snapshot(reference)
        #expect(want["export messages"]!.count > 100)
        expectSameSnapshot(got, want, c.testDescription)
        // Once more: nothing new.
        let again = try Relaysum.run(Self.arguments + ["--db", db, live, rotated])
        #expect(again.status == 0)
        #expect(try Relaysum.inspect(db).lines == n)
        #expect(try Relaysum.snapshot(db) == got)
    }
}
