#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands out one shared `String` for a text that recurs (a relay, a recipient address, a sender, a deferral reply)
/// instead of a new one for every line.
///
/// The open messages of a busy relay hold tens of thousands of recipients, most with the same few thousand relay
/// names and addresses: shared, they cost one allocation each instead of one per recipient, and a hit costs a hash
/// and a compare instead of an allocation. A fixed table of sets of four, each in order of last use: a text not in
/// its set is made anew and replaces the set's least recently used, so the cache never grows (at most `slots`
/// strings kept alive) and a few thousand distinct addresses passing through do not push out the relay names that
/// recur on every line.
package final class StringCache {
    private var slots: [String]
    private let setMask: Int
    private static let ways = 4

    /// `slots` is rounded up to a power of two (at least `ways`).
    package init(slots: Int = 16_384) {
        var n = Self.ways
        while n < slots { n <<= 1 }
        self.slots = Array(repeating: "", count: n)
        self.setMask = n / Self.ways - 1
    }

    /// `bytes` as a `String` (invalid UTF-8 repaired, as `ByteSlice.string`), shared with earlier equal texts.
    package func string(_ bytes: ByteSlice) -> String {
        // Up to 15 bytes a `String` is stored inline: nothing to share.
        guard bytes.count > 15 else { return bytes.string }
        let first = (Int(truncatingIfNeeded: Self.hash(bytes)) & setMask) * Self.ways
        return slots.withUnsafeMutableBufferPointer { table -> String in
            for way in 0..<Self.ways {
                let i = first + way
                // Equal bytes mean valid UTF-8 (a repaired text's bytes differ from its input), so the cached text
                // is exactly what `bytes.string` would make.
                guard table[i].utf8.count == bytes.count,
                    table[i].utf8.withContiguousStorageIfAvailable({
                        memcmp($0.baseAddress!, bytes.base, bytes.count) == 0
                    }) == true
                else { continue }
                // Most recently used first.
                var j = i
                while j > first {
                    table.swapAt(j, j - 1)
                    j -= 1
                }
                return table[first]
            }
            var j = first + Self.ways - 1
            while j > first {
                table.swapAt(j, j - 1)
                j -= 1
            }
            let fresh = bytes.string
            table[first] = fresh
            return fresh
        }
    }

    /// Eight bytes at a time, multiply-xorshift mixed: the slot only needs the bits spread.
    @inline(__always) private static func hash(_ s: ByteSlice) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(s.count)
        let raw = UnsafeRawPointer(s.base)
        var i = 0
        while i + 8 <= s.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < s.count {
            tail |= UInt64(s.base[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }
}

extension ByteSlice {
    /// The text of these bytes, shared through `cache` when there is one.
    @inline(__always) package func string(_ cache: StringCache?) -> String {
        cache?.string(self) ?? string
    }
}
