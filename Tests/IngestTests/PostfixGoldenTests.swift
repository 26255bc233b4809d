import Foundation
import Testing

@testable import Ingest

/// Golden files: each `Fixtures/logs/postfix/NAME.log` beside `NAME.golden`, the records it yields.
/// `RECORD_SNAPSHOTS=1 swift test` rewrites the goldens and fails the run.
@Suite struct PostfixGoldenTests {
    static let fixtures: [String] = {
        let dir = TestPaths.fixtures.appendingPathComponent("postfix")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".log") }.sorted()
    }()

    @Test(arguments: fixtures)
    func golden(_ name: String) throws {
        let dir = TestPaths.fixtures.appendingPathComponent("postfix")
        let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        let feed = PostfixFeed(text: text, file: name)
        let counts = Dictionary(grouping: feed.verdicts.map(Self.label), by: { $0 }).mapValues(\.count)
        let actual =
            feed.output.goldenText() + "# lines: "
            + counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        let goldenURL = dir.appendingPathComponent(name.replacingOccurrences(of: ".log", with: ".golden"))
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
            try actual.write(to: goldenURL, atomically: true, encoding: .utf8)
            Issue.record("recorded \(goldenURL.lastPathComponent); run again without RECORD_SNAPSHOTS")
            return
        }
        let expected = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(actual == expected, "\(name) differs from its golden file")
        #expect(feed.unparsed.isEmpty, "unparsed lines in \(name): \(feed.unparsed)")
    }

    static func label(_ v: LineVerdict) -> String {
        switch v {
        case .parsed: return "parsed"
        case .skipped: return "skipped"
        case .unparsed(let kind): return "unparsed(\(kind))"
        }
    }
}

/// A delivery's `status=` word is read from the log's bytes: every word Postfix writes, and nothing else.
@Suite struct PostfixStatusWordTests {
    @Test(arguments: PostfixDelivery.Status.allCases)
    func everyStatusWordIsRead(_ status: PostfixDelivery.Status) {
        #expect(ByteSlice.with(status.rawValue) { PostfixDelivery.Status($0) } == status)
        let line =
            "4NmB1q0Bt7z9vKp: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1, dsn=2.0.0, status=\(status.rawValue) (x)"
        let parsed = ByteSlice.with("smtp") { d in
            ByteSlice.with(line) { PostfixLineParser.parse(daemon: d, message: $0) }
        }
        guard case .event(.delivery(_, let d)) = parsed else {
            Issue.record("not a delivery: \(parsed)")
            return
        }
        #expect(d.status == status)
    }

    @Test(arguments: ["", "sen", "sentx", "Sent", "SENT", "deferred2", "force_expired", "bounce"])
    func otherWordsAreNotStatuses(_ word: String) {
        #expect(ByteSlice.with(word) { PostfixDelivery.Status($0) } == nil)
    }
}
