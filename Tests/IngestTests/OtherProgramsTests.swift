import Foundation
import Testing

@testable import Ingest

/// Lines of other programs interleaved in real mail logs (dovecot, amavis, sendmail, roundcube, …) are skipped
/// knowingly, never counted as unparsed Postfix lines.
@Suite(.enabled(if: TestPaths.corpusPresent, "../shared/corpus is absent: other-program tests skipped"))
struct OtherProgramsTests {
    @Test func otherProgramsAreSkipped() throws {
        let dir = TestPaths.corpus.appendingPathComponent("other")
        var total = 0
        var unparsed: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".log") {
            let text = String(decoding: try Data(contentsOf: dir.appendingPathComponent(name)), as: UTF8.self)
            let feed = PostfixFeed(text: text, file: name)
            total += feed.verdicts.count
            unparsed += feed.unparsed
        }
        print("other programs: \(total) lines, \(unparsed.count) unparsed")
        #expect(total > 500)
        // A few lines of these files have no syslog stamp at all (continuation lines); nothing else may be unparsed.
        #expect(unparsed.allSatisfy { $0.hasPrefix("envelope:") })
        #expect(Double(unparsed.count) / Double(total) < 0.01)
    }
}
