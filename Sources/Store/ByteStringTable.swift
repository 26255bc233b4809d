import Foundation

/// Distinct byte strings numbered in order of first sight, found by a hash of their bytes: a batch's recipient
/// domains, looked up once per recipient without making a `String` of each (most domains are longer than a small
/// string's 15 bytes, so each would be allocated) and hashed eight bytes at a time (`wordHash`) rather than
/// with Swift's SipHash.
struct ByteStringTable {
    /// The strings by number, made once each (they are bound to statements).
    private(set) var strings: [String] = []
    private var bytes: [UInt8] = []
    private var ranges: [Range<Int>] = []
    private var hashes: [UInt64] = []
    /// Open addressing: a string's number, or -1.
    private var slots = [Int32](repeating: -1, count: 256)
    /// The numbers of the strings ranked by `rankAdded()`, in their bytes' order.
    private var ordered: [Int32] = []
    /// Each string's place in `ordered`, by number.
    private(set) var rank: [Int32] = []

    init() {}

    /// The number of `key`, numbered now if it is new.
    mutating func id(of key: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = Self.wordHash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s < 0 { break }
            if hashes[Int(s)] == h && equals(Int(s), key) { return s }
            i = (i + 1) & mask
        }
        let id = Int32(strings.count)
        let start = bytes.count
        bytes.append(contentsOf: key)
        ranges.append(start..<bytes.count)
        hashes.append(h)
        strings.append(String(decoding: key, as: UTF8.self))
        slots[i] = id
        if strings.count * 2 > slots.count { grow() }
        return id
    }

    /// The number of `string`.
    mutating func id(of string: String) -> Int32 {
        var s = string
        return s.withUTF8 { id(of: $0) }
    }

    /// Ranks the strings numbered since the last call among the others (`rank`): they are sorted, then merged into
    /// the order kept, so each string is sorted about once a run rather than at every write of the buckets.
    mutating func rankAdded() {
        guard ordered.count < strings.count else { return }
        var added = Array(Int32(ordered.count)..<Int32(strings.count))
        added.sort { precedes($0, $1) }
        var merged: [Int32] = []
        merged.reserveCapacity(strings.count)
        var i = 0
        var j = 0
        while i < ordered.count && j < added.count {
            if precedes(added[j], ordered[i]) {
                merged.append(added[j])
                j += 1
            } else {
                merged.append(ordered[i])
                i += 1
            }
        }
        merged += ordered[i...]
        merged += added[j...]
        ordered = merged
        rank = [Int32](repeating: 0, count: strings.count)
        for (r, id) in ordered.enumerated() { rank[Int(id)] = Int32(r) }
    }

    /// Whether string `a`'s bytes sort before string `b`'s, as SQLite's BINARY collation orders them.
    func precedes(_ a: Int32, _ b: Int32) -> Bool {
        let ra = ranges[Int(a)]
        let rb = ranges[Int(b)]
        return bytes.withUnsafeBufferPointer { p in
            let n = min(ra.count, rb.count)
            if n > 0, let base = p.baseAddress {
                let c = memcmp(base + ra.lowerBound, base + rb.lowerBound, n)
                if c != 0 { return c < 0 }
            }
            return ra.count < rb.count
        }
    }

    private func equals(_ i: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let r = ranges[i]
        guard r.count == key.count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            guard let k = key.baseAddress, let p = b.baseAddress else { return r.isEmpty }
            return memcmp(p + r.lowerBound, k, r.count) == 0
        }
    }

    private mutating func grow() {
        var slots = [Int32](repeating: -1, count: self.slots.count * 2)
        let mask = slots.count - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(id)
        }
        self.slots = slots
    }

    /// A quick hash of `key`'s bytes, eight at a time: for the batch's own tables, never stored.
    static func wordHash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: key.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = key.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= key.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < key.count {
            var tail: UInt64 = 0
            for j in i..<key.count { tail = tail << 8 | UInt64(key[j]) }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 32
        }
        return h
    }

    /// `wordHash` of a string's UTF-8.
    static func wordHash(_ string: String) -> UInt64 {
        var s = string
        return s.withUTF8 { wordHash($0) }
    }
}
