#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A borrowed run of bytes inside the reader's buffer: the parsers' currency.
///
/// Valid only while the line it came from is being handled; make a `String` of the fields that are kept.
package struct ByteSlice: @unchecked Sendable {
    package let base: UnsafePointer<UInt8>
    package let count: Int

    package init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    package init(_ buffer: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no base address; point at a static byte instead.
        self.base = buffer.baseAddress ?? ByteSlice.emptyBase
        self.count = buffer.count
    }

    nonisolated(unsafe) private static let emptyBase: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()

    @inline(__always) package var isEmpty: Bool { count == 0 }

    @inline(__always) package subscript(i: Int) -> UInt8 { base[i] }

    /// Bytes `from ..< to`.
    @inline(__always) package func slice(_ from: Int, _ to: Int) -> ByteSlice {
        ByteSlice(base: base + from, count: to - from)
    }

    @inline(__always) package func dropFirst(_ n: Int) -> ByteSlice {
        let n = Swift.min(n, count)
        return ByteSlice(base: base + n, count: count - n)
    }

    @inline(__always) package func prefix(_ n: Int) -> ByteSlice {
        ByteSlice(base: base, count: Swift.min(n, count))
    }

    /// The index of the first `byte` at or after `from`, or nil.
    @inline(__always) package func firstIndex(of byte: UInt8, from: Int = 0) -> Int? {
        guard from < count else { return nil }
        guard let p = memchr(base + from, Int32(byte), count - from) else { return nil }
        return UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self) - base
    }

    /// The index of the first of three bytes at or after `from`, or nil.
    ///
    /// Eight bytes at a time (a word-wide zero-byte test on the word xor each byte): a syslog tag's end is found in a
    /// few steps rather than one per byte. The lowest flagged byte is exact on little-endian machines (a borrow only
    /// flags bytes above a true match).
    @inline(__always) package func firstIndex(of a: UInt8, _ b: UInt8, _ c: UInt8, from: Int = 0) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let (ma, mb, mc) = (ones &* UInt64(a), ones &* UInt64(b), ones &* UInt64(c))
        let raw = UnsafeRawPointer(base)
        var i = from
        while i + 8 <= count {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let xa = w ^ ma
            let xb = w ^ mb
            let xc = w ^ mc
            let found = ((xa &- ones) & ~xa | (xb &- ones) & ~xb | (xc &- ones) & ~xc) & highs
            if found != 0 { return i + found.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < count {
            let x = base[i]
            if x == a || x == b || x == c { return i }
            i += 1
        }
        return nil
    }

    /// The index where `needle` starts, searching from `from`, or nil.
    @inline(__always)
    package func firstIndex(of needle: StaticString, from: Int = 0) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return from }
        let first = needle.utf8Start[0]
        var i = from
        while i + n <= count {
            guard let j = firstIndex(of: first, from: i), j + n <= count else { return nil }
            if memcmp(base + j, needle.utf8Start, n) == 0 { return j }
            i = j + 1
        }
        return nil
    }

    /// The index where `needle` starts, searching backwards from the end, or nil.
    @inline(__always)
    package func lastIndex(of needle: StaticString) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return count }
        guard n <= count else { return nil }
        let first = needle.utf8Start[0]
        // Candidates start at count - n at the latest.
        var end = count - n + 1
        while let j = lastIndex(of: first, before: end) {
            if memcmp(base + j, needle.utf8Start, n) == 0 { return j }
            end = j
        }
        return nil
    }

    /// The index of the last `byte` before `end`, or nil; eight bytes at a time.
    @inline(__always) package func lastIndex(of byte: UInt8, before end: Int) -> Int? {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let pattern = 0x0101_0101_0101_0101 &* UInt64(byte)
        let raw = UnsafeRawPointer(base)
        var e = end
        while e >= 8 {
            let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: e - 8, as: UInt64.self)) ^ pattern
            // The top bit set in exactly the zero bytes of `x` (no carry crosses a byte), so the highest is exact.
            let zero = ~(((x & low7) &+ low7) | x | low7)
            if zero != 0 { return e - 8 + (63 - zero.leadingZeroBitCount) >> 3 }
            e -= 8
        }
        while e > 0 {
            e -= 1
            if base[e] == byte { return e }
        }
        return nil
    }

    @inline(__always) package func hasPrefix(_ s: StaticString, at offset: Int = 0) -> Bool {
        let n = s.utf8CodeUnitCount
        return offset + n <= count && memcmp(base + offset, s.utf8Start, n) == 0
    }

    @inline(__always) package func hasSuffix(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        return n <= count && memcmp(base + count - n, s.utf8Start, n) == 0
    }

    package func equals(_ s: StaticString) -> Bool {
        count == s.utf8CodeUnitCount && hasPrefix(s)
    }

    package func equals(_ other: ByteSlice) -> Bool {
        count == other.count && memcmp(base, other.base, count) == 0
    }

    /// `0x80` in each byte of `w` that is an ASCII letter or digit, `0` in the others: eight bytes classified in a
    /// dozen operations. Each range test adds to bytes below `0x80` only (no carry crosses into the next byte).
    @inline(__always) package static func alnumBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let x = w & ~high
        // `0`–`9`: x + (0x80 - 0x30) sets the top bit from 0x30 up, x + (0x7F - 0x39) from above 0x39.
        let digit = (x &+ 0x50 &* ones) & ~(x &+ 0x46 &* ones)
        // Letters, folded to lower case: `a`–`z` (only `A`–`Z` and `a`–`z` fold into it).
        let l = x | 0x20 &* ones
        let letter = (l &+ 0x1F &* ones) & ~(l &+ 0x05 &* ones)
        return (digit | letter) & high & ~w
    }

    /// The text of these bytes; invalid UTF-8 is repaired with U+FFFD.
    package var string: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// A non-negative decimal number, or nil when empty, not all digits, or too large for `Int64`.
    package var decimal: Int64? {
        guard count > 0, count <= 18 else {
            // 19 digits may still fit; check carefully rather than overflow.
            guard count > 0 else { return nil }
            var v: Int64 = 0
            for i in 0..<count {
                let d = base[i] &- 48
                guard d < 10 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { return nil }
                v = a
            }
            return v
        }
        var v: Int64 = 0
        for i in 0..<count {
            let d = base[i] &- 48
            guard d < 10 else { return nil }
            v = v &* 10 &+ Int64(d)
        }
        return v
    }

    /// These bytes without leading and trailing spaces.
    package var trimmed: ByteSlice {
        var s = 0
        var e = count
        while s < e && (base[s] == 0x20 || base[s] == 0x09) { s += 1 }
        while e > s && (base[e - 1] == 0x20 || base[e - 1] == 0x09 || base[e - 1] == 0x0D) { e -= 1 }
        return slice(s, e)
    }
}

extension ByteSlice {
    /// Calls `body` with a slice over the UTF-8 bytes of `text` (for tests and one-off parsing).
    package static func with<R>(_ text: String, _ body: (ByteSlice) throws -> R) rethrows -> R {
        var text = text
        return try text.withUTF8 { try body(ByteSlice($0)) }
    }
}
