import GRDB
import GRDBSQLite

/// What a summary groups by (SPEC: `summary --by`).
package enum SummaryGrouping: String, CaseIterable, Sendable {
    case sender
    case senderDomain = "sender-domain"
    case account
    case clientIP = "client-ip"
    case recipientDomain = "recipient-domain"
}

/// Which column a summary is sorted by: every column but `key` largest (or latest) first, then by key.
package enum SummarySort: String, CaseIterable, Sendable {
    case key
    case messages
    case recipients
    case delivered
    case deferred
    case bounced
    case bytes
    case firstSeen = "first-seen"
    case lastSeen = "last-seen"
}

/// A report's sort option, named as on the command line after its output column (`first-seen` → `first_seen`).
protocol ReportSortColumn: RawRepresentable where RawValue == String {}

extension ReportSortColumn {
    /// `ORDER BY` terms: the key ascending; any other column largest (or latest) first, then by key.
    var orderSQL: String {
        rawValue == "key" ? "key" : "\(rawValue.replacingOccurrences(of: "-", with: "_")) DESC, key"
    }
}

extension SummarySort: ReportSortColumn {}

/// One row of a summary: SPEC columns `key,messages,recipients,delivered,deferred,bounced,bytes,first_seen,last_seen`.
package struct SummaryRow: Sendable, Equatable, Codable {
    /// The sender as logged (null sender `<>`), or the domain, account, IP or recipient domain; nil when unknown.
    package var key: String?
    package var messages: Int64
    package var recipients: Int64
    package var delivered: Int64
    package var deferred: Int64
    package var bounced: Int64
    package var bytes: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(
        key: String?, messages: Int64, recipients: Int64, delivered: Int64, deferred: Int64, bounced: Int64,
        bytes: Int64, firstSeen: Int64, lastSeen: Int64
    ) {
        self.key = key
        self.messages = messages
        self.recipients = recipients
        self.delivered = delivered
        self.deferred = deferred
        self.bounced = bounced
        self.bytes = bytes
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    init(_ row: Row, key: String?) {
        self.init(
            key: key, messages: row["messages"], recipients: row["recipients"] ?? 0, delivered: row["delivered"] ?? 0,
            deferred: row["deferred"] ?? 0, bounced: row["bounced"] ?? 0, bytes: row["bytes"] ?? 0,
            firstSeen: row["first_seen"], lastSeen: row["last_seen"])
    }
}

/// `--sender FILTER`: which envelope senders a report covers.
package enum SenderFilter: Sendable, Equatable {
    /// One address, compared without regard to ASCII case.
    case address(String)
    /// Every sender whose domain is exactly this one (not its subdomains).
    case domain(String)
    /// This local part at every domain.
    case localPart(String)
    /// The null sender `<>`.
    case nullSender

    /// Reads `a@b.example` (an address), `b.example` or `@b.example` (a domain), `a` or `a@` (a local part at every
    /// domain; a local part with a dot needs the trailing `@`), `<>` (the null sender). Nil when empty.
    package init?(_ text: String) {
        var t = Substring(text.trimmingCharacters(in: .whitespaces))
        if t == "<>" {
            self = .nullSender
            return
        }
        if t.hasPrefix("<") && t.hasSuffix(">") && t.count > 2 { t = t.dropFirst().dropLast() }
        guard !t.isEmpty, t != "@" else { return nil }
        if t.hasPrefix("@") {
            self = .domain(t.dropFirst().lowercased())
        } else if t.hasSuffix("@") {
            self = .localPart(String(t.dropLast()))
        } else if t.contains("@") {
            self = .address(String(t))
        } else if t.contains(".") {
            self = .domain(t.lowercased())
        } else {
            self = .localPart(String(t))
        }
    }

    /// The SQL condition on a sender column (and a lower-cased sender-domain column, when there is one).
    func condition(sender: String, domain: String?) -> SQLCondition {
        switch self {
        case .nullSender:
            return SQLCondition("\(sender) = ''")
        case .address(let a):
            return SQLCondition("lower(\(sender)) = lower(?)", [a])
        case .domain(let d):
            if let domain { return SQLCondition("\(domain) = ?", [d]) }
            return SQLCondition("\(sender) LIKE ? ESCAPE '\\'", ["%@" + Self.likeEscaped(d)])
        case .localPart(let l):
            return SQLCondition("\(sender) LIKE ? ESCAPE '\\'", [Self.likeEscaped(l) + "@%"])
        }
    }

    private static func likeEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// Which messages (or events) a report covers.
package struct MessageFilter: Sendable {
    /// Received at or after (seconds since the epoch, UTC).
    package var since: Int64?
    /// Received before.
    package var until: Int64?
    /// One relay of several.
    package var host: String?
    package var sender: SenderFilter?

    package init(since: Int64? = nil, until: Int64? = nil, host: String? = nil, sender: SenderFilter? = nil) {
        self.since = since
        self.until = until
        self.host = host
        self.sender = sender
    }
}

/// A piece of a WHERE clause with its arguments.
struct SQLCondition {
    var sql: String
    var arguments: StatementArguments

    init(_ sql: String, _ arguments: StatementArguments = []) {
        self.sql = sql
        self.arguments = arguments
    }

    /// `parts` joined with AND (`1` when there are none).
    static func all(_ parts: [SQLCondition]) -> SQLCondition {
        guard !parts.isEmpty else { return SQLCondition("1") }
        var args: StatementArguments = []
        for p in parts { args += p.arguments }
        return SQLCondition(parts.map(\.sql).joined(separator: " AND "), args)
    }

    /// A time range on `column`: at or after `from`, before `to`.
    static func range(_ column: String, from: Int64?, to: Int64?) -> [SQLCondition] {
        var out: [SQLCondition] = []
        if let from { out.append(SQLCondition("\(column) >= ?", [from])) }
        if let to { out.append(SQLCondition("\(column) < ?", [to])) }
        return out
    }
}

/// A summary row with its drill-downs: `--ids` (queue or message IDs, oldest first) and `--recipients` (a row per
/// recipient address, whose `key` is the address).
package struct SummaryEntry: Sendable, Equatable {
    package var row: SummaryRow
    package var ids: [String]?
    package var recipients: [SummaryEntry]?

    package init(row: SummaryRow, ids: [String]? = nil, recipients: [SummaryEntry]? = nil) {
        self.row = row
        self.ids = ids
        self.recipients = recipients
    }
}

/// Where a summary's totals come from.
package enum SummarySource: Sendable {
    /// The aggregates for whole days and the rows for the partial days at the edges, when the database
    /// has aggregates; otherwise the rows.
    case automatic
    /// The stored rows only (the reference the aggregates are tested against).
    case rows
}

/// Everything `relaysum summary` asks for.
package struct SummaryRequest: Sendable {
    package var grouping: SummaryGrouping
    package var filter: MessageFilter
    package var sort: SummarySort
    package var top: Int?
    package var recipients: Bool
    package var ids: Bool
    package var source: SummarySource

    package init(
        grouping: SummaryGrouping = .sender, filter: MessageFilter = MessageFilter(), sort: SummarySort = .messages,
        top: Int? = nil, recipients: Bool = false, ids: Bool = false, source: SummarySource = .automatic
    ) {
        self.grouping = grouping
        self.filter = filter
        self.sort = sort
        self.top = top
        self.recipients = recipients
        self.ids = ids
        self.source = source
    }
}

/// How a period splits into buckets read from the aggregates, largest spans first (whole days; then, were hours
/// kept, the whole hours at its ends), and what is left at its edges, read from the rows.
struct TimePlan: Equatable {
    struct Range: Equatable {
        var from: Int64?
        var to: Int64?
    }

    struct Buckets: Equatable {
        var span: Int64
        /// Bucket starts `[from, to)`; nil is unbounded.
        var range: Range
    }

    var buckets: [Buckets] = []
    /// Ranges read from the rows.
    var rows: [Range] = []

    /// `spans`: those the table keeps, largest first, each a multiple of the next; none reads only rows. `stale`:
    /// starts of the UTC days whose buckets are not up to date (RelayStore+StaleDays.swift), ascending: read from
    /// the rows.
    init(since: Int64?, until: Int64?, spans: [Int64], stale: [Int64] = []) {
        split(Range(from: since, to: until), spans: spans[...])
        if !stale.isEmpty && !buckets.isEmpty { carve(stale) }
    }

    /// Moves the stale days out of the bucket ranges into the row ranges.
    private mutating func carve(_ stale: [Int64]) {
        var kept: [Buckets] = []
        for b in buckets {
            var from = b.range.from
            let to = b.range.to
            for day in stale {
                let start = max(day, from ?? .min)
                let end = min(day + RelayStore.daySeconds, to ?? .max)
                guard start < end else { continue }
                if from.map({ $0 < start }) ?? true {
                    kept.append(Buckets(span: b.span, range: Range(from: from, to: start)))
                }
                rows.append(Range(from: start, to: end))
                from = end
            }
            if let f = from, let t = to, f >= t { continue }
            kept.append(Buckets(span: b.span, range: Range(from: from, to: to)))
        }
        buckets = kept
    }

    private mutating func split(_ r: Range, spans: ArraySlice<Int64>) {
        guard let span = spans.first else {
            rows.append(r)
            return
        }
        func floor(_ t: Int64) -> Int64 { AggregateDeltas.start(of: t, span: span) }
        let lo = r.from.map { floor($0) == $0 ? $0 : floor($0) + span }
        let hi = r.to.map(floor)
        guard (lo ?? .min) < (hi ?? .max) else {
            split(r, spans: spans.dropFirst())
            return
        }
        buckets.append(Buckets(span: span, range: Range(from: lo, to: hi)))
        if let from = r.from, let lo, from < lo { split(Range(from: from, to: lo), spans: spans.dropFirst()) }
        if let to = r.to, let hi, hi < to { split(Range(from: hi, to: to), spans: spans.dropFirst()) }
    }

    /// Conditions on a bucket table for one set of buckets.
    static func conditions(_ b: Buckets) -> [SQLCondition] {
        [SQLCondition("span = ?", [b.span])] + SQLCondition.range("start", from: b.range.from, to: b.range.to)
    }
}

extension RelayStore {
    /// Per-key totals of accepted messages (relay-generated bounces left out), most messages first.
    package func summary(by grouping: SummaryGrouping, filter: MessageFilter, top: Int?) throws -> [SummaryRow] {
        try summary(SummaryRequest(grouping: grouping, filter: filter, top: top)).map(\.row)
    }

    /// Per-key totals of accepted messages (relay-generated bounces left out), with the drill-downs asked for.
    package func summary(_ request: SummaryRequest) throws -> [SummaryEntry] {
        try query { db in
            let g = request.grouping
            let f = request.filter
            // Recipient-domain buckets are not kept per sender: with a sender filter, that view reads the rows.
            let stored = try hasAggregates(db)
            let aggregates = request.source == .automatic && stored && !(g == .recipientDomain && f.sender != nil)
            let spans = g == .recipientDomain ? Self.recipientDomainSpans : Self.messageSpans
            let plan = TimePlan(
                since: f.since, until: f.until, spans: aggregates ? spans : [],
                stale: aggregates ? try Self.staleDays(db) : [])
            let rows =
                g == .recipientDomain
                ? try Self.recipientDomainSummary(db, plan: plan, request: request)
                : try Self.messageSummary(db, plan: plan, request: request)
            let keys = rows.map(\.key)
            var entries = rows.map { SummaryEntry(row: $0) }
            // Drill-downs read the rows, for the keys shown only.
            let onlyKeys = request.top == nil ? nil : keys
            if request.ids {
                let ids = try Self.ids(db, g, filter: f, keys: onlyKeys)
                for i in entries.indices { entries[i].ids = ids[Key(keys[i])] ?? [] }
            }
            if request.recipients {
                let perKey = try Self.recipientRows(db, request, keys: onlyKeys)
                for i in entries.indices { entries[i].recipients = perKey[Key(keys[i])] ?? [] }
            }
            if g == .sender {
                for i in entries.indices where entries[i].row.key == "" { entries[i].row.key = "<>" }
            }
            return entries
        }
    }

    /// Sender, sender-domain, account or client-IP totals: buckets and rows unioned and grouped in SQL.
    private static func messageSummary(_ db: Database, plan: TimePlan, request: SummaryRequest) throws -> [SummaryRow] {
        let g = request.grouping
        var branches = plan.buckets.map { bucketBranch(g, filter: request.filter, buckets: $0) }
        for range in plan.rows { branches.append(rowBranch(g, filter: request.filter, range: range)) }
        var args: StatementArguments = []
        for b in branches { args += b.arguments }
        let limit = request.top.map { " LIMIT \($0)" } ?? ""
        let sql = """
            SELECT key, sum(messages) AS messages, sum(recipients) AS recipients, sum(delivered) AS delivered,
                sum(deferred) AS deferred, sum(bounced) AS bounced, sum(bytes) AS bytes,
                min(first_seen) AS first_seen, max(last_seen) AS last_seen
            FROM (\(branches.map(\.sql).joined(separator: "\nUNION ALL\n")))
            GROUP BY key ORDER BY \(request.sort.orderSQL)\(limit)
            """
        return try Row.fetchAll(db, sql: sql, arguments: args).map { SummaryRow($0, key: $0["key"]) }
    }

    /// Recipient-domain totals: the day buckets grouped in SQL, the rows of the partial days streamed in message
    /// order and grouped here. A message counts once per domain, so SQL would sort every (message, domain) pair;
    /// the rows of one message come together, so here a few comparisons per recipient do.
    private static func recipientDomainSummary(
        _ db: Database, plan: TimePlan, request: SummaryRequest
    ) throws
        -> [SummaryRow]
    {
        var totals: [Key: SummaryRow] = [:]
        func add(_ r: SummaryRow) {
            let k = Key(r.key)
            guard var t = totals[k] else {
                totals[k] = r
                return
            }
            t.messages += r.messages
            t.recipients += r.recipients
            t.delivered += r.delivered
            t.deferred += r.deferred
            t.bounced += r.bounced
            t.bytes += r.bytes
            t.firstSeen = min(t.firstSeen, r.firstSeen)
            t.lastSeen = max(t.lastSeen, r.lastSeen)
            totals[k] = t
        }
        if !plan.buckets.isEmpty {
            let branches = plan.buckets.map { bucketBranch(.recipientDomain, filter: request.filter, buckets: $0) }
            var args: StatementArguments = []
            for b in branches { args += b.arguments }
            let sql = """
                SELECT key, sum(messages) AS messages, sum(recipients) AS recipients, sum(delivered) AS delivered,
                    sum(deferred) AS deferred, sum(bounced) AS bounced, sum(bytes) AS bytes,
                    min(first_seen) AS first_seen, max(last_seen) AS last_seen
                FROM (\(branches.map(\.sql).joined(separator: "\nUNION ALL\n"))) GROUP BY key
                """
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: args)
            while let row = try cursor.next() { add(SummaryRow(row, key: row["key"])) }
        }
        for range in plan.rows {
            let w = SQLCondition.all(rowConditions(request.filter, range: range))
            let statement = try db.makeStatement(
                sql: """
                    SELECT m.id, r.domain, r.outcome, coalesce(m.size, 0), m.received_at
                    FROM messages m JOIN recipients r ON r.message = m.id WHERE \(w.sql)
                    """)
            try statement.setArguments(w.arguments)
            let st = statement.sqliteStatement
            defer { sqlite3_reset(st) }
            // The current message's recipients by domain.
            var message: Int64?
            var perDomain: [SummaryRow] = []
            func flush() {
                for r in perDomain { add(r) }
                perDomain.removeAll(keepingCapacity: true)
            }
            while true {
                let rc = sqlite3_step(st)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: rc),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let id = sqlite3_column_int64(st, 0)
                if id != message {
                    flush()
                    message = id
                }
                let domain = sqlite3_column_text(st, 1).map {
                    String(
                        decoding: UnsafeBufferPointer(start: $0, count: Int(sqlite3_column_bytes(st, 1))), as: UTF8.self
                    )
                }
                let (delivered, deferred, bounced) = outcomeCounts(st, 2)
                if let i = perDomain.firstIndex(where: { $0.key == domain }) {
                    perDomain[i].recipients += 1
                    perDomain[i].delivered += delivered
                    perDomain[i].deferred += deferred
                    perDomain[i].bounced += bounced
                } else {
                    let t = sqlite3_column_int64(st, 4)
                    perDomain.append(
                        SummaryRow(
                            key: domain, messages: 1, recipients: 1, delivered: delivered, deferred: deferred,
                            bounced: bounced, bytes: sqlite3_column_int64(st, 3), firstSeen: t, lastSeen: t))
                }
            }
            flush()
        }
        // SQLite's order of keys: NULL first, then BINARY (UTF-8 bytes).
        let keyed = totals.values.map { (row: $0, key: $0.key.map { Array($0.utf8) }) }
        let sorted = keyed.sorted { l, r in
            let (a, b) = (l.row, r.row)
            func keyPrecedes() -> Bool {
                guard let ka = l.key else { return r.key != nil }
                guard let kb = r.key else { return false }
                return ka.lexicographicallyPrecedes(kb)
            }
            let (x, y): (Int64, Int64)
            switch request.sort {
            case .key: return keyPrecedes()
            case .messages: (x, y) = (a.messages, b.messages)
            case .recipients: (x, y) = (a.recipients, b.recipients)
            case .delivered: (x, y) = (a.delivered, b.delivered)
            case .deferred: (x, y) = (a.deferred, b.deferred)
            case .bounced: (x, y) = (a.bounced, b.bounced)
            case .bytes: (x, y) = (a.bytes, b.bytes)
            case .firstSeen: (x, y) = (a.firstSeen, b.firstSeen)
            case .lastSeen: (x, y) = (a.lastSeen, b.lastSeen)
            }
            return x != y ? x > y : keyPrecedes()
        }.map(\.row)
        return request.top.map { Array(sorted.prefix($0)) } ?? sorted
    }

    /// Delivered, deferred and bounced as 0 or 1 from an `outcome` column (`RecipientOutcome` raw values).
    private static func outcomeCounts(_ st: OpaquePointer, _ column: Int32) -> (Int64, Int64, Int64) {
        guard let p = sqlite3_column_text(st, column) else { return (0, 0, 0) }
        let text = UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(st, column)))
        switch RecipientOutcome(rawValue: String(decoding: text, as: UTF8.self)) {
        case .delivered: return (1, 0, 0)
        case .deferred: return (0, 1, 0)
        case .bounced: return (0, 0, 1)
        case .pending, nil: return (0, 0, 0)
        }
    }

    /// A grouping key that can be NULL, usable as a dictionary key.
    private struct Key: Hashable {
        var value: String?
        init(_ value: String?) { self.value = value }
    }

    /// The key column of the message rows (`m`) for a grouping.
    private static func rowKey(_ g: SummaryGrouping) -> String {
        switch g {
        case .sender: return "m.sender"
        case .senderDomain: return "m.sender_domain"
        case .account: return "m.account"
        case .clientIP: return "m.client_ip"
        case .recipientDomain: return "r.domain"
        }
    }

    /// Conditions on the message rows `m` for a filter over `range`.
    private static func rowConditions(_ f: MessageFilter, range: TimePlan.Range) -> [SQLCondition] {
        var parts = [SQLCondition("m.origin != 'generated'")]
        parts += SQLCondition.range("m.received_at", from: range.from, to: range.to)
        if let host = f.host { parts.append(SQLCondition("m.host = ?", [host])) }
        if let s = f.sender { parts.append(s.condition(sender: "m.sender", domain: "m.sender_domain")) }
        return parts
    }

    private static func bucketBranch(
        _ g: SummaryGrouping, filter f: MessageFilter, buckets: TimePlan.Buckets
    )
        -> SQLCondition
    {
        var parts = TimePlan.conditions(buckets)
        if let host = f.host { parts.append(SQLCondition("host = ?", [host])) }
        let table: String
        let key: String
        switch g {
        case .recipientDomain:
            table = "recipient_domain_buckets"
            key = "nullif(domain, '')"
        default:
            table = "message_buckets"
            switch g {
            case .sender: key = "sender"
            case .senderDomain: key = "sender_domain"
            case .account: key = "nullif(account, '')"
            default: key = "nullif(client_ip, '')"
            }
            if let s = f.sender { parts.append(s.condition(sender: "sender", domain: "sender_domain")) }
        }
        let w = SQLCondition.all(parts)
        return SQLCondition(
            """
            SELECT \(key) AS key, messages, recipients, delivered, deferred, bounced, bytes, first_seen, last_seen
            FROM \(table) WHERE \(w.sql)
            """, w.arguments)
    }

    private static func rowBranch(_ g: SummaryGrouping, filter f: MessageFilter, range: TimePlan.Range) -> SQLCondition
    {
        let w = SQLCondition.all(rowConditions(f, range: range))
        return SQLCondition(
            """
            SELECT \(rowKey(g)) AS key, 1 AS messages, m.recipients AS recipients, m.delivered AS delivered,
                m.deferred AS deferred, m.bounced AS bounced, coalesce(m.size, 0) AS bytes, m.received_at AS first_seen,
                m.received_at AS last_seen
            FROM messages m WHERE \(w.sql)
            """, w.arguments)
    }

    /// `(key IN (…) OR key IS NULL)` for the keys shown, or nil for all keys.
    private static func keyCondition(_ column: String, _ keys: [String?]?) -> SQLCondition? {
        guard let keys else { return nil }
        let present = keys.compactMap { $0 }
        var parts: [String] = []
        if !present.isEmpty {
            parts.append("\(column) IN (\(Array(repeating: "?", count: present.count).joined(separator: ",")))")
        }
        if keys.contains(where: { $0 == nil }) { parts.append("\(column) IS NULL") }
        if parts.isEmpty { return SQLCondition("0") }
        return SQLCondition("(" + parts.joined(separator: " OR ") + ")", StatementArguments(present))
    }

    /// Queue/message IDs per key, oldest message first.
    private static func ids(
        _ db: Database, _ g: SummaryGrouping, filter f: MessageFilter, keys: [String?]?
    ) throws
        -> [Key: [String]]
    {
        var parts = rowConditions(f, range: TimePlan.Range(from: f.since, to: f.until))
        if let k = keyCondition(rowKey(g), keys) { parts.append(k) }
        let w = SQLCondition.all(parts)
        let sql =
            g == .recipientDomain
            ? """
            SELECT DISTINCT r.domain AS key, m.queue_id AS id, m.received_at, m.id
            FROM messages m JOIN recipients r ON r.message = m.id WHERE \(w.sql) ORDER BY m.received_at, m.id
            """
            : "SELECT \(rowKey(g)) AS key, m.queue_id AS id FROM messages m WHERE \(w.sql) ORDER BY m.received_at, m.id"
        var out: [Key: [String]] = [:]
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: w.arguments)
        while let row = try cursor.next() {
            out[Key(row["key"]), default: []].append(row["id"])
        }
        return out
    }

    /// A row per recipient address under each key (with its IDs when asked for), in the summary's sort order.
    private static func recipientRows(
        _ db: Database, _ request: SummaryRequest, keys: [String?]?
    ) throws
        -> [Key: [SummaryEntry]]
    {
        let g = request.grouping
        var parts = rowConditions(
            request.filter, range: TimePlan.Range(from: request.filter.since, to: request.filter.until))
        if let k = keyCondition(rowKey(g), keys) { parts.append(k) }
        let w = SQLCondition.all(parts)
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT \(rowKey(g)) AS parent, r.address AS key, count(*) AS messages, count(*) AS recipients,
                    sum(r.outcome = 'delivered') AS delivered, sum(r.outcome = 'deferred') AS deferred,
                    sum(r.outcome = 'bounced') AS bounced, sum(coalesce(m.size, 0)) AS bytes,
                    min(m.received_at) AS first_seen, max(m.received_at) AS last_seen
                FROM messages m JOIN recipients r ON r.message = m.id WHERE \(w.sql)
                GROUP BY parent, r.address ORDER BY \(request.sort.orderSQL)
                """, arguments: w.arguments)
        var ids: [Key: [Key: [String]]] = [:]
        if request.ids {
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(rowKey(g)) AS parent, r.address AS key, m.queue_id AS id
                    FROM messages m JOIN recipients r ON r.message = m.id WHERE \(w.sql) ORDER BY m.received_at, m.id
                    """, arguments: w.arguments)
            while let row = try cursor.next() {
                ids[Key(row["parent"]), default: [:]][Key(row["key"]), default: []].append(row["id"])
            }
        }
        var out: [Key: [SummaryEntry]] = [:]
        for row in rows {
            let parent = Key(row["parent"])
            let address: String = row["key"]
            let entryIDs = request.ids ? ids[parent]?[Key(address)] ?? [] : nil
            out[parent, default: []].append(SummaryEntry(row: SummaryRow(row, key: address), ids: entryIDs))
        }
        return out
    }
}
