import Testing

@testable import Ingest

/// The shared texts must be exactly what `ByteSlice.string` makes, whatever the cache held before.
struct StringCacheTests {
    static func bytes(_ b: [UInt8], _ body: (ByteSlice) -> String) -> String {
        b.withUnsafeBufferPointer { body(ByteSlice($0)) }
    }

    @Test func aCachedTextIsTheTextOfItsBytes() {
        // Two slots only: every set is overrun, so texts are evicted and made again many times.
        let cache = StringCache(slots: 4)
        var texts: [[UInt8]] = []
        for i in 0..<200 {
            texts.append(Array("recipient\(i % 37)@mx\(i % 11).example.net".utf8))
            texts.append(Array("short\(i % 5)".utf8))  // inline strings, matched by their packed bytes
            // Invalid UTF-8 (a lone continuation byte, a cut sequence) is repaired, never matched byte for byte.
            texts.append(Array("host mx.example[192.0.2.\(i % 7)] said: ".utf8) + [0x80, 0xE2, 0x82])
            texts.append([0xEF, 0xBF, 0xBD] + Array("host mx.example[192.0.2.\(i % 7)] said: ".utf8))
        }
        for t in texts + texts.reversed() {
            let cached = Self.bytes(t) { cache.string($0) }
            let plain = Self.bytes(t) { $0.string }
            #expect(cached == plain)
            #expect(Array(cached.utf8) == Array(plain.utf8))
        }
    }

    /// Texts of every length around the two packed words (8 and 16 bytes), differing in their last byte only, and
    /// short invalid UTF-8: each cached text is the text of its own bytes.
    @Test func everyLengthIsMatchedByAllItsBytes() {
        let cache = StringCache(slots: 8)
        var texts: [[UInt8]] = [[], [0x80], [0x61, 0xE2, 0x82], [0xE2, 0x82, 0x61], [0xFF, 0xFE]]
        for n in 1..<40 {
            for last in [UInt8(ascii: "a"), UInt8(ascii: "b")] {
                texts.append(Array(repeating: UInt8(ascii: "x"), count: n - 1) + [last])
            }
        }
        for t in texts + texts.reversed() + texts {
            let cached = Self.bytes(t) { cache.string($0) }
            let plain = Self.bytes(t) { $0.string }
            #expect(Array(cached.utf8) == Array(plain.utf8), "\(t)")
        }
    }

    @Test func equalTextsShareOneString() {
        let cache = StringCache()
        let a = Self.bytes(Array("mx.dest.example[203.0.113.9]:25".utf8)) { cache.string($0) }
        let b = Self.bytes(Array("mx.dest.example[203.0.113.9]:25".utf8)) { cache.string($0) }
        #expect(a == b)
        var a2 = a
        var b2 = b
        let same = a2.withUTF8 { x in b2.withUTF8 { y in x.baseAddress == y.baseAddress } }
        #expect(same)
    }
}
