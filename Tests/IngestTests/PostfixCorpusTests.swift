import Foundation
import Testing

@testable import Ingest

/// Real Postfix lines from public sources (`../shared/corpus/postfix`), when that folder is present.
@Suite(.enabled(if: TestPaths.corpusPresent, "../shared/corpus is absent: corpus tests skipped"))
struct PostfixCorpusTests {
    @Test func classifiesAtLeast99Percent() throws {
        let dir = TestPaths.corpus.appendingPathComponent("postfix")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            // Message bodies without a syslog envelope are checked by the expectation tests instead.
            $0.hasSuffix(".log") && !$0.contains("bodies") && $0 != "grok-patterns.log"
        }.sorted()
        var total = 0
        var unparsed: [String: Int] = [:]
        for name in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            let text = String(decoding: data, as: UTF8.self)
            let feed = PostfixFeed(text: text, file: name, year: 2015)
            total += feed.verdicts.count
            for k in feed.unparsed { unparsed[k, default: 0] += 1 }
        }
        let bad = unparsed.values.reduce(0, +)
        let share = Double(total - bad) / Double(max(total, 1)) * 100
        print(
            String(format: "postfix corpus: %d lines, %.2f %% classified (parsed or knowingly skipped)", total, share))
        for (k, n) in unparsed.sorted(by: { $0.value > $1.value }).prefix(10) { print("  unparsed \(n) \(k)") }
        #expect(total > 3000)
        #expect(share >= 99.0)
    }
}
