import Foundation

/// A compact binary coding for correlators' open-entry snapshots: written at every commit for each message still
/// open, so it must cost little (JSON took a tenth of an ingest). Little-endian varints and length-prefixed UTF-8.
package struct SnapshotWriter {
    package private(set) var bytes: [UInt8] = []

    package init() {
        bytes.reserveCapacity(256)
    }

    package mutating func write(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    package mutating func write(_ v: Int64) { write(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    package mutating func write(_ v: Int) { write(Int64(v)) }
    package mutating func write(_ v: Bool) { bytes.append(v ? 1 : 0) }

    package mutating func write(_ s: String) {
        var s = s
        s.withUTF8 { b in
            write(UInt64(b.count))
            bytes.append(contentsOf: b)
        }
    }

    package mutating func write(_ s: String?) {
        write(s != nil)
        if let s { write(s) }
    }

    package mutating func write(_ v: Int64?) {
        write(v != nil)
        if let v { write(v) }
    }

    package mutating func write(_ a: [String]) {
        write(UInt64(a.count))
        for s in a { write(s) }
    }

    package mutating func write(_ m: MessageRecord) {
        write(m.rowID)
        write(m.host)
        write(m.mta.rawValue)
        write(m.queueID)
        write(m.messageID)
        write(m.origin.rawValue)
        write(m.account)
        write(m.clientIP)
        write(m.clientName)
        write(m.saslMethod)
        write(m.sender)
        write(m.size)
        write(m.announcedRecipients.map(Int64.init))
        write(m.receivedAt)
        write(m.completedAt)
        write(UInt64(m.recipients.count))
        for r in m.recipients {
            write(r.address)
            write(r.originalAddress)
            write(r.outcome.rawValue)
            write(r.dsn)
            write(r.relay)
            write(r.reply)
            write(r.lastAttemptAt)
            write(r.attempts)
        }
    }

    package var data: Data { Data(bytes) }
}

/// Reads what `SnapshotWriter` wrote; throws on truncated or inconsistent bytes.
package struct SnapshotReader {
    package struct Malformed: Error, CustomStringConvertible {
        package init() {}
        package var description: String { "a saved open message is unreadable (the database may be damaged)" }
    }

    private let bytes: [UInt8]
    private var at = 0

    package init(_ data: Data) {
        bytes = [UInt8](data)
    }

    package mutating func readUInt() throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < bytes.count, shift < 64 else { throw Malformed() }
            let b = bytes[at]
            at += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    package mutating func readInt64() throws -> Int64 {
        let u = try readUInt()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    package mutating func readInt() throws -> Int { Int(try readInt64()) }

    package mutating func readBool() throws -> Bool {
        guard at < bytes.count else { throw Malformed() }
        at += 1
        return bytes[at - 1] != 0
    }

    package mutating func readString() throws -> String {
        let n = Int(try readUInt())
        guard n <= bytes.count - at else { throw Malformed() }
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }

    /// A string made by `text` from its bytes (`text` repairs invalid UTF-8 as `String(decoding:as:)` does).
    package mutating func readString(_ text: (UnsafeBufferPointer<UInt8>) -> String) throws -> String {
        let n = Int(try readUInt())
        guard n <= bytes.count - at else { throw Malformed() }
        defer { at += n }
        return bytes.withUnsafeBufferPointer { text(UnsafeBufferPointer(rebasing: $0[at..<(at + n)])) }
    }

    package mutating func readOptionalString() throws -> String? { try readBool() ? try readString() : nil }

    package mutating func readOptionalString(_ text: (UnsafeBufferPointer<UInt8>) -> String) throws -> String? {
        try readBool() ? try readString(text) : nil
    }
    package mutating func readOptionalInt64() throws -> Int64? { try readBool() ? try readInt64() : nil }

    package mutating func readStrings() throws -> [String] {
        let n = Int(try readUInt())
        guard n <= bytes.count - at else { throw Malformed() }
        return try (0..<n).map { _ in try readString() }
    }

    private mutating func read<E: RawRepresentable>(_: E.Type) throws -> E where E.RawValue == String {
        guard let e = E(rawValue: try readString()) else { throw Malformed() }
        return e
    }

    package mutating func readMessage() throws -> MessageRecord {
        try readMessage { String(decoding: $0, as: UTF8.self) }
    }

    /// A message whose recipients' texts are made by `text` (a cache that shares recurring ones).
    package mutating func readMessage(_ text: (UnsafeBufferPointer<UInt8>) -> String) throws -> MessageRecord {
        let rowID = try readOptionalInt64()
        let host = try readString()
        let mta = try read(MTA.self)
        let queueID = try readString()
        let messageID = try readOptionalString()
        let origin = try read(MessageOrigin.self)
        var m = MessageRecord(
            rowID: rowID, host: host, mta: mta, queueID: queueID, messageID: messageID, origin: origin,
            account: try readOptionalString(), clientIP: try readOptionalString(), clientName: try readOptionalString(),
            saslMethod: try readOptionalString(), sender: try readString(), size: try readOptionalInt64(),
            announcedRecipients: try readOptionalInt64().map { Int($0) }, receivedAt: try readInt64(),
            completedAt: try readOptionalInt64())
        let n = Int(try readUInt())
        guard n <= bytes.count - at else { throw Malformed() }
        m.recipients.reserveCapacity(n)
        for _ in 0..<n {
            m.recipients.append(
                RecipientRecord(
                    address: try readString(text), originalAddress: try readOptionalString(text),
                    outcome: try read(RecipientOutcome.self), dsn: try readOptionalString(text),
                    relay: try readOptionalString(text), reply: try readOptionalString(text),
                    lastAttemptAt: try readOptionalInt64(), attempts: try readInt()))
        }
        return m
    }
}
