import Foundation

/// Identifies one open entry of a correlator (a queued message, or a queue ID seen before its message exists).
package struct OpenStateKey: Sendable, Hashable, Codable {
    package var mta: MTA
    package var host: String
    package var key: String

    package init(mta: MTA, host: String, key: String) {
        self.mta = mta
        self.host = host
        self.key = key
    }
}

/// A correlator's saved state for one open entry; the store keeps it as an opaque blob between runs.
package struct OpenState: Sendable {
    package var id: OpenStateKey
    /// Time of the entry's last line, for ageing out.
    package var lastSeen: Int64
    private var encoded: Data?
    private var encoder: (@Sendable () -> [UInt8])?

    package init(id: OpenStateKey, body: Data, lastSeen: Int64) {
        self.id = id
        self.encoded = body
        self.lastSeen = lastSeen
    }

    /// A state encoded by `encode` when it is written, on the store's thread: a batch then holds the entry's values
    /// (shared with its message row) instead of a second, encoded copy of every open message it touches.
    package init(id: OpenStateKey, lastSeen: Int64, encode: @escaping @Sendable () -> [UInt8]) {
        self.id = id
        self.encoder = encode
        self.lastSeen = lastSeen
    }

    /// The correlator's own encoding of the entry (`SnapshotWriter` bytes).
    package var body: Data {
        if let encoded { return encoded }
        return Data(encoder!())
    }

    /// Calls `f` with the encoded bytes, without copying them into a `Data`.
    func withBody<R>(_ f: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let encoded { return try encoded.withUnsafeBytes(f) }
        return try encoder!().withUnsafeBytes(f)
    }
}
