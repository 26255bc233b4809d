import Foundation
import GRDB
import GRDBSQLite

/// A bucket's key after its span: a start time and the key columns of its table, in table order.
protocol AggregateKey: Hashable {
    var start: Int64 { get set }
}

/// The changes one batch makes to the aggregates (`RelayStore+Aggregates.swift`), gathered in memory per bucket of
/// each table's smallest span and written once per bucket at the end of the batch: most batches touch each bucket
/// many times.
struct AggregateDeltas {
    struct MessageKey: AggregateKey {
        var start: Int64
        var host: String
        var sender: String
        /// `''` when unknown.
        var account: String
        /// `''` when unknown.
        var clientIP: String

        /// Equal as the table's key is: byte for byte (Swift's `==` would take canonically equivalent spellings of a
        /// sender for one, and disagree with `hash(into:)`, which hashes bytes).
        static func == (a: MessageKey, b: MessageKey) -> Bool {
            a.start == b.start && sameBytes(a.sender, b.sender) && sameBytes(a.account, b.account)
                && sameBytes(a.clientIP, b.clientIP) && sameBytes(a.host, b.host)
        }

        /// The strings by `ByteStringTable.wordHash`, eight bytes at a time: Swift's SipHash of four strings was a
        /// tenth of the Swift side of the store thread on Exim logs (a bucket is looked up for every message).
        func hash(into hasher: inout Hasher) {
            var h = UInt64(bitPattern: start)
            h = (h &* 0x9E37_79B9_7F4A_7C15) ^ ByteStringTable.wordHash(host)
            h = (h &* 0x9E37_79B9_7F4A_7C15) ^ ByteStringTable.wordHash(sender)
            h = (h &* 0x9E37_79B9_7F4A_7C15) ^ ByteStringTable.wordHash(account)
            h = (h &* 0x9E37_79B9_7F4A_7C15) ^ ByteStringTable.wordHash(clientIP)
            hasher.combine(h)
        }
    }

    /// Host and domain by their numbers in `hostNames` and `domainNames`.
    struct DomainKey: AggregateKey {
        var start: Int64
        var host: Int32
        /// `''` for a recipient without a domain.
        var domain: Int32
    }

    /// Summed changes of one bucket.
    struct Change {
        var messages: Int64 = 0
        var recipients: Int64 = 0
        var delivered: Int64 = 0
        var deferred: Int64 = 0
        var bounced: Int64 = 0
        var bytes: Int64 = 0
        /// Earliest and latest time added (`.max`/`.min` when nothing was).
        var firstAdded = Int64.max
        var lastAdded = Int64.min
        /// Times taken out, less those put back afterwards: a minimum or maximum cannot be subtracted, so a bucket
        /// that lost a row at its first or last time has them computed again. Nil until a removal.
        var removedTimes: [Int64: Int]?

        mutating func add(_ v: Values, at time: Int64) {
            messages += 1
            recipients += v.recipients
            delivered += v.delivered
            deferred += v.deferred
            bounced += v.bounced
            bytes += v.bytes
            if time < firstAdded { firstAdded = time }
            if time > lastAdded { lastAdded = time }
            if let n = removedTimes?[time] {
                if n == 1 {
                    removedTimes?[time] = nil
                    // Every time taken out was put back: the stored first and last times stand.
                    if removedTimes?.isEmpty == true { removedTimes = nil }
                } else {
                    removedTimes?[time] = n - 1
                }
            }
        }

        mutating func remove(_ v: Values, at time: Int64) {
            messages -= 1
            recipients -= v.recipients
            delivered -= v.delivered
            deferred -= v.deferred
            bounced -= v.bounced
            bytes -= v.bytes
            var removed = removedTimes ?? [:]
            removedTimes = nil  // so the dictionary is not copied
            removed[time, default: 0] += 1
            removedTimes = removed
        }

        /// Adds another bucket's changes (a smaller span's into a larger one's).
        mutating func merge(_ c: Change) {
            messages += c.messages
            recipients += c.recipients
            delivered += c.delivered
            deferred += c.deferred
            bounced += c.bounced
            bytes += c.bytes
            firstAdded = min(firstAdded, c.firstAdded)
            lastAdded = max(lastAdded, c.lastAdded)
            if let r = c.removedTimes {
                var removed = removedTimes ?? [:]
                removedTimes = nil
                removed.merge(r, uniquingKeysWith: +)
                removedTimes = removed
            }
        }

        var isPureAddition: Bool { removedTimes == nil }

        /// Changes nothing stored: as many messages put back as taken out, at the same times, with the same totals
        /// (a rewritten open message whose recipients in this bucket did not change).
        var isEmpty: Bool {
            messages == 0 && recipients == 0 && delivered == 0 && deferred == 0 && bounced == 0 && bytes == 0
                && removedTimes == nil
        }

        /// A time taken out (and not put back) was at or beyond the bucket's stored first or last time.
        func lostAnEdge(first: Int64, last: Int64) -> Bool {
            guard let removedTimes else { return false }
            return removedTimes.keys.contains { $0 <= first || $0 >= last }
        }
    }

    /// What one message adds to one bucket besides the message itself.
    struct Values {
        var recipients: Int64
        var delivered: Int64
        var deferred: Int64
        var bounced: Int64
        var bytes: Int64
    }

    /// Per recipient domain (its number in `domainNames`) of one message: recipients by outcome.
    struct DomainTally: OutcomeCounting {
        var domain: Int32
        var recipients: Int64 = 0
        var delivered: Int64 = 0
        var deferred: Int64 = 0
        var bounced: Int64 = 0
    }

    /// Per recipient domain of one stored message: recipients by outcome.
    struct DomainCount: OutcomeCounting {
        var domain: String
        var recipients: Int64 = 0
        var delivered: Int64 = 0
        var deferred: Int64 = 0
        var bounced: Int64 = 0

        /// Counts a stored recipient of `domain` into `counts` (domains compared as bytes, as the table groups them).
        static func count(_ outcome: RecipientOutcome?, domain: String, in counts: inout [DomainCount]) {
            if let i = counts.firstIndex(where: { sameBytes($0.domain, domain) }) {
                counts[i].count(outcome)
            } else {
                var c = DomainCount(domain: domain)
                c.count(outcome)
                counts.append(c)
            }
        }
    }

    /// The changes of the buckets starting in one UTC day (the spans are at most a day, `RelayStore.messageSpans`).
    struct Day {
        var start: Int64
        /// Changes per message bucket of the smallest span.
        var messages: [MessageKey: Change]
        /// Changes per recipient-domain bucket of the smallest span.
        var domains: [DomainKey: Change]
    }

    /// The changes by day, a day's dropped at once when it is written (removed from one dictionary one by one, each
    /// key was found and the entries after it moved, hashed again: a tenth of the cost of writing the buckets).
    /// Logs come in time order: two or three days at a time.
    private(set) var byDay: [Day] = []
    /// Where the last message's day is in `byDay`.
    private var lastDayIndex = -1
    /// Room reserved in the first day's dictionaries (`init`).
    private var reserve: Int
    /// Every relay name seen, by number.
    private(set) var hostNames: [String] = []
    /// Recipient domains by number (`''` stands for a recipient without a domain).
    private(set) var domainNames = ByteStringTable()
    /// The number of `''` in `domainNames`.
    let noDomain: Int32
    /// Start of every UTC hour whose accepted messages changed, for the account activity (taken by each write).
    private(set) var dirtyHours: Set<Int64> = []
    /// How many of `hostNames` are written to `relay_hosts`.
    var hostsWritten = 0
    /// Start of every UTC day whose buckets change.
    var days: Set<Int64> { Set(byDay.map(\.start)) }
    private var lastHost: String?
    private var lastHostID: Int32 = -1
    /// `domainCounts`' scratch: per domain number, 1 + its index in the message's tallies, or 0.
    private var tallyIndex: [Int32] = []
    /// `domainCounts`' scratch for messages of many recipients: a hash table of the addresses seen.
    private var seenSlots: [Int32] = []
    private var seenHashes: [UInt64] = []

    /// The smallest span of each table, in which changes are gathered.
    static let messageSpan = RelayStore.messageSpans.last!
    static let domainSpan = RelayStore.recipientDomainSpans.last!

    /// Room for the buckets of about `messages` messages, so the dictionaries seldom grow (and rehash) on the way: a
    /// batch of Postfix traffic touches about one message bucket per four messages and one recipient-domain bucket
    /// per message (more room is memory held while the batch is written, 1.6 MiB in a batch of 3,300 messages).
    init(messages count: Int = 0) {
        reserve = count
        noDomain = domainNames.id(of: UnsafeBufferPointer(start: nil, count: 0))
    }

    /// The buckets with changes.
    var bucketCount: Int { byDay.reduce(0) { $0 + $1.messages.count + $1.domains.count } }

    /// Drops the changes of the days before `day` (written by the caller).
    mutating func removeDays(before day: Int64) {
        byDay.removeAll { $0.start < day }
        lastDayIndex = -1
    }

    /// The index in `byDay` of the day starting at `day`, added if new.
    private mutating func dayIndex(_ day: Int64) -> Int {
        if lastDayIndex >= 0 && byDay[lastDayIndex].start == day { return lastDayIndex }
        if let i = byDay.firstIndex(where: { $0.start == day }) {
            lastDayIndex = i
        } else {
            // Room for the first day only, as the one dictionary had: room reserved for every day is memory held
            // with the others' (2 MiB more on the 200 MB benchmark logs), so later days grow as they go (their
            // keys hashed again on the way: 1 % of the writer's work on the Exim slice).
            byDay.append(
                Day(
                    start: day, messages: Dictionary(minimumCapacity: reserve / 4),
                    domains: Dictionary(minimumCapacity: reserve)))
            reserve = 0
            lastDayIndex = byDay.count - 1
        }
        return lastDayIndex
    }

    /// The hours gathered since the last call.
    mutating func takeDirtyHours() -> Set<Int64> {
        defer { dirtyHours = [] }
        return dirtyHours
    }

    /// The start of the `span` that `time` falls in.
    static func start(of time: Int64, span: Int64) -> Int64 {
        time - ((time % span) + span) % span
    }

    /// The number of relay `host`.
    @discardableResult mutating func saw(host: String) -> Int32 {
        if host != lastHost {
            if let i = hostNames.firstIndex(of: host) {
                lastHostID = Int32(i)
            } else {
                lastHostID = Int32(hostNames.count)
                hostNames.append(host)
            }
            lastHost = host
        }
        return lastHostID
    }

    /// The number of the domain of `address` (`MessageRecord.domain(of:)`), or -1 when it has none.
    mutating func domainID(of address: String) -> Int32 {
        var address = address
        return address.withUTF8 { bytes -> Int32 in
            guard let (domain, lower) = MessageRecord.domainPart(of: bytes) else { return -1 }
            if !lower { return domainNames.id(of: domain) }
            return domainNames.id(of: String(decoding: domain, as: UTF8.self).lowercased())
        }
    }

    /// `counts` with their domains numbered.
    mutating func tallies(_ counts: [DomainCount]) -> [DomainTally] {
        counts.map {
            DomainTally(
                domain: domainNames.id(of: $0.domain), recipients: $0.recipients, delivered: $0.delivered,
                deferred: $0.deferred, bounced: $0.bounced)
        }
    }

    /// Adds (`sign` 1) or takes out (`sign` -1) one accepted message and its recipient domains.
    mutating func apply(
        sign: Int, host: String, sender: String, account: String?, clientIP: String?, receivedAt: Int64,
        values: Values, domainCounts: [DomainTally]
    ) {
        let hostID = saw(host: host)
        let key = MessageKey(
            start: Self.start(of: receivedAt, span: Self.messageSpan), host: host, sender: sender,
            account: account ?? "", clientIP: clientIP ?? "")
        let domainStart = Self.start(of: receivedAt, span: Self.domainSpan)
        dirtyHours.insert(Self.start(of: receivedAt, span: RelayStore.hourSeconds))
        let d = dayIndex(Self.start(of: receivedAt, span: RelayStore.daySeconds))
        if sign > 0 {
            byDay[d].messages[key, default: Change()].add(values, at: receivedAt)
        } else {
            byDay[d].messages[key, default: Change()].remove(values, at: receivedAt)
        }
        for t in domainCounts {
            let v = Values(
                recipients: t.recipients, delivered: t.delivered, deferred: t.deferred, bounced: t.bounced,
                bytes: values.bytes)
            let dk = DomainKey(start: domainStart, host: hostID, domain: t.domain)
            if sign > 0 {
                byDay[d].domains[dk, default: Change()].add(v, at: receivedAt)
            } else {
                byDay[d].domains[dk, default: Change()].remove(v, at: receivedAt)
            }
        }
    }

    /// Ranks the domains numbered since the last call, for `sortInKeyOrder`.
    mutating func rankDomains() { domainNames.rankAdded() }

    /// Sorts `indices` of `changes` in the table's key order (span, start, host, domain) comparing numbers only: the
    /// hosts and domains they name are ranked by their bytes, as the table orders them (`rankDomains()` first).
    func sortInKeyOrder(_ indices: inout [Dictionary<DomainKey, Change>.Index], of changes: [DomainKey: Change]) {
        // Ranked among those named, by their bytes: few hosts, compared as strings.
        func ranks(_ ids: [Int32], count: Int, _ precedes: (Int32, Int32) -> Bool) -> [Int32] {
            var rank = [Int32](repeating: -1, count: count)
            var used: [Int32] = []
            for id in ids where rank[Int(id)] < 0 {
                rank[Int(id)] = 0
                used.append(id)
            }
            used.sort(by: precedes)
            for (r, id) in used.enumerated() { rank[Int(id)] = Int32(r) }
            return rank
        }
        let keys = indices.map { changes.keys[$0] }
        let hosts = hostNames
        let hostRank = ranks(keys.map(\.host), count: hosts.count) {
            byteOrder(hosts[Int($0)], hosts[Int($1)]) < 0
        }
        // Ranked in the table of all (`rankDomains()`).
        let domainRank = domainNames.rank
        var sorted = keys.indices.map { i in
            (start: keys[i].start, host: hostRank[Int(keys[i].host)], domain: domainRank[Int(keys[i].domain)], at: i)
        }
        sorted.sort { ($0.start, $0.host, $0.domain) < ($1.start, $1.host, $1.domain) }
        indices = sorted.map { indices[$0.at] }
    }

    /// Changes folded into the buckets of a larger span.
    static func folded<Key: AggregateKey>(_ changes: [Key: Change], into span: Int64) -> [Key: Change] {
        var out: [Key: Change] = [:]
        out.reserveCapacity(changes.count)
        for (k, c) in changes {
            var larger = k
            larger.start = start(of: k.start, span: span)
            out[larger, default: Change()].merge(c)
        }
        return out
    }

    /// Recipients grouped by domain, as the `recipients` table will hold them: `domains[i]` is the number of the
    /// domain of `recipients[i]` (-1: none) and a repeated address keeps its last row (the table's key is (message,
    /// address)). Written into `out`, emptied first.
    mutating func domainCounts(_ recipients: [RecipientRecord], domains: [Int32], into out: inout [DomainTally]) {
        out.removeAll(keepingCapacity: true)
        if tallyIndex.count < domainNames.strings.count {
            tallyIndex.append(contentsOf: repeatElement(0, count: domainNames.strings.count - tallyIndex.count))
        }
        let n = recipients.count
        // Open addressing over the first `size` of `seenSlots` (recipient index + 1, or 0), by a hash of the bytes.
        var size = 0
        if n > 8 {
            size = 16
            while size < 2 * n { size *= 2 }
            if seenSlots.count < size { seenSlots = [Int32](repeating: 0, count: size) }
            if seenHashes.count < n { seenHashes = [UInt64](repeating: 0, count: n) }
        }
        let mask = size - 1
        for i in recipients.indices.reversed() {
            if n <= 8 {
                // Few recipients: linear searches beat hashing.
                let address = recipients[i].address
                if i + 1 < n, recipients[(i + 1)...].contains(where: { sameBytes($0.address, address) }) { continue }
            } else {
                let h = ByteStringTable.wordHash(recipients[i].address)
                var s = Int(truncatingIfNeeded: h) & mask
                var repeated = false
                while seenSlots[s] != 0 {
                    let j = Int(seenSlots[s]) - 1
                    if seenHashes[j] == h && sameBytes(recipients[j].address, recipients[i].address) {
                        repeated = true
                        break
                    }
                    s = (s + 1) & mask
                }
                if repeated { continue }
                seenSlots[s] = Int32(i + 1)
                seenHashes[i] = h
            }
            let domain = domains[i] < 0 ? noDomain : domains[i]
            let j = Int(tallyIndex[Int(domain)])
            if j > 0 {
                out[j - 1].count(recipients[i].outcome)
            } else {
                out.append(DomainTally(domain: domain))
                out[out.count - 1].count(recipients[i].outcome)
                tallyIndex[Int(domain)] = Int32(out.count)
            }
        }
        for t in out { tallyIndex[Int(t.domain)] = 0 }
        for i in 0..<size { seenSlots[i] = 0 }
    }
}

/// One aggregate table as the writer sees it.
struct BucketTable {
    var name: String
    /// Key columns after `span` and `start`.
    var keyColumns: [String]
    /// Other columns written with a new bucket (a function of the key).
    var valueColumns: [String]
    /// The spans kept, largest first, each a multiple of the next.
    var spans: [Int64]
    /// The conditions, besides the time, on the messages `m` of a bucket, with `?3…` the key columns.
    var rowsMatch: String

    static let messages = BucketTable(
        name: "message_buckets", keyColumns: ["host", "sender", "account", "client_ip"],
        valueColumns: ["sender_domain"], spans: RelayStore.messageSpans,
        rowsMatch: """
            m.host = ?3 AND m.sender = ?4 AND coalesce(m.account, '') = ?5 AND coalesce(m.client_ip, '') = ?6
                AND m.origin != 'generated'
            """)

    static let domains = BucketTable(
        name: "recipient_domain_buckets", keyColumns: ["host", "domain"], valueColumns: [],
        spans: RelayStore.recipientDomainSpans,
        rowsMatch: """
            m.host = ?3 AND m.origin != 'generated'
                AND EXISTS (SELECT 1 FROM recipients r WHERE r.message = m.id AND coalesce(r.domain, '') = ?4)
            """)

    var smallestSpan: Int64 { spans.last! }

    private var keyMatch: String {
        (["span = ?1", "start = ?2"] + keyColumns.enumerated().map { "\($1) = ?\($0 + 3)" })
            .joined(separator: " AND ")
    }

    /// Parameters of one bucket's row.
    var columnCount: Int { 2 + keyColumns.count + valueColumns.count + Self.totals.count }

    /// Upserts `rows` buckets, each a row of `columnCount` parameters (`OR FAIL`: see `BulkWriter.newMessagesSQL`).
    func upsertSQL(rows: Int) -> String {
        let columns = ["span", "start"] + keyColumns + valueColumns + Self.totals
        let conflict = (["span", "start"] + keyColumns).joined(separator: ", ")
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        return """
            INSERT OR FAIL INTO \(name) (\(columns.joined(separator: ", ")))
            VALUES \(Array(repeating: row, count: rows).joined(separator: ","))
            ON CONFLICT (\(conflict)) DO UPDATE SET
                messages = messages + excluded.messages, recipients = recipients + excluded.recipients,
                delivered = delivered + excluded.delivered, deferred = deferred + excluded.deferred,
                bounced = bounced + excluded.bounced, bytes = bytes + excluded.bytes,
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """
    }

    var deleteSQL: String { "DELETE FROM \(name) WHERE \(keyMatch)" }

    /// Sets a bucket's first and last time again. For the smallest span, from the rows: the bucket's messages are
    /// walked from either end of its time (`messages_received_at`), which stops at once when, as usual, the message
    /// taken out was a recent one. For a larger span, from its buckets of the next smaller span, looked up by key.
    func recomputeSQL(span: Int64) -> String {
        let edges: String
        if let i = spans.firstIndex(of: span), i + 1 < spans.count {
            let smaller = spans[i + 1]
            let starts = (0..<(span / smaller)).map { "?2 + \($0 * smaller)" }.joined(separator: ", ")
            let keys = keyColumns.enumerated().map { "\($1) = ?\($0 + 3)" }.joined(separator: " AND ")
            edges = """
                SELECT min(first_seen), max(last_seen) FROM \(name)
                WHERE span = \(smaller) AND start IN (\(starts)) AND \(keys)
                """
        } else {
            func edge(_ order: String) -> String {
                """
                SELECT m.received_at FROM messages m
                WHERE m.received_at >= ?2 AND m.received_at < ?2 + \(span) AND \(rowsMatch)
                ORDER BY m.received_at \(order) LIMIT 1
                """
            }
            edges = "SELECT (\(edge("ASC"))), (\(edge("DESC")))"
        }
        return "UPDATE \(name) SET (first_seen, last_seen) = (\(edges)) WHERE \(keyMatch)"
    }

    static let totals = [
        "messages", "recipients", "delivered", "deferred", "bounced", "bytes", "first_seen", "last_seen",
    ]
}

extension BulkWriter {
    /// Takes the stored message `rowID` (if any) out of the aggregates, before its row is rewritten or deleted.
    /// `storedDomainCounts`: the stored recipients' counts when the caller has read them (nil: read them here).
    func subtractStoredMessage(
        _ rowID: Int64, storedDomainCounts: [AggregateDeltas.DomainCount]?, from deltas: inout AggregateDeltas
    ) throws {
        let message = try db.cachedStatement(
            sql: """
                SELECT host, sender, account, client_ip, origin = 'generated', received_at, coalesce(size, 0),
                    recipients, delivered, deferred, bounced FROM messages WHERE id = ?
                """
        ).sqliteStatement
        defer { sqlite3_reset(message) }
        bind(message, 1, rowID)
        guard try stepRow(message), sqlite3_column_int64(message, 4) == 0 else { return }
        let counts = deltas.tallies(try storedDomainCounts ?? storedRecipientCounts(rowID))
        deltas.apply(
            sign: -1, host: Self.text(message, 0) ?? "", sender: Self.text(message, 1) ?? "",
            account: Self.text(message, 2), clientIP: Self.text(message, 3),
            receivedAt: sqlite3_column_int64(message, 5),
            values: AggregateDeltas.Values(
                recipients: sqlite3_column_int64(message, 7), delivered: sqlite3_column_int64(message, 8),
                deferred: sqlite3_column_int64(message, 9), bounced: sqlite3_column_int64(message, 10),
                bytes: sqlite3_column_int64(message, 6)),
            domainCounts: counts)
    }

    private func storedRecipientCounts(_ rowID: Int64) throws -> [AggregateDeltas.DomainCount] {
        let recipients = try db.cachedStatement(
            sql: "SELECT coalesce(domain, ''), outcome FROM recipients WHERE message = ?"
        ).sqliteStatement
        defer { sqlite3_reset(recipients) }
        bind(recipients, 1, rowID)
        var counts: [AggregateDeltas.DomainCount] = []
        while try stepRow(recipients) {
            let domain = Self.text(recipients, 0) ?? ""
            let outcome = Self.text(recipients, 1).flatMap(RecipientOutcome.init(rawValue:))
            AggregateDeltas.DomainCount.count(outcome, domain: domain, in: &counts)
        }
        return counts
    }

    /// Steps a query: true with a row, false at its end.
    func stepRow(_ st: OpaquePointer) throws -> Bool {
        switch sqlite3_step(st) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc:
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    private static func text(_ st: OpaquePointer, _ column: Int32) -> String? {
        guard let p = sqlite3_column_text(st, column) else { return nil }
        return String(
            decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(st, column))), as: UTF8.self)
    }

    /// Writes the gathered changes, smallest spans first, then the larger buckets made of them: one upsert per
    /// bucket; a bucket left with no message is deleted, and one that lost a row at its first or last time gets them
    /// again (from the rows, written before this in the same transaction, or from its smaller buckets).
    /// `including`: whether the buckets starting at a time are written (all by default).
    func applyAggregates(_ deltas: inout AggregateDeltas, including: (Int64) -> Bool = { _ in true }) throws {
        deltas.rankDomains()
        for day in deltas.byDay { try applyAggregates(day, of: deltas, including: including) }
    }

    private func applyAggregates(
        _ day: AggregateDeltas.Day, of deltas: AggregateDeltas, including: (Int64) -> Bool
    ) throws {
        for span in BucketTable.messages.spans.reversed() {
            let changes =
                span == BucketTable.messages.smallestSpan
                ? day.messages : AggregateDeltas.folded(day.messages, into: span)
            try applyBuckets(
                changes, span: span, table: .messages, including: including,
                // Left in the dictionary's order: comparing their four strings cost three times what the order
                // saved (65 M instructions against 20 M on 28 k Exim messages).
                order: { _ in },
                key: { k, st, i in
                    self.bind(st, i, k.host)
                    self.bind(st, i + 1, k.sender)
                    self.bind(st, i + 2, k.account)
                    self.bind(st, i + 3, k.clientIP)
                }, values: { k, st, i in self.bindDomain(st, i, of: k.sender) })
        }
        for span in BucketTable.domains.spans.reversed() {
            let changes =
                span == BucketTable.domains.smallestSpan
                ? day.domains : AggregateDeltas.folded(day.domains, into: span)
            try applyBuckets(
                changes, span: span, table: .domains, including: including,
                order: { deltas.sortInKeyOrder(&$0, of: changes) },
                key: { k, st, i in
                    self.bind(st, i, deltas.hostNames[Int(k.host)])
                    self.bind(st, i + 1, deltas.domainNames.strings[Int(k.domain)])
                }, values: { _, _, _ in })
        }
    }

    /// Writes what every batch writes at once, whether or not its bucket changes wait: the hours whose account
    /// activity is rebuilt after the ingest (RelayStore+Activity.swift), and the relay names seen.
    func applyHoursAndHosts(_ deltas: inout AggregateDeltas) throws {
        let hours = deltas.takeDirtyHours()
        if !hours.isEmpty {
            let s = try db.cachedStatement(sql: "INSERT OR IGNORE INTO activity_dirty_hours (hour) VALUES (?)")
            for h in hours { try run(s) { bind($0, 1, h) } }
        }
        if deltas.hostsWritten < deltas.hostNames.count {
            let s = try db.cachedStatement(sql: "INSERT OR IGNORE INTO relay_hosts (host) VALUES (?)")
            for h in deltas.hostNames[deltas.hostsWritten...] { try run(s) { bind($0, 1, h) } }
            deltas.hostsWritten = deltas.hostNames.count
        }
    }

    /// Buckets added to per multi-row upsert (as many as messages per INSERT, BulkWriter.swift).
    static let bucketsPerStatement = 16

    /// Writes one span's changes. Buckets only added to, nearly all of them, go in key order, many to a statement:
    /// a new day's buckets then go after the table's last, each found on the page the one before it went to, where
    /// in the dictionary's order each was searched from the root (on wide text keys) by an upsert of its own.
    /// `order` sorts the additions (indices in `changes`) in the table's key order, or leaves them.
    private func applyBuckets<Key: AggregateKey>(
        _ changes: [Key: AggregateDeltas.Change], span: Int64, table: BucketTable, including: (Int64) -> Bool,
        order: (inout [Dictionary<Key, AggregateDeltas.Change>.Index]) -> Void,
        key bindKey: (Key, OpaquePointer, Int32) -> Void,
        values: (Key, OpaquePointer, Int32) -> Void
    ) throws {
        guard !changes.isEmpty else { return }
        let columns = Int32(table.columnCount)
        let valuesAt = Int32(3 + table.keyColumns.count)
        let totalsAt = valuesAt + Int32(table.valueColumns.count)
        // Bound one by one through the C API, without arrays: this runs for every bucket.
        func bindRow(_ st: OpaquePointer, _ at: Int32, _ k: Key, _ c: AggregateDeltas.Change) {
            bind(st, at + 1, span)
            bind(st, at + 2, k.start)
            bindKey(k, st, at + 3)
            values(k, st, at + valuesAt)
            bind(st, at + totalsAt, c.messages)
            bind(st, at + totalsAt + 1, c.recipients)
            bind(st, at + totalsAt + 2, c.delivered)
            bind(st, at + totalsAt + 3, c.deferred)
            bind(st, at + totalsAt + 4, c.bounced)
            bind(st, at + totalsAt + 5, c.bytes)
            bind(st, at + totalsAt + 6, c.firstAdded)
            bind(st, at + totalsAt + 7, c.lastAdded)
        }
        var additions = changes.indices.filter { i in
            let (k, c) = changes[i]
            return c.isPureAddition && !c.isEmpty && including(k.start)
        }
        order(&additions)
        try insertRows(
            additions, perStatement: Self.bucketsPerStatement, sql: { table.upsertSQL(rows: $0) }, columns: columns
        ) { st, at, i in
            let (k, c) = changes[i]
            bindRow(st, at, k, c)
        }
        // Buckets that lost a message, one by one: each is told its messages left and its stored times.
        var upsertReturning: OpaquePointer?
        for (k, c) in changes where !c.isPureAddition && !c.isEmpty && including(k.start) {
            let st: OpaquePointer
            if let upsertReturning {
                st = upsertReturning
            } else {
                st = try db.cachedStatement(
                    sql: table.upsertSQL(rows: 1) + " RETURNING messages, first_seen, last_seen"
                ).sqliteStatement
                upsertReturning = st
            }
            bindRow(st, 0, k, c)
            guard let (messages, first, last) = try step(st) else { continue }
            if messages <= 0 {
                try run(try db.cachedStatement(sql: table.deleteSQL)) { st in
                    bind(st, 1, span)
                    bind(st, 2, k.start)
                    bindKey(k, st, 3)
                }
            } else if c.lostAnEdge(first: first, last: last) {
                try run(try db.cachedStatement(sql: table.recomputeSQL(span: span))) { st in
                    bind(st, 1, span)
                    bind(st, 2, k.start)
                    bindKey(k, st, 3)
                }
            }
        }
    }

    /// Runs a bound statement to its end; the first row's three integers, if it returned one.
    private func step(_ st: OpaquePointer) throws -> (Int64, Int64, Int64)? {
        defer {
            sqlite3_reset(st)
            sqlite3_clear_bindings(st)
            arena.reset()
        }
        var rc = sqlite3_step(st)
        var result: (Int64, Int64, Int64)?
        if rc == SQLITE_ROW {
            result = (sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2))
            rc = sqlite3_step(st)
        }
        guard rc == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        return result
    }
}

/// Recipients by outcome: a pending recipient counts among the recipients only.
protocol OutcomeCounting {
    var recipients: Int64 { get set }
    var delivered: Int64 { get set }
    var deferred: Int64 { get set }
    var bounced: Int64 { get set }
}

/// The recipients of one message by outcome.
struct OutcomeCounts: OutcomeCounting {
    var recipients: Int64 = 0
    var delivered: Int64 = 0
    var deferred: Int64 = 0
    var bounced: Int64 = 0

    init(_ list: [RecipientRecord]) {
        for r in list { count(r.outcome) }
    }
}

extension OutcomeCounting {
    mutating func count(_ outcome: RecipientOutcome?) {
        recipients += 1
        switch outcome {
        case .delivered: delivered += 1
        case .deferred: deferred += 1
        case .bounced: bounced += 1
        case .pending, nil: break
        }
    }
}

/// Equal as bytes, as SQLite's BINARY collation and the batch's domain numbering compare: Swift's `==` also takes
/// canonically equivalent spellings (NFC `é`, NFD `e` + U+0301) for one, which SQLite stores and groups apart.
@inline(__always) func sameBytes(_ a: String, _ b: String) -> Bool {
    let n = a.utf8.count
    guard n == b.utf8.count else { return false }
    if n == 0 { return true }
    let equal = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) == 0 }
    }
    if let equal, let equal { return equal }
    return a.utf8.elementsEqual(b.utf8)
}

/// The order of two strings' bytes, as SQLite's BINARY collation sorts them (negative: `a` first).
func byteOrder(_ a: String, _ b: String) -> Int {
    var a = a
    var b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in
            let n = min(pa.count, pb.count)
            if n > 0 {
                let c = memcmp(pa.baseAddress!, pb.baseAddress!, n)
                if c != 0 { return Int(c) }
            }
            return pa.count - pb.count
        }
    }
}
