import CZlib

/// Inflates a gzip stream of one or more members through system zlib, pulling compressed bytes on demand.
///
/// Members are restarted with `inflateReset` (RFC 1952 §2.2: a gzip file is a series of members), so
/// `cat a.gz b.gz` inflates to both contents. Zero bytes after the last member (tape padding) are tolerated;
/// anything else there is an error. Output decoded before an error is returned first and the error is thrown
/// by the next call, so callers see every line that could be decoded.
final class GzipInflater {
    /// Why inflating stopped; `LogSource` names the file.
    enum Failure: Error, Equatable {
        /// The input ended inside a member; `compressedOffset` is where it ended.
        case truncated(compressedOffset: Int64)
        case corrupt(compressedOffset: Int64, message: String)
    }

    private enum State {
        case inMember
        case betweenMembers
        case padding
        case finished
    }

    private var stream = z_stream()
    private let input: UnsafeMutableRawBufferPointer
    private var state = State.inMember
    private var inputEnded = false
    /// Compressed bytes handed to zlib so far; `fed - avail_in` is the offset of the next unread byte.
    private var fed: Int64 = 0
    /// The error that stopped inflating, thrown again by every later call.
    private var failure: (any Error)?

    /// - Parameter inputBufferSize: how many compressed bytes to pull at a time.
    init(inputBufferSize: Int = 256 << 10) throws(Failure) {
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(inputBufferSize, 64), alignment: 16)
        // Swift cannot call the `inflateInit2` macro. 15 + 16: a 32 KiB window, gzip wrapper only.
        let rc = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            input.deallocate()
            throw .corrupt(compressedOffset: 0, message: "zlib initialisation failed (\(rc))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// The offset in the compressed input of the next byte zlib has not consumed.
    var compressedOffset: Int64 { fed - Int64(stream.avail_in) }

    /// Fills `output` with inflated bytes, calling `refill` for compressed bytes (it returns 0 at the end).
    ///
    /// Returns 0 only at the clean end of the last member. Returns early, with fewer bytes, rather than wait
    /// for more input once something has been produced, so a pipe is read as it arrives.
    func inflate(
        into output: UnsafeMutableRawBufferPointer,
        refill: (UnsafeMutableRawBufferPointer) throws -> Int
    ) throws -> Int {
        if let failure { throw failure }
        guard let outBase = output.baseAddress, output.count > 0 else { return 0 }
        var produced = 0
        do {
            while produced < output.count {
                switch state {
                case .finished:
                    return produced
                case .inMember:
                    if stream.avail_in == 0 && !inputEnded {
                        if produced > 0 { return produced }
                        try pull(refill)
                    }
                    let room = output.count - produced
                    stream.next_out = outBase.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(clamping: room)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    switch rc {
                    case Z_OK:
                        continue
                    case Z_STREAM_END:
                        state = .betweenMembers
                    case Z_BUF_ERROR where stream.avail_in == 0 && inputEnded:
                        throw Failure.truncated(compressedOffset: fed)
                    case Z_BUF_ERROR:
                        continue
                    default:
                        throw Failure.corrupt(compressedOffset: compressedOffset, message: zlibMessage(rc))
                    }
                case .betweenMembers:
                    if stream.avail_in == 0 {
                        if inputEnded {
                            state = .finished
                            continue
                        }
                        try pull(refill)
                        continue
                    }
                    switch stream.next_in[0] {
                    case 0x1f:
                        inflateReset(&stream)
                        state = .inMember
                    case 0:
                        state = .padding
                    default:
                        throw Failure.corrupt(
                            compressedOffset: compressedOffset, message: "not a gzip member after the last one")
                    }
                case .padding:
                    while stream.avail_in > 0 {
                        guard stream.next_in[0] == 0 else {
                            throw Failure.corrupt(
                                compressedOffset: compressedOffset, message: "data after the trailing zero padding")
                        }
                        stream.next_in += 1
                        stream.avail_in -= 1
                    }
                    if inputEnded {
                        state = .finished
                    } else {
                        try pull(refill)
                    }
                }
            }
            return produced
        } catch {
            failure = error
            // Hand over what was decoded before the failure; the next call throws.
            if produced > 0 { return produced }
            throw error
        }
    }

    private func pull(_ refill: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        let n = try refill(input)
        if n == 0 {
            inputEnded = true
        }
        fed += Int64(n)
        stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = UInt32(n)
    }

    private func zlibMessage(_ rc: Int32) -> String {
        if let msg = stream.msg { return String(cString: msg) }
        return "zlib error \(rc)"
    }
}
