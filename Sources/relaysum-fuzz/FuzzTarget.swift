import Foundation
import Ingest

/// The code under fuzzing, one entry point per target: each takes arbitrary bytes and must neither crash, hang, nor
/// touch memory it does not own.
///
/// Built with libFuzzer (`-sanitize=fuzzer,address -DRELAYSUM_LIBFUZZER`, see RELIABILITY.md) the target is chosen
/// by `RELAYSUM_FUZZ_TARGET`; built plainly, `relaysum-fuzz` replays corpus files and writes seed corpora.
enum FuzzTarget: String, CaseIterable {
    /// `PostfixLineParser`: input `<daemon> <message>`, e.g. `qmgr 4NmB1q0Bt7z9vKp: from=<a@b.example>, …`.
    case postfix
    /// `EximLineParser`: input the text after the envelope, e.g. `1xQ5bl-000000002Lx-1Osk => bob@dest.example …`.
    case exim
    /// `EnvelopeParser`: input one whole log line.
    case envelope
    /// `LogSource` + `GzipInflater` + `LineReader`: input a whole file, plain or gzip, read in uneven chunks.
    case gzip
    /// Envelope, both parsers and both correlators over a whole file, flushing every few lines (as an ingest).
    case correlate

    func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .postfix: Self.postfix(ByteSlice(bytes))
        case .exim: _ = EximLineParser.parse(ByteSlice(bytes))
        case .envelope: Self.envelope(ByteSlice(bytes))
        case .gzip: Self.gzip(bytes)
        case .correlate: Self.correlate(bytes)
        }
    }

    private static func postfix(_ input: ByteSlice) {
        let space = input.firstIndex(of: 0x20, from: 0) ?? input.count
        let daemon = input.slice(0, space)
        let message = space < input.count ? input.slice(space + 1, input.count) : input.slice(input.count, input.count)
        _ = PostfixLineParser.parse(daemon: daemon, message: message)
    }

    private static func envelope(_ line: ByteSlice) {
        // A zone with summer time, so the local-time conversions run on both sides of a change.
        var parser = EnvelopeParser(timeZone: berlin, pinnedYear: nil, reference: 1_794_000_000)
        if case .success(let e) = parser.parse(line) {
            _ = e.host?.string
            _ = e.program?.string
            _ = e.message.string
        }
    }

    private static func gzip(_ bytes: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        var chunk = 1
        guard
            let source = try? LogSource(
                displayPath: "fuzz",
                reader: { buffer in
                    // Uneven reads: 1, 2, 3, … bytes, so refills land everywhere in headers and blocks.
                    let n = min(buffer.count, bytes.count - offset, chunk)
                    chunk = chunk % 97 + 1
                    if n > 0 {
                        buffer.copyMemory(
                            from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[offset..<offset + n])))
                    }
                    offset += n
                    return n
                })
        else { return }
        _ = try? source.peekContent(upTo: 1024)
        var reader = LineReader(source: source, maxLineLength: 200, bufferSize: 256)
        _ = try? reader.forEachLine(deliverUnterminatedTail: true) { line, _, _ in _ = line.trimmed }
    }

    private static func correlate(_ bytes: UnsafeBufferPointer<UInt8>) {
        let rowIDs = RowIDAllocator(next: 1)
        let postfix = PostfixCorrelator(rowIDs: rowIDs)
        let exim = EximCorrelator(rowIDs: rowIDs)
        var envelopes = EnvelopeParser(timeZone: berlin, pinnedYear: 2026, reference: 0)
        let all = ByteSlice(bytes)
        var start = 0
        var number = 1
        while start < all.count {
            let end = all.firstIndex(of: 0x0A, from: start) ?? all.count
            let position = SourcePosition(file: "fuzz", line: number)
            if case .success(let e) = envelopes.parse(all.slice(start, end)) {
                if let p = e.program, p.hasPrefix("postfix") {
                    _ = postfix.consume(e, host: e.host?.string ?? "-", position: position)
                } else {
                    _ = exim.consume(e, host: e.host?.string ?? "-", position: position)
                }
            }
            if number % 3 == 0 {
                // A commit point: snapshots are encoded, and read back as the next run would.
                for c in [postfix, exim] as [Correlator] {
                    let out = c.flush()
                    let fresh: Correlator =
                        c.mta == .postfix ? PostfixCorrelator(rowIDs: rowIDs) : EximCorrelator(rowIDs: rowIDs)
                    try? fresh.restore(out.openStates)
                }
            }
            start = end + 1
            number += 1
        }
        _ = postfix.expire(lastSeenBefore: .max)
        _ = exim.expire(lastSeenBefore: .max)
        _ = postfix.flush()
        _ = exim.flush()
    }

    private static let berlin = TimeZone(identifier: "Europe/Berlin")!
}
