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
    /// One cached text and the bytes it was made from: the first 16 in two words (zero-padded), so a text of up to
    /// 16 bytes is matched by comparing three integers, without reading the `String`.
    private struct Slot {
        var word0: UInt64 = 0
        var word1: UInt64 = 0
        var count = -1
        var text = ""
    }

    /// Held by pointer: an array property of a class costs an exclusivity check and a uniqueness check per lookup.
    private let table: UnsafeMutableBufferPointer<Slot>
    private let setMask: Int
    private static let ways = 4

    /// `slots` is rounded up to a power of two (at least `ways`).
    package init(slots: Int = 16_384) {
        var n = Self.ways
        while n < slots { n <<= 1 }
        table = .allocate(capacity: n)
        _ = table.initialize(from: repeatElement(Slot(), count: n))
        self.setMask = n / Self.ways - 1
    }

    deinit {
        _ = table.deinitialize()
        table.deallocate()
    }

    /// `bytes` as a `String` (invalid UTF-8 repaired, as `ByteSlice.string`), shared with earlier equal texts.
    ///
    /// Short texts are kept too: a `String` of up to 15 bytes needs no allocation, but making one still validates
    /// its bytes, which costs several times a lookup here (a queue ID, a `dsn=` on every line).
    package func string(_ bytes: ByteSlice) -> String {
        let (word0, word1) = bytes.packedWords
        let count = bytes.count
        let first = (Int(truncatingIfNeeded: Self.hash(bytes, word0, word1)) & setMask) * Self.ways
        for way in 0..<Self.ways {
            let i = first + way
            guard table[i].count == count, table[i].word0 == word0, table[i].word1 == word1 else { continue }
            // Past 16 bytes the rest is compared with the text's own bytes: equal bytes mean valid UTF-8 (a
            // repaired text's bytes differ from its input), so the cached text is exactly what `bytes.string`
            // would make. Up to 16 bytes the slot holds the input bytes themselves.
            if count > 16 {
                guard table[i].text.utf8.count == count,
                    table[i].text.utf8.withContiguousStorageIfAvailable({
                        memcmp($0.baseAddress!, bytes.base, count) == 0
                    }) == true
                else { continue }
            }
            // Most recently used first.
            var j = i
            while j > first {
                table.swapAt(j, j - 1)
                j -= 1
            }
            return table[first].text
        }
        var j = first + Self.ways - 1
        while j > first {
            table.swapAt(j, j - 1)
            j -= 1
        }
        let fresh = bytes.string
        table[first] = Slot(word0: word0, word1: word1, count: count, text: fresh)
        return fresh
    }

    /// The two first words and the rest eight bytes at a time, multiply-xorshift mixed: the slot only needs the bits
    /// spread.
    @inline(__always) private static func hash(_ s: ByteSlice, _ word0: UInt64, _ word1: UInt64) -> UInt64 {
        var h = (word0 ^ 0x9E37_79B9_7F4A_7C15 ^ UInt64(s.count)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        h = (h ^ word1) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        if s.count > 16 {
            let raw = UnsafeRawPointer(s.base)
            var i = 16
            while i + 8 <= s.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
            if i < s.count {
                // The last eight bytes, overlapping those already mixed: no loop over the tail's bytes.
                h = (h ^ raw.loadUnaligned(fromByteOffset: s.count - 8, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
            }
        }
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }
}

extension ByteSlice {
    /// The first 16 bytes, little-endian, zero-padded: with the count, all of a text of up to 16 bytes (a queue ID).
    @inline(__always) package var packedWords: (UInt64, UInt64) {
        let raw = UnsafeRawPointer(base)
        func load(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        if count >= 16 { return (load(0), load(8)) }
        if count > 8 {
            // The last eight bytes, shifted down to drop those before byte 8.
            return (load(0), load(count - 8) >> (UInt64(16 - count) * 8))
        }
        if count == 8 { return (load(0), 0) }
        func load32(_ at: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        if count >= 4 {
            // Bytes 0–3 and the last four (overlapping them), the latter moved up to their place.
            return (load32(0) | load32(count - 4) << (UInt64(count - 4) * 8), 0)
        }
        var word: UInt64 = 0
        for i in 0..<count { word |= UInt64(base[i]) << (UInt64(i) * 8) }
        return (word, 0)
    }
}

extension ByteSlice {
    /// The text of these bytes, shared through `cache` when there is one.
    @inline(__always) package func string(_ cache: StringCache?) -> String {
        cache?.string(self) ?? string
    }
}
