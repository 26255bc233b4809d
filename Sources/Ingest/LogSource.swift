#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a log could not be opened or read, naming the file.
///
/// Printed as `mainlog.2.gz: truncated gzip member at compressed byte 812`.
package struct LogSourceError: Error, CustomStringConvertible, Equatable, Sendable {
    package enum Reason: Equatable, Sendable {
        case notFound
        case permissionDenied
        case isDirectory
        /// A block device or another kind of file that is neither regular nor a stream.
        case notRegularFile
        case openFailed(errno: Int32)
        case readFailed(errno: Int32)
        case seekFailed(errno: Int32)
        /// The compressed input ended inside a gzip member, at this offset of the compressed file.
        case truncatedGzip(compressedOffset: Int64)
        /// zlib refused the data at about this offset of the compressed file.
        case corruptGzip(compressedOffset: Int64, message: String)
        /// `skip(toContentOffset:)` asked for an offset past the end of the content.
        case endsBeforeOffset(contentLength: Int64, offset: Int64)
        /// `skip(toContentOffset:)` asked to go back in a stream or a gzip file.
        case cannotSkipBackward(from: Int64, to: Int64)
    }

    package let path: String
    package let reason: Reason

    package init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    package var description: String {
        switch reason {
        case .notFound: "\(path): no such file"
        case .permissionDenied: "\(path): permission denied"
        case .isDirectory: "\(path): is a directory"
        case .notRegularFile: "\(path): not a regular file, FIFO or character device"
        case .openFailed(let code): "\(path): cannot open: \(errnoText(code))"
        case .readFailed(let code): "\(path): read error: \(errnoText(code))"
        case .seekFailed(let code): "\(path): seek error: \(errnoText(code))"
        case .truncatedGzip(let offset): "\(path): truncated gzip member at compressed byte \(offset)"
        case .corruptGzip(let offset, let message):
            "\(path): corrupt gzip data at compressed byte \(offset) (\(message))"
        case .endsBeforeOffset(let length, let offset):
            "\(path): content ends at byte \(length), before offset \(offset)"
        case .cannotSkipBackward(let from, let to):
            "\(path): cannot go back from content byte \(from) to \(to) in a stream or gzip file"
        }
    }
}

private func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// One log to read: a file, a FIFO, or standard input (`-`), plain or gzip, yielding its content bytes.
///
/// Gzip is recognised by its magic bytes (1f 8b, RFC 1952 §2.3.1), not by the name, so a rotated file renamed
/// without `.gz` still reads. "Content" means the decompressed bytes; offsets are content offsets.
/// Reads use POSIX `read(2)` on a descriptor the source owns and closes.
package final class LogSource {
    /// Fills its buffer like `read(2)` and returns how many bytes it wrote; 0 at the end.
    package typealias Reader = (UnsafeMutableRawBufferPointer) throws -> Int

    /// The path as given, or `<stdin>`.
    package let displayPath: String
    package let isStdin: Bool
    /// True for standard input, FIFOs, character devices and reader closures: read once, front to back.
    package let isStream: Bool
    package private(set) var isGzip = false
    /// `st_dev` of the file; 0 for standard input and reader closures.
    package let device: UInt64
    /// `st_ino` of the file; 0 for standard input and reader closures.
    package let inode: UInt64
    /// Size on disk when opened (compressed size for gzip); 0 for streams.
    package let fileSize: Int64
    /// Modification time in seconds since the epoch; 0 for standard input and reader closures.
    package let modificationTime: Int64
    /// The content offset of the next byte `read(into:)` returns.
    package private(set) var contentOffset: Int64 = 0
    /// Bytes read as stored (compressed for gzip), for progress against `fileSize`.
    package var storedBytesRead: Int64 { inflateAhead?.storedBytesRead ?? rawBytesRead }
    private var rawBytesRead: Int64 = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let reader: Reader?
    /// Raw bytes read to recognise the format, not yet handed on.
    private var rawPending: [UInt8] = []
    private var rawPendingIndex = 0
    /// Content bytes read by `peekContent(upTo:)`, from offset 0, not yet handed on.
    private var peeked: [UInt8] = []
    private var peekedIndex = 0
    private var inflater: GzipInflater?
    /// A gzip file's inflating, run ahead on a thread of its own from the first `read(into:)` (`InflateAhead`).
    private var inflateAhead: InflateAhead?

    private init(
        displayPath: String, descriptor: Int32, ownsDescriptor: Bool,
        reader: Reader?, isStdin: Bool, isStream: Bool,
        status: stat?
    ) {
        self.displayPath = displayPath
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
        self.reader = reader
        self.isStdin = isStdin
        self.isStream = isStream
        if let status, !isStdin {
            device = UInt64(truncatingIfNeeded: status.st_dev)
            inode = UInt64(truncatingIfNeeded: status.st_ino)
            fileSize = isStream ? 0 : Int64(status.st_size)
            #if canImport(Darwin)
            modificationTime = Int64(status.st_mtimespec.tv_sec)
            #else
            modificationTime = Int64(status.st_mtim.tv_sec)
            #endif
        } else {
            device = 0
            inode = 0
            fileSize = 0
            modificationTime = 0
        }
    }

    /// Opens `path`, or standard input for `-`, and reads its first bytes to recognise gzip.
    ///
    /// Directories and block devices are refused; FIFOs and character devices are read as streams.
    package convenience init(path: String) throws {
        if path == "-" {
            try self.init(standardInput: STDIN_FILENO)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let reason: LogSourceError.Reason =
                switch code {
                case ENOENT, ENOTDIR: .notFound
                case EACCES, EPERM: .permissionDenied
                case EISDIR: .isDirectory
                default: .openFailed(errno: code)
                }
            throw LogSourceError(path: path, reason: reason)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw LogSourceError(path: path, reason: .openFailed(errno: code))
        }
        let isStream: Bool
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            isStream = false
        case S_IFIFO, S_IFCHR, S_IFSOCK:
            isStream = true
        case S_IFDIR:
            close(fd)
            throw LogSourceError(path: path, reason: .isDirectory)
        default:
            close(fd)
            throw LogSourceError(path: path, reason: .notRegularFile)
        }
        self.init(
            displayPath: path, descriptor: fd, ownsDescriptor: true, reader: nil, isStdin: false,
            isStream: isStream, status: status)
        try recogniseFormat()
    }

    /// Reads standard input (or, for tests, another descriptor read as if it were standard input); not closed.
    convenience init(standardInput descriptor: Int32) throws {
        self.init(
            displayPath: "<stdin>", descriptor: descriptor, ownsDescriptor: false, reader: nil, isStdin: true,
            isStream: true, status: nil)
        try recogniseFormat()
    }

    /// Reads the bytes `reader` yields, as a stream.
    ///
    /// The seam for tests (chunked in-memory input) and for callers that already hold the bytes.
    package convenience init(displayPath: String, reader: @escaping Reader) throws {
        self.init(
            displayPath: displayPath, descriptor: -1, ownsDescriptor: false, reader: reader, isStdin: false,
            isStream: true, status: nil)
        try recogniseFormat()
    }

    deinit {
        // Stops the inflating thread, which reads the descriptor, before closing it.
        inflateAhead = nil
        if ownsDescriptor { close(descriptor) }
    }

    private func recogniseFormat() throws {
        var magic = [UInt8](repeating: 0, count: 2)
        var count = 0
        while count < 2 {
            let n = try magic.withUnsafeMutableBytes {
                try readRaw(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...]))
            }
            if n == 0 { break }
            count += n
        }
        rawPending = Array(magic[0..<count])
        if count == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
            isGzip = true
            do {
                inflater = try GzipInflater()
            } catch {
                throw sourceError(error)
            }
        }
    }

    /// Up to `n` first bytes of the content (decompressed for gzip), fewer if the content is shorter.
    ///
    /// Later reads still start at offset 0. Call before any `read(into:)` or `skip(toContentOffset:)`.
    /// An error met while peeking, thrown once the peeked bytes have been read.
    private var peekError: Error?

    package func peekContent(upTo n: Int) throws -> [UInt8] {
        precondition(contentOffset == 0, "peekContent(upTo:) after reading")
        if peeked.count < n {
            var chunk = [UInt8](repeating: 0, count: n - peeked.count)
            var filled = 0
            do {
                while filled < chunk.count && peekError == nil {
                    let got = try chunk.withUnsafeMutableBytes {
                        try readContent(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
                    }
                    if got == 0 { break }
                    filled += got
                }
            } catch {
                // Keep what was decoded before a bad gzip member: it is read first, then the error is thrown.
                peekError = error
            }
            peeked += chunk[0..<filled]
        }
        return Array(peeked.prefix(n))
    }

    /// Reads content bytes into `buffer`; returns how many, 0 at the end of the content.
    ///
    /// For gzip, bytes decoded before a truncation or corruption are returned first; the next call throws.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        let n: Int
        if peekedIndex < peeked.count {
            n = copyOut(peeked, from: &peekedIndex, into: buffer)
        } else if let error = peekError {
            peekError = nil
            throw error
        } else if let ahead = inflateAhead ?? startInflatingAhead() {
            n = try ahead.read(into: buffer)
        } else {
            n = try readContent(into: buffer)
        }
        contentOffset += Int64(n)
        return n
    }

    /// Moves to content offset `offset`: `lseek` for plain regular files, read-and-discard otherwise.
    ///
    /// Throws `endsBeforeOffset` when the content is shorter, and `cannotSkipBackward` for streams and gzip.
    package func skip(toContentOffset offset: Int64) throws {
        if offset == contentOffset { return }
        if !isStream && !isGzip {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else {
                throw LogSourceError(path: displayPath, reason: .seekFailed(errno: errno))
            }
            guard offset <= Int64(status.st_size) else {
                throw LogSourceError(
                    path: displayPath, reason: .endsBeforeOffset(contentLength: Int64(status.st_size), offset: offset))
            }
            guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else {
                throw LogSourceError(path: displayPath, reason: .seekFailed(errno: errno))
            }
            rawPending = []
            rawPendingIndex = 0
            peekedIndex = peeked.count
            contentOffset = offset
            return
        }
        guard offset > contentOffset else {
            throw LogSourceError(path: displayPath, reason: .cannotSkipBackward(from: contentOffset, to: offset))
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { scratch.deallocate() }
        while contentOffset < offset {
            let want = Int(min(Int64(scratch.count), offset - contentOffset))
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            if n == 0 {
                throw LogSourceError(
                    path: displayPath, reason: .endsBeforeOffset(contentLength: contentOffset, offset: offset))
            }
        }
    }

    /// True once the file turned out to have been truncated and refilled while it was read (logrotate's
    /// `copytruncate`): what followed was another file's content, so reading stopped before it.
    package private(set) var replacedWhileReading = false
    /// The first bytes of a plain file as first read, compared again after each later read.
    private var head: [UInt8]?

    /// Hands a gzip regular file's inflater and descriptor to an `InflateAhead`: nil for plain input and streams.
    /// From then on only its thread reads the file and inflates.
    private func startInflatingAhead() -> InflateAhead? {
        guard let inflater, !isStream, reader == nil else { return nil }
        let pending = Array(rawPending[rawPendingIndex...])
        rawPending = []
        rawPendingIndex = 0
        var pendingIndex = 0
        var stored = rawBytesRead
        let descriptor = self.descriptor
        let path = displayPath
        let ahead = InflateAhead(storedBytesRead: stored) { output in
            do {
                let n = try inflater.inflate(into: output) { buffer in
                    if pendingIndex < pending.count { return copyOut(pending, from: &pendingIndex, into: buffer) }
                    let n = try Self.readDescriptor(descriptor, into: buffer, path: path)
                    stored += Int64(n)
                    return n
                }
                return (n, stored)
            } catch {
                throw Self.sourceError(error, path: path)
            }
        }
        inflateAhead = ahead
        return ahead
    }

    /// Content bytes after the peeked ones: inflated, or raw for plain input.
    private func readContent(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let inflater else {
            guard !isStream && reader == nil && contentOffset > 0 else { return try readRaw(into: buffer) }
            return try readPlainFile(into: buffer)
        }
        do {
            return try inflater.inflate(into: buffer) { try readRaw(into: $0) }
        } catch {
            throw sourceError(error)
        }
    }

    /// Reads a plain regular file, checking after each read that its first bytes are still those read first. A log
    /// truncated in place and written anew (`copytruncate`) would otherwise go on at the old offset in the middle of
    /// the new content, and count that content again when the new file is read from its start. The bytes of such a
    /// read are dropped: its old content is in the rotated copy, read from this offset by the next run.
    private func readPlainFile(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if replacedWhileReading { return 0 }
        if head == nil { head = Array(peeked.prefix(1024)) }
        let n = try readRaw(into: buffer)
        guard n > 0, let head, !head.isEmpty else { return n }
        var now = [UInt8](repeating: 0, count: head.count)
        let got = now.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, head.count, 0) }
        if got != head.count || now != head {
            replacedWhileReading = true
            return 0
        }
        return n
    }

    /// Bytes as stored: the recognised magic bytes first, then the descriptor or reader.
    private func readRaw(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if rawPendingIndex < rawPending.count { return copyOut(rawPending, from: &rawPendingIndex, into: buffer) }
        if let reader { return try reader(buffer) }
        let n = try Self.readDescriptor(descriptor, into: buffer, path: displayPath)
        rawBytesRead += Int64(n)
        return n
    }

    /// `read(2)`, again after EINTR.
    private static func readDescriptor(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws -> Int {
        while true {
            let n = systemRead(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            throw LogSourceError(path: path, reason: .readFailed(errno: code))
        }
    }

    private func sourceError(_ error: any Error) -> any Error {
        Self.sourceError(error, path: displayPath)
    }

    private static func sourceError(_ error: any Error, path: String) -> any Error {
        guard let failure = error as? GzipInflater.Failure else { return error }
        switch failure {
        case .truncated(let offset):
            return LogSourceError(path: path, reason: .truncatedGzip(compressedOffset: offset))
        case .corrupt(let offset, let message):
            return LogSourceError(path: path, reason: .corruptGzip(compressedOffset: offset, message: message))
        }
    }
}

/// Copies `bytes` from `index` on into `buffer`, as many as fit, and moves `index` past them; how many.
private func copyOut(_ bytes: [UInt8], from index: inout Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    let n = min(buffer.count, bytes.count - index)
    bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[index..<index + n])) }
    index += n
    return n
}

/// `read(2)`, named apart from `LogSource.read(into:)`, which would shadow it.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
