import Testing

@testable import Ingest

/// The word-at-a-time byte classes must agree with the byte-at-a-time definitions for every byte value in every
/// position, and the readers built on them must accept and refuse exactly what a byte loop would.
struct ByteClassTests {
    static func isAlnum(_ c: UInt8) -> Bool {
        c &- 48 < 10 || c &- 65 < 26 || c &- 97 < 26
    }

    @Test func alnumBytesMatchesTheByteDefinition() {
        // Each byte value in each position, the other seven bytes cycling through letters, digits and others.
        let fillers: [UInt8] = [0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x80, 0xFF]
        for position in 0..<8 {
            for value in 0...255 {
                for filler in fillers {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = UInt8(value)
                    let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                    let mask = ByteSlice.alnumBytes(word)
                    for k in 0..<8 {
                        let flagged = (mask >> (UInt64(k) * 8)) & 0xFF
                        #expect(flagged == (Self.isAlnum(bytes[k]) ? 0x80 : 0), "byte \(bytes[k]) at \(k)")
                    }
                }
            }
        }
    }

    /// Both shapes of Exim message ID, with every byte but the dashes replaced by each byte value in turn: the ID
    /// is read exactly when the byte is a base-62 digit, and reads back as its text.
    @Test func eximMessageIDsAreReadByteForByte() {
        for text in ["1jmFYj-00039V-QX", "1tAbCd-000000005vi-0000"] {
            let base = Array(text.utf8)
            let dashes: Set<Int> = base.count == 16 ? [6, 13] : [6, 18]
            #expect(EximMessageID(text)?.description == text)
            for position in base.indices where !dashes.contains(position) {
                for value in 0...255 {
                    var bytes = base
                    bytes[position] = UInt8(value)
                    let id = bytes.withUnsafeBufferPointer { EximMessageID(ByteSlice($0)) }
                    if Self.isAlnum(UInt8(value)) {
                        #expect(id.map { Array($0.description.utf8) } == bytes)
                    } else {
                        #expect(id == nil, "byte \(value) at \(position) of \(text)")
                    }
                }
            }
            for position in dashes {
                var bytes = base
                bytes[position] = UInt8(ascii: "a")
                #expect(bytes.withUnsafeBufferPointer { EximMessageID(ByteSlice($0)) } == nil)
            }
        }
        for wrong in ["1jmFYj-00039V-Q", "1jmFYj-00039V-QXa", "1tAbCd-000000005vi-000", "1tAbCd-00000005vi-00000"] {
            #expect(EximMessageID(wrong) == nil)
        }
    }

    /// The queue-ID test by the byte definitions: letters and digits only; upper-case hex, or 10 or more characters
    /// with a digit or without a vowel.
    static func isQueueIDByBytes(_ b: [UInt8]) -> Bool {
        guard b.count >= 5, b.count <= 24, b.allSatisfy(isAlnum) else { return false }
        if b.allSatisfy({ $0 &- 48 < 10 || $0 &- 65 < 6 }) { return true }
        let vowel = b.contains { "aeiouAEIOU".utf8.contains($0) }
        return b.count >= 10 && (!vowel || b.contains { $0 &- 48 < 10 })
    }

    @Test func queueIDsAreTestedByteForByte() {
        // Pseudo-random texts over bytes of every class (hex digits, other letters, vowels, others, non-ASCII).
        let alphabet = Array("0189AFGZaefzEIOU-:_ ".utf8) + [0x80, 0xC3, 0xFF]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        for _ in 0..<50_000 {
            let count = 3 + next(24)
            // Mostly from a narrower class, so that texts of one class alone (all hex, letters alone) come up.
            let pool = [alphabet, Array("0189AF".utf8), Array("GZgzbcd".utf8), Array("GZaeEIOU".utf8)][next(4)]
            var bytes = (0..<count).map { _ in pool[next(pool.count)] }
            if next(8) == 0 { bytes[next(count)] = alphabet[next(alphabet.count)] }
            let tested = bytes.withUnsafeBufferPointer { PostfixLineParser.isQueueID(ByteSlice($0)) }
            #expect(tested == Self.isQueueIDByBytes(bytes), "\(bytes)")
        }
        for id in ["4jLx541G7mzSZmP", "4C3D2A1B0F", "ABCDE", "3F2A1", "4jLxSZmPbcdfgh"] {
            #expect(ByteSlice.with(id) { PostfixLineParser.isQueueID($0) })
        }
        for notID in ["4jLx541G7mzSZm:", "abcde", "hello-world", "ABCDEG", "jLxSZmPbcdfgha"] {
            #expect(!ByteSlice.with(notID) { PostfixLineParser.isQueueID($0) })
        }
    }

    /// `packedWords` is the first 16 bytes, little-endian and zero-padded, whatever the length and the bytes.
    @Test func packedWordsAreTheFirstSixteenBytes() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for count in 0...24 {
            for _ in 0..<200 {
                let bytes = (0..<count).map { _ -> UInt8 in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: state >> 56)
                }
                var expected: (UInt64, UInt64) = (0, 0)
                for (i, b) in bytes.prefix(16).enumerated() {
                    if i < 8 {
                        expected.0 |= UInt64(b) << (UInt64(i) * 8)
                    } else {
                        expected.1 |= UInt64(b) << (UInt64(i - 8) * 8)
                    }
                }
                let packed = bytes.withUnsafeBufferPointer { ByteSlice($0).packedWords }
                #expect(packed == expected, "\(bytes)")
            }
        }
    }
}
