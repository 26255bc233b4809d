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
package struct OpenState: Sendable, Codable {
    package var id: OpenStateKey
    /// The correlator's own encoding of the entry (JSON).
    package var body: Data
    /// Time of the entry's last line, for ageing out.
    package var lastSeen: Int64

    package init(id: OpenStateKey, body: Data, lastSeen: Int64) {
        self.id = id
        self.body = body
        self.lastSeen = lastSeen
    }
}
