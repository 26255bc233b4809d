import Foundation
import TestSupport
import Testing

/// `anomalies` with its default thresholds on relays from `Benchmarks/scenarios.py`: a month of history for a few
/// dozen accounts, then one incident of each kind (labelled by the generator, which knows nothing of the detector).
/// Every compromise must come out `compromised` with a window starting within an hour of its true start; no benign
/// incident (newsletter, large Cc list, delivery outage, traveller, new account) may; and every `compromised`
/// finding must be a labelled compromise. DETECTION.md has the larger evaluation.
@Suite(.serialized) struct ScenarioDetectionTests {
    static let python = ExternalTools.python

    struct Label {
        var id: String
        var kind: String
        var compromise: Bool
        var account: String
        var start: Int64
        var end: Int64
    }

    struct Finding {
        var account: String
        var start: Int64
        var end: Int64
        var verdict: String
    }

    static func time(_ s: some StringProtocol) -> Int64 {
        let f = ISO8601DateFormatter()
        return Int64(f.date(from: String(s))!.timeIntervalSince1970)
    }

    static func generate(seed: Int, mta: String, into dir: String) throws -> [Label] {
        let generator = try ChildProcess(
            try #require(python),
            [
                CLI.packageRoot.appendingPathComponent("Benchmarks/scenarios.py").path, "--seed", "\(seed)", "--out",
                dir, "--mta", mta, "--accounts", "24", "--days", "33", "--eval-days", "5", "--per-kind", "1",
                "--outages", "1",
            ], stderr: .inherit)
        try #require(try generator.status() == 0)
        let text = try String(contentsOfFile: dir + "/labels.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            return Label(
                id: String(f[0]), kind: String(f[1]), compromise: f[2] == "compromise", account: String(f[3]),
                start: time(f[4]), end: time(f[5]))
        }
    }

    static func findings(_ csv: String) -> [Finding] {
        csv.split(separator: "\r\n").dropFirst().map { line in
            // account,window_start,window_end,verdict,… (accounts and times have no commas or quotes)
            let f = line.split(separator: ",", maxSplits: 4, omittingEmptySubsequences: false)
            return Finding(account: String(f[0]), start: time(f[1]), end: time(f[2]), verdict: String(f[3]))
        }
    }

    @Test(
        .enabled(if: python != nil, "python3 is not installed: generated-scenario tests skipped"),
        arguments: [(21, "postfix"), (22, "exim")])
    func everyCompromiseAndNoBenignIncident(seed: Int, mta: String) throws {
        let t = try TempDir()
        let labels = try Self.generate(seed: seed, mta: mta, into: t.path("scenario"))
        #expect(labels.filter(\.compromise).count == 4)
        let files = try FileManager.default.contentsOfDirectory(atPath: t.path("scenario/\(mta)"))
            .filter { !$0.hasPrefix("truth") }.map { t.path("scenario/\(mta)/\($0)") }
        let db = t.path("s.sqlite")
        let ingest = try CLI.run(["ingest", "--db", db, "--quiet"] + files)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        let r = try CLI.run(["anomalies", "--db", db, "--format", "csv"])
        try #require(r.status == 0, "\(r.stderr)")
        let compromised = Self.findings(r.stdout).filter { $0.verdict == "compromised" }
        func meets(_ f: Finding, _ l: Label) -> Bool {
            (l.account == f.account || l.account == "*") && f.start < l.end + 3600 && f.end > l.start
        }
        for l in labels where l.compromise {
            let hit = compromised.first { meets($0, l) }
            #expect(hit != nil, "missed \(l.kind) #\(l.id) \(l.account)\n\(r.stdout)")
            if let hit { #expect(abs(hit.start - l.start) <= 3600, "\(l.kind) #\(l.id) window starts \(hit.start)") }
        }
        for l in labels where !l.compromise {
            #expect(!compromised.contains { meets($0, l) }, "benign \(l.kind) #\(l.id) judged compromised\n\(r.stdout)")
        }
        for f in compromised {
            #expect(labels.contains { $0.compromise && meets(f, $0) }, "unlabelled compromised finding \(f)")
        }
    }
}
