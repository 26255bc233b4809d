import Foundation
import Testing

@testable import Ingest

/// `InflateAhead` hands on what its thread's `fill` returns, in order, bytes before an error first; and stops its
/// thread when dropped, read to the end or not.
@Suite struct InflateAheadTests {
    private struct Boom: Error, Equatable {}

    /// A `fill` over `content`, at most `step` bytes a call, throwing `Boom` at `failAt` (after the bytes before it).
    private final class Source: @unchecked Sendable {
        let content: [UInt8]
        let step: Int
        let failAt: Int?
        var offset = 0
        var calls = 0

        init(_ content: [UInt8], step: Int, failAt: Int? = nil) {
            self.content = content
            self.step = step
            self.failAt = failAt
        }

        func fill(_ out: UnsafeMutableRawBufferPointer) throws -> (count: Int, storedBytes: Int64) {
            calls += 1
            if let failAt, offset == failAt { throw Boom() }
            let limit = min(content.count, failAt ?? content.count)
            let n = min(out.count, step, limit - offset)
            content.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
            offset += n
            return (n, Int64(offset) / 2)
        }
    }

    /// Reads everything in pieces of `piece` bytes: the bytes, and the error that ended them.
    private func drain(_ ahead: InflateAhead, piece: Int) -> ([UInt8], (any Error)?) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: piece)
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try ahead.read(into: $0) }
                if n == 0 { return (out, nil) }
                out += buffer[0..<n]
            }
        } catch {
            return (out, error)
        }
    }

    @Test(arguments: [0, 1, 63, 64, 65, 128, 1000])
    func everyByteInOrderWhateverTheBlockBoundaries(length: Int) throws {
        let content = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        for (step, piece) in [(1, 5), (7, 64), (64, 1), (1000, 1000)] {
            let source = Source(content, step: step)
            let ahead = InflateAhead(blockSize: 64, blocks: 2, storedBytesRead: 0, fill: source.fill)
            let (bytes, error) = drain(ahead, piece: piece)
            #expect(error == nil)
            #expect(bytes == content, "length \(length), step \(step), piece \(piece)")
            #expect(ahead.storedBytesRead == Int64(length) / 2)
            // The end is read again as the end.
            var one: UInt8 = 0
            #expect(try withUnsafeMutableBytes(of: &one) { try ahead.read(into: $0) } == 0)
        }
    }

    @Test(arguments: [0, 10, 64, 100])
    func theBytesBeforeAnErrorComeFirstThenTheErrorEveryTime(failAt: Int) throws {
        let content = [UInt8](repeating: 0x41, count: 300)
        let ahead = InflateAhead(
            blockSize: 64, blocks: 2, storedBytesRead: 0, fill: Source(content, step: 9, failAt: failAt).fill)
        let (bytes, error) = drain(ahead, piece: 13)
        #expect(bytes.count == failAt)
        #expect(error as? Boom == Boom())
        var one: UInt8 = 0
        #expect(throws: Boom.self) { try withUnsafeMutableBytes(of: &one) { try ahead.read(into: $0) } }
    }

    /// Read to its end, or to an error, it holds its blocks no longer: a run keeps every file's source until it ends,
    /// and each gzip file read would otherwise keep two blocks (2 MiB) until then.
    @Test(arguments: [nil, 100] as [Int?])
    func theBlocksAreFreedOnceTheLastIsRead(failAt: Int?) throws {
        let content = [UInt8](repeating: 0x41, count: 300)
        let ahead = InflateAhead(
            blockSize: 64, blocks: 2, storedBytesRead: 0, fill: Source(content, step: 9, failAt: failAt).fill)
        #expect(ahead.holdsBlocks)
        let (bytes, error) = drain(ahead, piece: 13)
        #expect(bytes.count == failAt ?? 300)
        #expect((error == nil) == (failAt == nil))
        #expect(!ahead.holdsBlocks)
        // The end, or the error, is read again all the same.
        var one: UInt8 = 0
        if failAt == nil {
            #expect(try withUnsafeMutableBytes(of: &one) { try ahead.read(into: $0) } == 0)
        } else {
            #expect(throws: Boom.self) { try withUnsafeMutableBytes(of: &one) { try ahead.read(into: $0) } }
        }
    }

    /// Dropped with blocks unread and its thread waiting for a free one: the drop returns (its thread, woken and
    /// stopped, is waited for without a deadlock), and `fill` is not called again.
    @Test func droppingItStopsTheThread() throws {
        let source = Source([UInt8](repeating: 1, count: 1 << 20), step: 64)
        var ahead: InflateAhead? = InflateAhead(blockSize: 64, blocks: 2, storedBytesRead: 5, fill: source.fill)
        var buffer = [UInt8](repeating: 0, count: 10)
        #expect(try buffer.withUnsafeMutableBytes { try ahead!.read(into: $0) } == 10)
        ahead = nil
        let calls = source.calls
        #expect(calls < 10)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(source.calls == calls)
    }

    /// Through `LogSource`: a gzip file read in part and dropped, then read whole by a second source.
    @Test func aGzipFileReadInPartThenWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-ahead-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = (1...200_000).map { "line \($0) of the log\n" }.joined()
        let plain = dir.appendingPathComponent("mail.log")
        try Data(text.utf8).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [plain.path]
        try gzip.run()
        gzip.waitUntilExit()
        let path = plain.path + ".gz"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)

        var buffer = [UInt8](repeating: 0, count: 4096)
        do {
            let partial = try LogSource(path: path)
            #expect(try buffer.withUnsafeMutableBytes { try partial.read(into: $0) } == 4096)
        }
        let source = try LogSource(path: path)
        #expect(source.isGzip)
        var read: [UInt8] = []
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            read += buffer[0..<n]
        }
        #expect(read == Array(text.utf8))
        #expect(source.contentOffset == Int64(text.utf8.count))
        #expect(source.storedBytesRead == Int64(size))
    }
}
