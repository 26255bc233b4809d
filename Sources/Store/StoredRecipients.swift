import GRDB
import GRDBSQLite

/// The recipient rows of a message written earlier (while it was open), read before its rewrite: a recipient whose
/// row would not change is not written again, and the stored rows' domain counts are what the aggregates take out.
///
/// A message open across batches (a list message with deferred recipients) is rewritten at each batch that
/// touches it; usually a few of its recipients changed. Reading a row costs much less than deleting it and
/// inserting it again (no page is changed, so none goes to the WAL).
struct StoredRecipients {
    /// Where one stored row's address and other columns are in `bytes`, and whether the rewrite has its address.
    struct Row {
        var address: Range<Int>
        var columns: Range<Int>
        var visited = false
    }

    /// Every row's address bytes, then its columns after the address, encoded by `RecipientColumns`.
    private(set) var bytes: [UInt8] = []
    /// The stored rows in address order (byte order, as SQLite's BINARY collation sorts the key).
    var rows: [Row] = []
    /// The stored rows per domain and outcome (for the aggregates).
    private(set) var domainCounts: [AggregateDeltas.DomainCount] = []

    static let selectSQL = """
        SELECT address, domain, original_address, outcome, dsn, relay, reply, last_attempt_at, attempts
        FROM recipients WHERE message = ? ORDER BY address
        """

    /// Reads the rows of `st` (`selectSQL`, bound and not yet stepped).
    init(reading st: OpaquePointer, step: (OpaquePointer) throws -> Bool) throws {
        while try step(st) {
            let a = bytes.count
            if let p = sqlite3_column_text(st, 0) {
                bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(st, 0))))
            }
            let start = bytes.count
            for c: Int32 in 1...8 { RecipientColumns.append(column: c, of: st, to: &bytes) }
            rows.append(Row(address: a..<start, columns: start..<bytes.count))
            let domain = Self.text(st, 1) ?? ""
            let outcome = sqlite3_column_text(st, 3).flatMap { RecipientOutcome(rawValue: String(cString: $0)) }
            AggregateDeltas.DomainCount.count(outcome, domain: domain, in: &domainCounts)
        }
    }

    /// The index of the stored row of `address` (binary search over the address bytes).
    func index(of address: String) -> Int? {
        var address = address
        return address.withUTF8 { key -> Int? in
            bytes.withUnsafeBufferPointer { b -> Int? in
                var lo = 0
                var hi = rows.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    let r = rows[mid].address
                    let c = Self.compare(UnsafeBufferPointer(rebasing: b[r]), key)
                    if c == 0 { return mid }
                    if c < 0 { lo = mid + 1 } else { hi = mid }
                }
                return nil
            }
        }
    }

    /// The stored row `i` has exactly these `columns`.
    func matches(_ i: Int, _ columns: [UInt8]) -> Bool {
        let r = rows[i].columns
        return r.count == columns.count && bytes[r].elementsEqual(columns)
    }

    /// Byte order, shorter first on a common prefix (SQLite's BINARY collation).
    private static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
            i += 1
        }
        return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
    }

    private static func text(_ st: OpaquePointer, _ column: Int32) -> String? {
        guard let p = sqlite3_column_text(st, column) else { return nil }
        return String(
            decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(st, column))), as: UTF8.self)
    }
}

/// One encoding of a recipient row's columns after `message` and `address`, for stored rows and records alike: per
/// column a tag (0 null, 1 text, 2 integer), then a text's length and bytes or an integer's 8 bytes.
enum RecipientColumns {
    static func append(column c: Int32, of st: OpaquePointer, to out: inout [UInt8]) {
        switch sqlite3_column_type(st, c) {
        case SQLITE_NULL:
            out.append(0)
        case SQLITE_INTEGER:
            appendInt(sqlite3_column_int64(st, c), to: &out)
        default:
            let n = Int(sqlite3_column_bytes(st, c))
            out.append(1)
            appendLength(n, to: &out)
            if n > 0, let p = sqlite3_column_text(st, c) {
                out.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
            }
        }
    }

    /// `record`'s columns, as `append(column:of:to:)` reads them back once stored.
    static func encode(_ r: RecipientRecord, domain: String?, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        appendText(domain, to: &out)
        appendText(r.originalAddress, to: &out)
        appendText(r.outcome.rawValue, to: &out)
        appendText(r.dsn, to: &out)
        appendText(r.relay, to: &out)
        appendText(r.reply, to: &out)
        if let t = r.lastAttemptAt { appendInt(t, to: &out) } else { out.append(0) }
        appendInt(Int64(r.attempts), to: &out)
    }

    private static func appendText(_ s: String?, to out: inout [UInt8]) {
        guard var s else {
            out.append(0)
            return
        }
        out.append(1)
        s.withUTF8 { b in
            appendLength(b.count, to: &out)
            out.append(contentsOf: b)
        }
    }

    private static func appendLength(_ n: Int, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        out.append(2)
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
}
