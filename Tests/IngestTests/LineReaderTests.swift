import Foundation
import TestSupport
import Testing

@testable import Ingest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The line reader and the log source under it: framing over any chunking, over-long lines, gzip members,
/// truncation and corruption, streams, skipping and peeking.
struct LineReaderTests {
    // MARK: Framing whatever the chunking

    static let chunkings: [[Int]] = [[1], [2], [5], [4096], [1, 2, 5, 3, 4096, 7]]

    @Test(arguments: chunkings, [64, 1 << 20])
    func framesLinesWhateverTheChunking(chunks: [Int], bufferSize: Int) throws {
        var text = "first\n\nthird line\r\n"
        for i in 1...300 {
            text += "Nov  9 00:02:48 mx postfix/smtpd[\(i)]: \(String(repeating: "x", count: i % 23))\n"
        }
        text += "last\n"
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(text, chunks: chunks).read)
        let framed = frame(source, maxLineLength: 63, bufferSize: bufferSize)

        let expected = referenceLines(text)
        #expect(framed.error == nil)
        #expect(framed.lines == expected.map(\.text))
        #expect(framed.numbers == Array(1...304))
        #expect(framed.offsets == expected.map(\.endOffset))
        #expect(framed.lines[0] == "first" && framed.lines[1] == "" && framed.lines[2] == "third line")
        #expect(
            framed.end
                == LineReaderEnd(
                    lines: 304, overlongLines: 0, endOffset: Int64(text.utf8.count), heldBackBytes: 0,
                    lastLineNumber: 304))
    }

    struct EndingCase: CustomTestStringConvertible, Sendable {
        var input: String
        var deliverTail: Bool
        var lines: [String]
        var offsets: [Int64]
        var endOffset: Int64
        var heldBack: Int
        var testDescription: String { "\(input.debugDescription) deliverTail=\(deliverTail)" }
    }

    static let endings: [EndingCase] = [
        EndingCase(
            input: "a\r\nb\r\n", deliverTail: false, lines: ["a", "b"], offsets: [3, 6], endOffset: 6, heldBack: 0),
        EndingCase(input: "a\rb\n", deliverTail: false, lines: ["a\rb"], offsets: [4], endOffset: 4, heldBack: 0),
        EndingCase(input: "\r\n\n", deliverTail: false, lines: ["", ""], offsets: [2, 3], endOffset: 3, heldBack: 0),
        EndingCase(input: "\n", deliverTail: false, lines: [""], offsets: [1], endOffset: 1, heldBack: 0),
        EndingCase(input: "", deliverTail: true, lines: [], offsets: [], endOffset: 0, heldBack: 0),
        EndingCase(input: "a\nbcd", deliverTail: false, lines: ["a"], offsets: [2], endOffset: 2, heldBack: 3),
        EndingCase(
            input: "a\nbcd", deliverTail: true, lines: ["a", "bcd"], offsets: [2, 5], endOffset: 5, heldBack: 0),
        EndingCase(
            input: "a\nbc\r", deliverTail: true, lines: ["a", "bc"], offsets: [2, 5], endOffset: 5, heldBack: 0),
        EndingCase(input: "a\nbc\r", deliverTail: false, lines: ["a"], offsets: [2], endOffset: 2, heldBack: 3),
        EndingCase(input: "only", deliverTail: false, lines: [], offsets: [], endOffset: 0, heldBack: 4),
    ]

    @Test(arguments: endings, [[1], [2], [4096]])
    func lineEndings(_ c: EndingCase, chunks: [Int]) throws {
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(c.input, chunks: chunks).read)
        let framed = frame(source, deliverTail: c.deliverTail)
        #expect(framed.error == nil)
        #expect(framed.lines == c.lines)
        #expect(framed.offsets == c.offsets)
        #expect(framed.end?.endOffset == c.endOffset)
        #expect(framed.end?.heldBackBytes == c.heldBack)
        #expect(framed.end?.lines == c.lines.count)
        #expect(framed.end?.lastLineNumber == c.lines.count)
    }

    // MARK: Over-long lines

    @Test(arguments: [[1], [5], [4096]], [9, 16, 4096])
    func overlongLinesAreSkippedAndReported(chunks: [Int], bufferSize: Int) throws {
        let text =
            "short\n" + String(repeating: "x", count: 20) + "\n" + "ok\n" + "12345678\n" + "123456789\n"
            + "123456\r\n" + "1234567\r\n" + "12345678\r\n" + "end\n"
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(text, chunks: chunks).read)
        let framed = frame(source, maxLineLength: 8, bufferSize: bufferSize)

        #expect(framed.error == nil)
        #expect(framed.lines == ["short", "ok", "12345678", "123456", "1234567", "end"])
        #expect(framed.numbers == [1, 3, 4, 6, 7, 9])
        #expect(framed.offsets == [6, 30, 39, 57, 66, 80])
        #expect(framed.overlong == [Overlong(2, 27), Overlong(5, 49), Overlong(8, 76)])
        #expect(
            framed.end
                == LineReaderEnd(lines: 6, overlongLines: 3, endOffset: 80, heldBackBytes: 0, lastLineNumber: 9))
    }

    @Test(arguments: [false, true])
    func overlongUnterminatedTail(deliverTail: Bool) throws {
        let text = "ok\n" + String(repeating: "y", count: 30)
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(text, chunks: [4]).read)
        let framed = frame(source, deliverTail: deliverTail, maxLineLength: 8, bufferSize: 9)
        #expect(framed.lines == ["ok"])
        if deliverTail {
            #expect(framed.overlong == [Overlong(2, 33)])
            #expect(
                framed.end
                    == LineReaderEnd(lines: 1, overlongLines: 1, endOffset: 33, heldBackBytes: 0, lastLineNumber: 2))
        } else {
            #expect(framed.overlong == [])
            #expect(
                framed.end
                    == LineReaderEnd(lines: 1, overlongLines: 0, endOffset: 3, heldBackBytes: 30, lastLineNumber: 1))
        }
    }

    @Test(arguments: chunkings, [64, 1 << 20])
    func marksTheLinesThatHoldNUL(chunks: [Int], bufferSize: Int) throws {
        // NUL at a line's start, middle and end, before a "\r", in an over-long line and in the unterminated tail.
        var bytes: [UInt8] = []
        var expected: [(String, Bool)] = []
        for i in 0..<120 {
            var line = Array("line \(i) \(String(repeating: "y", count: i % 17))".utf8)
            let nul = i % 5 == 0 || i % 7 == 3
            if nul { line.insert(0, at: [0, line.count / 2, line.count][i % 3]) }
            bytes += line + (i % 4 == 0 ? [0x0D, 0x0A] : [0x0A])
            expected.append((String(decoding: line, as: UTF8.self), nul))
            if i % 40 == 20 { bytes += [UInt8](repeating: 0, count: 70) + [0x0A] }
        }
        bytes += [0x74, 0x00, 0x6C]
        expected.append(("t\u{0}l", true))
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(bytes, chunks: chunks).read)
        var reader = LineReader(source: source, maxLineLength: 63, bufferSize: bufferSize)
        var seen: [(String, Bool)] = []
        var overlong = 0
        _ = try reader.forEachLineMarkingNUL(deliverUnterminatedTail: true, onOverlong: { _, _ in overlong += 1 }) {
            line, _, _, hasNUL in
            seen.append((line.string, hasNUL))
            #expect(hasNUL == (memchr(line.base, 0, line.count) != nil))
        }
        #expect(overlong == 3)
        #expect(seen.map(\.0) == expected.map(\.0))
        #expect(seen.map(\.1) == expected.map(\.1))
    }

    @Test func overlongLineInAHugeFileUsesBoundedMemory() throws {
        // 3 MiB without a newline through a 64 KiB buffer: skipped, then the next line is intact.
        let big = 3 << 20
        var bytes = [UInt8](repeating: 0x41, count: big)
        bytes += Array("\nafter\n".utf8)
        let source = try LogSource(displayPath: "mem", reader: ChunkedBytes(bytes, chunks: [100_000]).read)
        let framed = frame(source, maxLineLength: 1000, bufferSize: 64 << 10)
        #expect(framed.overlong == [Overlong(1, Int64(big + 1))])
        #expect(framed.lines == ["after"])
        #expect(framed.offsets == [Int64(big + 7)])
    }

    // MARK: Live files: held-back tails and empty reads

    @Test func emptyReadMidLineHoldsTheTailUntilMoreArrives() throws {
        let feed = GrowingBytes()
        feed.append("one\ntw")
        let source = try LogSource(displayPath: "mem", reader: feed.read)
        var reader = LineReader(source: source)
        var seen: [String] = []
        let first = try reader.forEachLine(deliverUnterminatedTail: false) { line, _, _ in seen.append(line.string) }
        #expect(seen == ["one"])
        #expect(first == LineReaderEnd(lines: 1, overlongLines: 0, endOffset: 4, heldBackBytes: 2, lastLineNumber: 1))

        let second = try reader.forEachLine(deliverUnterminatedTail: false) { line, _, _ in seen.append(line.string) }
        #expect(second == LineReaderEnd(lines: 0, overlongLines: 0, endOffset: 4, heldBackBytes: 2, lastLineNumber: 1))

        feed.append("o\nthree\n")
        var numbers: [Int] = []
        var offsets: [Int64] = []
        let third = try reader.forEachLine(deliverUnterminatedTail: false) { line, number, offset in
            seen.append(line.string)
            numbers.append(number)
            offsets.append(offset)
        }
        #expect(seen == ["one", "two", "three"])
        #expect(numbers == [2, 3])
        #expect(offsets == [8, 14])
        #expect(third == LineReaderEnd(lines: 2, overlongLines: 0, endOffset: 14, heldBackBytes: 0, lastLineNumber: 3))
    }

    @Test func halfWrittenLineOfALiveFileIsReadWholeOnTheNextRun() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("mail.log")
        try writeFile("one\ntwo\nthr", to: path)
        let firstRun = frame(try LogSource(path: path), deliverTail: false)
        #expect(firstRun.lines == ["one", "two"])
        #expect(
            firstRun.end
                == LineReaderEnd(lines: 2, overlongLines: 0, endOffset: 8, heldBackBytes: 3, lastLineNumber: 2))

        try appendFile("ee\nfour\n", to: path)
        let secondRun = frame(try LogSource(path: path), deliverTail: false, startOffset: 8, firstLineNumber: 3)
        #expect(secondRun.lines == ["three", "four"])
        #expect(secondRun.numbers == [3, 4])
        #expect(secondRun.offsets == [14, 19])
    }

    // MARK: Plain files

    @Test func plainFileMetadataAndLines() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("mail.log.gz")  // the name does not make it gzip
        let text = numberedLines(1...1000)
        try writeFile(text, to: path)
        var status = stat()
        #expect(stat(path, &status) == 0)

        let source = try LogSource(path: path)
        #expect(!source.isGzip && !source.isStream && !source.isStdin)
        #expect(source.displayPath == path)
        #expect(source.fileSize == Int64(text.utf8.count))
        #expect(source.device == UInt64(status.st_dev))
        #expect(source.inode == UInt64(status.st_ino))
        #if canImport(Darwin)
        #expect(source.modificationTime == Int64(status.st_mtimespec.tv_sec))
        #else
        #expect(source.modificationTime == Int64(status.st_mtim.tv_sec))
        #endif
        #expect(source.modificationTime > 1_600_000_000)

        let framed = frame(source, deliverTail: false)
        #expect(framed.lines.count == 1000)
        #expect(framed.lines.last == "line 1000 of the log")
        #expect(framed.end?.endOffset == Int64(text.utf8.count))
    }

    @Test(arguments: [false, true])
    func startOffsetResumesAtACheckpoint(gzip: Bool) throws {
        let dir = try TemporaryDirectory()
        let text = numberedLines(1...1000)
        let path = gzip ? try dir.gzip(text, name: "mail.log.1") : dir.file("mail.log")
        if !gzip { try writeFile(text, to: path) }
        let checkpoint = Int64(numberedLines(1...500).utf8.count)

        let framed = frame(try LogSource(path: path), startOffset: checkpoint, firstLineNumber: 501)
        #expect(framed.error == nil)
        #expect(framed.lines.first == "line 501 of the log")
        #expect(framed.numbers.first == 501)
        #expect(framed.lines.count == 500)
        #expect(framed.end?.lastLineNumber == 1000)
        #expect(framed.end?.endOffset == Int64(text.utf8.count))
    }

    @Test(arguments: [false, true])
    func skipToContentOffset(gzip: Bool) throws {
        let dir = try TemporaryDirectory()
        let text = numberedLines(1...5000)
        let bytes = Array(text.utf8)
        let path = gzip ? try dir.gzip(text, name: "log") : dir.file("log")
        if !gzip { try writeFile(text, to: path) }

        let source = try LogSource(path: path)
        #expect(source.isGzip == gzip)
        try source.skip(toContentOffset: 100_003)
        #expect(source.contentOffset == 100_003)
        #expect(try readAll(source) == Array(bytes[100_003...]))

        let again = try LogSource(path: path)
        try again.skip(toContentOffset: 10)
        if gzip {
            #expect(throws: LogSourceError(path: path, reason: .cannotSkipBackward(from: 10, to: 5))) {
                try again.skip(toContentOffset: 5)
            }
        } else {
            try again.skip(toContentOffset: 5)
            #expect(try readAll(again) == Array(bytes[5...]))
        }

        let past = Int64(bytes.count + 1)
        let short = try LogSource(path: path)
        #expect(
            throws: LogSourceError(
                path: path, reason: .endsBeforeOffset(contentLength: Int64(bytes.count), offset: past))
        ) {
            try short.skip(toContentOffset: past)
        }
    }

    @Test(arguments: ["plain", "gzip", "stream"])
    func peekThenReadYieldsTheWholeContent(kind: String) throws {
        let dir = try TemporaryDirectory()
        let text = numberedLines(1...200)
        let bytes = Array(text.utf8)
        let source: LogSource
        switch kind {
        case "plain":
            try writeFile(text, to: dir.file("log"))
            source = try LogSource(path: dir.file("log"))
        case "gzip":
            source = try LogSource(path: try dir.gzip(text, name: "log.gz"))
        default:
            source = try LogSource(displayPath: "mem", reader: ChunkedBytes(bytes, chunks: [1, 7]).read)
        }
        #expect(try source.peekContent(upTo: 10) == Array(bytes[0..<10]))
        #expect(try source.peekContent(upTo: 1024) == Array(bytes[0..<1024]))
        #expect(try source.peekContent(upTo: 5) == Array(bytes[0..<5]))
        #expect(source.contentOffset == 0)
        #expect(try readAll(source, chunk: 100) == bytes)

        let tiny = try LogSource(displayPath: "mem", reader: ChunkedBytes("ab\n", chunks: [1]).read)
        #expect(try tiny.peekContent(upTo: 1024) == Array("ab\n".utf8))
        #expect(try readAll(tiny) == Array("ab\n".utf8))
    }

    @Test func peekThenSkipOnAPlainFile() throws {
        let dir = try TemporaryDirectory()
        let text = numberedLines(1...100)
        try writeFile(text, to: dir.file("log"))
        let source = try LogSource(path: dir.file("log"))
        _ = try source.peekContent(upTo: 1024)
        try source.skip(toContentOffset: 1000)
        #expect(try readAll(source) == Array(Array(text.utf8)[1000...]))
    }

    // MARK: Gzip

    @Test func singleGzipMemberRecognisedByMagicNotName() throws {
        let dir = try TemporaryDirectory()
        let text = numberedLines(1...60_000)  // several MiB: many inflate and read rounds
        let path = try dir.gzip(text, name: "mainlog.1")
        let source = try LogSource(path: path)
        #expect(source.isGzip)
        let framed = frame(source, bufferSize: 64 << 10)
        #expect(framed.error == nil)
        #expect(framed.lines.count == 60_000)
        #expect(framed.lines[0] == "line 1 of the log")
        #expect(framed.lines[59_999] == "line 60000 of the log")
        #expect(framed.end?.endOffset == Int64(text.utf8.count))
    }

    @Test func concatenatedGzipMembersYieldBothContents() throws {
        let dir = try TemporaryDirectory()
        let (path, a, b) = try dir.twoMembers()
        let framed = frame(try LogSource(path: path))
        #expect(framed.error == nil)
        #expect(framed.lines == referenceLines(a + b).map(\.text))
        #expect(framed.end?.endOffset == Int64((a + b).utf8.count))

        // Through a reader closure a byte at a time, so every member boundary falls between reads.
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let chunked = try LogSource(displayPath: "mem", reader: ChunkedBytes(bytes, chunks: [1]).read)
        #expect(try readAll(chunked) == Array((a + b).utf8))
    }

    @Test func trailingZeroPaddingIsTolerated() throws {
        let dir = try TemporaryDirectory()
        let (path, a, b) = try dir.twoMembers()
        try appendBytes([UInt8](repeating: 0, count: 512), to: path)
        let framed = frame(try LogSource(path: path))
        #expect(framed.error == nil)
        #expect(framed.lines.count == referenceLines(a + b).count)
    }

    @Test(arguments: [Array("junk\n".utf8), [0, 0, 0, 1], [0x1f]])
    func garbageAfterTheLastMemberIsAnError(garbage: [UInt8]) throws {
        let dir = try TemporaryDirectory()
        let (path, a, b) = try dir.twoMembers()
        let size = fileSize(path)
        try appendBytes(garbage, to: path)
        let framed = frame(try LogSource(path: path))
        // Every line is delivered before the error.
        #expect(framed.lines == referenceLines(a + b).map(\.text))
        let error = try #require(framed.error as? LogSourceError)
        switch garbage.first {
        case 0x1f:
            #expect(error.reason == .truncatedGzip(compressedOffset: size + 1))
        case 0:
            #expect(
                error.reason
                    == .corruptGzip(compressedOffset: size + 3, message: "data after the trailing zero padding"))
        default:
            #expect(
                error.reason == .corruptGzip(compressedOffset: size, message: "not a gzip member after the last one"))
            #expect(
                error.description
                    == "\(path): corrupt gzip data at compressed byte \(size) (not a gzip member after the last one)")
        }
    }

    @Test func truncatedGzipDeliversTheLinesBeforeTheCut() throws {
        let dir = try TemporaryDirectory()
        let (whole, a, b) = try dir.twoMembers()
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: whole)))
        let aSize = Int(try dir.gzipSize(a))
        let aLines = referenceLines(a).map(\.text)
        let allLines = referenceLines(a + b).map(\.text)

        // Header only, inside member a's data, inside its trailer, inside b's header, one byte short of the end.
        for cut in [2, 10, aSize / 2, aSize - 4, aSize + 5, bytes.count - 1] {
            let path = dir.file("cut-\(cut).gz")
            try Data(bytes[0..<cut]).write(to: URL(fileURLWithPath: path))
            let framed = frame(try LogSource(path: path))
            let error = try #require(framed.error as? LogSourceError, "cut at \(cut)")
            #expect(error == LogSourceError(path: path, reason: .truncatedGzip(compressedOffset: Int64(cut))))
            #expect(error.description == "\(path): truncated gzip member at compressed byte \(cut)")
            #expect(Array(allLines.prefix(framed.lines.count)) == framed.lines, "cut at \(cut)")
            if cut >= aSize - 4 { #expect(framed.lines.count >= aLines.count, "cut at \(cut)") }
            if cut == aSize / 2 { #expect(framed.lines.count > 100, "cut at \(cut)") }
            if cut == bytes.count - 1 { #expect(framed.lines.count > aLines.count, "cut at \(cut)") }
        }
    }

    @Test func corruptGzipNamesTheFileAndOffset() throws {
        let dir = try TemporaryDirectory()
        let (whole, a, _) = try dir.twoMembers()
        let aSize = Int(try dir.gzipSize(a))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: whole)))

        // Member b's compression method byte (RFC 1952 §2.3.1: CM = 8 is deflate).
        var badMethod = bytes
        badMethod[aSize + 2] = 7
        let methodPath = dir.file("method.gz")
        try Data(badMethod).write(to: URL(fileURLWithPath: methodPath))
        let framed = frame(try LogSource(path: methodPath))
        #expect(framed.lines == referenceLines(a).map(\.text))
        let error = try #require(framed.error as? LogSourceError)
        guard case .corruptGzip(let offset, let message) = error.reason else {
            Issue.record("expected corrupt gzip, got \(error)")
            return
        }
        #expect(message == "unknown compression method")
        #expect(offset > Int64(aSize) && offset <= Int64(aSize) + 10)
        #expect(error.description == "\(methodPath): corrupt gzip data at compressed byte \(offset) (\(message))")

        // A flipped byte in the middle of member a's deflate data.
        var flipped = bytes
        flipped[aSize / 2] ^= 0xff
        let flippedPath = dir.file("flipped.gz")
        try Data(flipped).write(to: URL(fileURLWithPath: flippedPath))
        let broken = frame(try LogSource(path: flippedPath))
        let flipError = try #require(broken.error as? LogSourceError)
        guard case .corruptGzip(let flipOffset, _) = flipError.reason else {
            Issue.record("expected corrupt gzip, got \(flipError)")
            return
        }
        #expect(flipOffset > Int64(aSize / 2) && flipOffset <= Int64(aSize))
        #expect(flipError.description.hasPrefix("\(flippedPath): corrupt gzip data at compressed byte \(flipOffset) ("))
    }

    // MARK: What cannot be read, and streams

    @Test func directoryAndMissingFileAreClearErrors() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: LogSourceError(path: dir.path, reason: .isDirectory)) { try LogSource(path: dir.path) }
        #expect(LogSourceError(path: dir.path, reason: .isDirectory).description == "\(dir.path): is a directory")
        let missing = dir.file("nope.log")
        #expect(throws: LogSourceError(path: missing, reason: .notFound)) { try LogSource(path: missing) }
        #expect(LogSourceError(path: missing, reason: .notFound).description == "\(missing): no such file")
        #expect(
            LogSourceError(path: "x", reason: .readFailed(errno: EIO)).description
                == "x: read error: Input/output error")
    }

    @Test(.enabled(if: geteuid() != 0, "root reads any file"))
    func unreadableFileIsPermissionDenied() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("secret.log")
        try writeFile("x\n", to: path)
        chmod(path, 0)
        #expect(throws: LogSourceError(path: path, reason: .permissionDenied)) { try LogSource(path: path) }
    }

    @Test(arguments: [false, true])
    func fifoIsReadAsAStream(gzip: Bool) throws {
        let dir = try TemporaryDirectory()
        let text = "a\nb\nlast without newline"
        let bytes =
            gzip ? try Array(Data(contentsOf: URL(fileURLWithPath: dir.gzip(text, name: "x")))) : Array(text.utf8)
        let fifo = dir.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opened read-write first so neither open blocks; the data waits in the pipe.
        let writer = open(fifo, O_RDWR)
        #expect(writer >= 0)
        #expect(bytes.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } == bytes.count)
        let source = try LogSource(path: fifo)
        close(writer)

        #expect(source.isStream && !source.isStdin)
        #expect(source.isGzip == gzip)
        #expect(source.fileSize == 0)
        let framed = frame(source, deliverTail: true)
        #expect(framed.error == nil)
        #expect(framed.lines == ["a", "b", "last without newline"])
        #expect(framed.offsets == [2, 4, 24])
    }

    @Test func standardInputIsAStream() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let bytes = Array("x\r\ny\n".utf8)
        #expect(bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == bytes.count)
        close(fds[1])
        defer { close(fds[0]) }
        let source = try LogSource(standardInput: fds[0])
        #expect(source.isStdin && source.isStream && !source.isGzip)
        #expect(source.displayPath == "<stdin>")
        #expect(source.device == 0 && source.inode == 0 && source.modificationTime == 0)
        let framed = frame(source)
        #expect(framed.lines == ["x", "y"])
        #expect(framed.offsets == [3, 5])
    }

    @Test func readErrorsFromTheProviderPropagateAfterEarlierLines() throws {
        struct Boom: Error, Equatable {}
        var calls = 0
        let source = try LogSource(displayPath: "mem") { buffer in
            calls += 1
            guard calls <= 2 else { throw Boom() }
            let chunk = Array((calls == 1 ? "ab" : "\ncd\nef").utf8)
            chunk.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return chunk.count
        }
        let framed = frame(source)
        #expect(framed.lines == ["ab", "cd"])
        #expect(framed.error as? Boom == Boom())
    }
}

// MARK: - Helpers

private struct Overlong: Equatable, CustomStringConvertible {
    var lineNumber: Int
    var endOffset: Int64
    init(_ lineNumber: Int, _ endOffset: Int64) {
        self.lineNumber = lineNumber
        self.endOffset = endOffset
    }
    var description: String { "line \(lineNumber) ending at \(endOffset)" }
}

/// What one `forEachLine` call delivered, and how it ended.
private struct Framed {
    var lines: [String] = []
    var numbers: [Int] = []
    var offsets: [Int64] = []
    var overlong: [Overlong] = []
    var end: LineReaderEnd?
    var error: (any Error)?
}

private func frame(
    _ source: LogSource, deliverTail: Bool = true, startOffset: Int64 = 0, firstLineNumber: Int = 1,
    maxLineLength: Int = 65536, bufferSize: Int = 1 << 20
) -> Framed {
    var framed = Framed()
    var reader = LineReader(
        source: source, startOffset: startOffset, firstLineNumber: firstLineNumber, maxLineLength: maxLineLength,
        bufferSize: bufferSize)
    do {
        framed.end = try reader.forEachLine(
            deliverUnterminatedTail: deliverTail,
            onOverlong: { framed.overlong.append(Overlong($0, $1)) },
            { line, number, offset in
                framed.lines.append(line.string)
                framed.numbers.append(number)
                framed.offsets.append(offset)
            })
    } catch {
        framed.error = error
    }
    return framed
}

/// The lines of `text` as the reader should frame them: split at "\n", one trailing "\r" dropped.
private func referenceLines(_ text: String) -> [(text: String, endOffset: Int64)] {
    var result: [(String, Int64)] = []
    var offset: Int64 = 0
    var current: [UInt8] = []
    for byte in text.utf8 {
        offset += 1
        if byte == 0x0A {
            if current.last == 0x0D { current.removeLast() }
            result.append((String(decoding: current, as: UTF8.self), offset))
            current = []
        } else {
            current.append(byte)
        }
    }
    return result
}

private func numberedLines(_ range: ClosedRange<Int>) -> String {
    range.map { "line \($0) of the log\n" }.joined()
}

private func readAll(_ source: LogSource, chunk: Int = 4096) throws -> [UInt8] {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: chunk)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { return result }
        result += buffer[0..<n]
    }
}

/// An in-memory byte provider that hands out its bytes in the given chunk sizes, cycling through them.
private final class ChunkedBytes {
    private let bytes: [UInt8]
    private let chunks: [Int]
    private var position = 0
    private var call = 0

    init(_ bytes: [UInt8], chunks: [Int]) {
        self.bytes = bytes
        self.chunks = chunks
    }

    convenience init(_ text: String, chunks: [Int]) {
        self.init(Array(text.utf8), chunks: chunks)
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(chunks[call % chunks.count], buffer.count, bytes.count - position)
        call += 1
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + n])) }
        position += n
        return n
    }
}

/// A provider like a live file: reads return 0 once caught up, and more bytes may be appended later.
private final class GrowingBytes {
    private var bytes: [UInt8] = []
    private var position = 0

    func append(_ text: String) { bytes += Array(text.utf8) }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + n])) }
        position += n
        return n
    }
}

private final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "relaysum-reader-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` compressed by the system `gzip` (no name or time stamp, so the bytes are repeatable).
    func gzip(_ text: String, name: String) throws -> String {
        let plain = file(name + ".txt")
        try writeFile(text, to: plain)
        let gzip = try ChildProcess("/usr/bin/env", ["gzip", "-n", "-c", plain], stdout: .file(file(name)))
        guard try gzip.status() == 0 else { throw CocoaError(.fileWriteUnknown) }
        return file(name)
    }

    func gzipSize(_ text: String) throws -> Int64 {
        fileSize(try gzip(text, name: "size-\(text.utf8.count).gz"))
    }

    /// `cat a.gz b.gz > both.gz`, returning the path and the two contents.
    func twoMembers() throws -> (path: String, a: String, b: String) {
        let a = numberedLines(1...3000)
        let b = (1...2000).map { "second member line \($0)\r\n" }.joined()
        let both = file("both.gz")
        let contents = try [gzip(a, name: "a.gz"), gzip(b, name: "b.gz")].map {
            try Data(contentsOf: URL(fileURLWithPath: $0))
        }
        try (contents[0] + contents[1]).write(to: URL(fileURLWithPath: both))
        return (both, a, b)
    }
}

private func writeFile(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

private func appendFile(_ text: String, to path: String) throws {
    try appendBytes(Array(text.utf8), to: path)
}

private func appendBytes(_ bytes: [UInt8], to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
}

private func fileSize(_ path: String) -> Int64 {
    var status = stat()
    return stat(path, &status) == 0 ? Int64(status.st_size) : -1
}
