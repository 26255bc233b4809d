#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a `LineReader.forEachLine` call stopped.
package struct LineReaderEnd: Equatable, Sendable {
    /// Lines handed to `body` by this call.
    package var lines: Int
    /// Over-long lines skipped (and reported) by this call.
    package var overlongLines: Int
    /// The content offset just after the last delivered or skipped line: the checkpoint to resume from.
    package var endOffset: Int64
    /// Bytes after `endOffset` of an unterminated last line that was held back; 0 if none.
    package var heldBackBytes: Int
    /// The number of the last delivered or skipped line; `firstLineNumber - 1` if there was none yet.
    package var lastLineNumber: Int
}

/// Frames the content of a `LogSource` into lines, in constant memory whatever the file size.
///
/// Reads into one buffer (1 MiB by default) and finds line ends with `memchr`, handing each line to the caller as
/// a `ByteSlice` into that buffer: no allocation and no `String` per line. A line longer than `maxLineLength` bytes
/// (counting a trailing "\r", not the "\n") is never buffered whole: its bytes are discarded as they arrive and it
/// is reported through `onOverlong`; it still counts toward offsets and line numbers (NIO's `LineBasedFrameDecoder`).
///
/// The reader is a handle on shared state, like the `LogSource` it reads: copies read the same stream.
package struct LineReader {
    private let state: LineFramingState

    /// - Parameters:
    ///   - startOffset: the content offset to start at, such as a checkpoint's `endOffset`. The reader moves the
    ///     source there itself (`source.skip(toContentOffset:)`) on the first `forEachLine`, unless the source is
    ///     already there; callers need not skip first.
    ///   - firstLineNumber: the number of the line at `startOffset`.
    ///   - maxLineLength: longer lines are skipped and reported.
    ///   - bufferSize: raised to `maxLineLength + 1` if smaller, so a line of the maximum length always fits.
    package init(
        source: LogSource, startOffset: Int64 = 0, firstLineNumber: Int = 1, maxLineLength: Int = 65536,
        bufferSize: Int = 1 << 20
    ) {
        precondition(maxLineLength > 0 && startOffset >= 0)
        state = LineFramingState(
            source: source, startOffset: startOffset, firstLineNumber: firstLineNumber, maxLineLength: maxLineLength,
            capacity: max(bufferSize, maxLineLength + 1))
    }

    package var source: LogSource { state.source }

    /// Calls `body` for each complete line, without its "\n" and without a trailing "\r", until the content ends.
    ///
    /// `endOffset` is the content offset just after the line's "\n": the checkpoint after this line. The slice is
    /// valid only during the call. A last line with no "\n" is delivered only when `deliverUnterminatedTail` is true
    /// (gzip, stdin: streams that are finished); otherwise it is held back and counted in `heldBackBytes`, so a live
    /// file's half-written line is read whole on the next run, or by calling `forEachLine` again once more is written.
    ///
    /// A line whose `body` throws is not consumed. Errors from the source (a truncated gzip member) are thrown after
    /// every complete line decoded before them has been delivered.
    package mutating func forEachLine(
        deliverUnterminatedTail: Bool,
        onOverlong: (_ lineNumber: Int, _ endOffset: Int64) -> Void = { _, _ in },
        _ body: (_ line: ByteSlice, _ lineNumber: Int, _ endOffset: Int64) throws -> Void
    ) throws -> LineReaderEnd {
        try forEachLineMarkingNUL(deliverUnterminatedTail: deliverUnterminatedTail, onOverlong: onOverlong) {
            line, lineNumber, endOffset, _ in try body(line, lineNumber, endOffset)
        }
    }

    /// `forEachLine`, telling `body` also whether the line holds a NUL byte: the buffer is searched for NUL once as
    /// it is filled, which costs less than a search of each line.
    package mutating func forEachLineMarkingNUL(
        deliverUnterminatedTail: Bool,
        onOverlong: (_ lineNumber: Int, _ endOffset: Int64) -> Void = { _, _ in },
        _ body: (_ line: ByteSlice, _ lineNumber: Int, _ endOffset: Int64, _ hasNUL: Bool) throws -> Void
    ) throws -> LineReaderEnd {
        let state = self.state
        if let offset = state.pendingStartOffset {
            if state.source.contentOffset != offset {
                try state.source.skip(toContentOffset: offset)
            }
            state.pendingStartOffset = nil
        }
        let source = state.source
        let buffer = state.buffer
        let capacity = state.capacity
        let maxLineLength = state.maxLineLength
        // The hot loop works on locals; the shared state is written back however the call ends.
        var start = state.start
        var end = state.end
        var scanFrom = state.scanFrom
        var offset = state.offset
        var skipping = state.skipping
        var skipped = state.skipped
        var lineNumber = state.lineNumber
        var lines = 0
        var overlongLines = 0
        defer {
            state.start = start
            state.end = end
            state.scanFrom = scanFrom
            state.offset = offset
            state.skipping = skipping
            state.skipped = skipped
            state.lineNumber = lineNumber
        }
        // The first NUL byte in `start..<end`, or `Int.max`.
        func firstNUL(_ from: Int, _ to: Int) -> Int {
            guard from < to, let p = memchr(buffer + from, 0, to - from) else { return Int.max }
            return p.assumingMemoryBound(to: UInt8.self) - buffer
        }
        var nulAt = firstNUL(start, end)
        func finish(heldBack: Int) -> LineReaderEnd {
            LineReaderEnd(
                lines: lines, overlongLines: overlongLines, endOffset: offset - Int64(skipped),
                heldBackBytes: heldBack, lastLineNumber: lineNumber - 1)
        }

        while true {
            while scanFrom < end, let found = memchr(buffer + scanFrom, 0x0A, end - scanFrom) {
                let newline = found.assumingMemoryBound(to: UInt8.self) - buffer
                let lineEnd = offset + Int64(newline + 1 - start)
                if skipping || newline - start > maxLineLength {
                    onOverlong(lineNumber, lineEnd)
                    overlongLines += 1
                    skipping = false
                    skipped = 0
                } else {
                    var count = newline - start
                    if count > 0 && buffer[newline - 1] == 0x0D { count -= 1 }
                    try body(ByteSlice(base: buffer + start, count: count), lineNumber, lineEnd, nulAt < start + count)
                    lines += 1
                }
                lineNumber += 1
                offset = lineEnd
                start = newline + 1
                scanFrom = start
                if nulAt < start { nulAt = firstNUL(start, end) }
            }
            scanFrom = end
            // No "\n" in start..<end: drop the bytes of an over-long line, keep a short partial one.
            if skipping || end - start > maxLineLength {
                skipping = true
                skipped += end - start
                offset += Int64(end - start)
                start = end
            }
            if start == end {
                start = 0
                end = 0
                scanFrom = 0
                nulAt = Int.max
            } else if start > 0 {
                memmove(buffer, buffer + start, end - start)
                if nulAt != Int.max { nulAt -= start }
                end -= start
                scanFrom = end
                start = 0
            }
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: capacity - end))
            if n > 0 {
                if nulAt == Int.max { nulAt = firstNUL(end, end + n) }
                end += n
                continue
            }
            let tail = skipped + (end - start)
            if tail == 0 { return finish(heldBack: 0) }
            guard deliverUnterminatedTail else { return finish(heldBack: tail) }
            let lineEnd = offset + Int64(end - start)
            if skipping {
                onOverlong(lineNumber, lineEnd)
                overlongLines += 1
            } else {
                var count = end - start
                if buffer[end - 1] == 0x0D { count -= 1 }
                try body(ByteSlice(base: buffer + start, count: count), lineNumber, lineEnd, nulAt < start + count)
                lines += 1
            }
            lineNumber += 1
            offset = lineEnd
            skipping = false
            skipped = 0
            start = 0
            end = 0
            scanFrom = 0
            return finish(heldBack: 0)
        }
    }
}

/// The buffer and position of a `LineReader`, shared by its copies.
private final class LineFramingState {
    let source: LogSource
    let buffer: UnsafeMutablePointer<UInt8>
    let capacity: Int
    let maxLineLength: Int
    /// Set until the first `forEachLine` has moved the source there.
    var pendingStartOffset: Int64?
    /// Buffered bytes of the current line are `start..<end`; `scanFrom` is where the search for "\n" resumes.
    var start = 0
    var end = 0
    var scanFrom = 0
    /// The content offset of `buffer[start]`.
    var offset: Int64
    /// Whether the current line is over-long and its bytes are being discarded; `skipped` of them so far.
    var skipping = false
    var skipped = 0
    /// The number of the current, not yet complete, line.
    var lineNumber: Int

    init(source: LogSource, startOffset: Int64, firstLineNumber: Int, maxLineLength: Int, capacity: Int) {
        self.source = source
        self.buffer = .allocate(capacity: capacity)
        self.capacity = capacity
        self.maxLineLength = maxLineLength
        self.pendingStartOffset = startOffset
        self.offset = startOffset
        self.lineNumber = firstLineNumber
    }

    deinit {
        buffer.deallocate()
    }
}
