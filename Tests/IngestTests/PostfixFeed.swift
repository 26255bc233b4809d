import Foundation
import Store

@testable import Ingest

/// Feeds log text through the envelope parser and a Postfix correlator, as `Ingestor` does, without a database.
struct PostfixFeed {
    var verdicts: [LineVerdict] = []
    var output = CorrelatorOutput()

    init(text: String, file: String = "test.log", year: Int = 2026, host: String? = nil) {
        let correlator = PostfixCorrelator(rowIDs: RowIDAllocator(next: 1))
        var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: year, reference: 0)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            ByteSlice.with(String(line)) { bytes in
                switch envelopes.parse(bytes) {
                case .failure(let e):
                    verdicts.append(e == .foreignFormat ? .skipped : .unparsed(kind: "envelope: \(e.rawValue)"))
                case .success(let env):
                    guard let program = env.program, program.hasPrefix("postfix") else {
                        verdicts.append(.skipped)
                        return
                    }
                    verdicts.append(
                        correlator.consume(
                            env, host: host ?? env.host?.string ?? "-",
                            position: SourcePosition(file: file, line: i + 1)
                        ))
                }
            }
        }
        output = correlator.flush()
    }

    var unparsed: [String] {
        verdicts.compactMap {
            if case .unparsed(let kind) = $0 { return kind }
            return nil
        }
    }

    func message(_ queueID: String) -> MessageRecord? {
        output.messages.map(\.record).first { $0.queueID == queueID }
    }
}

/// Paths inside the package and beside it.
enum TestPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Fixtures/logs")
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    static var corpusPresent: Bool { FileManager.default.fileExists(atPath: corpus.path) }
}
