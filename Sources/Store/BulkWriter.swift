import Foundation
import GRDB
import GRDBSQLite

/// Binds rows through SQLite's C API on GRDB's connection: GRDB's per-row statement API runs at half the speed
/// (../shared/PERFORMANCE.md). Statements come from GRDB's statement cache, so GRDB finalizes them.
struct BulkWriter {
    let db: Database
    /// Holds the text bound to the statement being run (`SQLITE_STATIC`): SQLite would otherwise copy every string
    /// into a buffer of its own, allocated and freed at each bind.
    let arena: BindArena

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Writes `batch` in one transaction (begun and committed by the caller), releasing its open states and its open
    /// messages' recipients as they are written.
    ///
    /// Open states and open messages hold the values of the correlators' open messages (their recipient arrays,
    /// shared until the correlator changes them again): released as soon as each is written, a message changed again
    /// while the rest of the batch is written is changed in place instead of copied, so the batch and the correlators
    /// do not hold two copies of every busy open message for the whole write. Open states go first for that reason (a
    /// message's values are shared with its open state); the tables are apart, so the order changes nothing stored.
    /// Finished messages stay in `batch`, to be freed by the caller.
    ///
    /// The aggregates' changes are gathered into `deltas`, for the caller to write (RelayStore+StaleDays.swift); the
    /// hours of account activity to rebuild and the relay names are written here.
    func write(_ batch: inout WriteBatch, into deltas: inout AggregateDeltas) throws {
        if !batch.deletedMessageRowIDs.isEmpty {
            let delMessage = try db.cachedStatement(sql: "DELETE FROM messages WHERE id = ?")
            let delRecipients = try db.cachedStatement(sql: "DELETE FROM recipients WHERE message = ?")
            for id in batch.deletedMessageRowIDs {
                try subtractStoredMessage(id, storedDomainCounts: nil, from: &deltas)
                try run(delRecipients) { bind($0, 1, id) }
                try run(delMessage) { bind($0, 1, id) }
            }
        }
        if !batch.closedStates.isEmpty {
            let s = try db.cachedStatement(sql: "DELETE FROM open_states WHERE mta = ? AND host = ? AND key = ?")
            for k in batch.closedStates {
                try run(s) { st in
                    bind(st, 1, k.mta.rawValue)
                    bind(st, 2, k.host)
                    bind(st, 3, k.key)
                }
            }
        }
        if !batch.openStates.isEmpty {
            let s = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO open_states (mta, host, key, body, last_seen) VALUES (?,?,?,?,?)")
            var states = batch.openStates
            batch.openStates = []
            for i in states.indices {
                let o = states[i]
                try run(s) { st in
                    bind(st, 1, o.id.mta.rawValue)
                    bind(st, 2, o.id.host)
                    bind(st, 3, o.id.key)
                    _ = o.withBody { b in
                        sqlite3_bind_blob(st, 4, b.baseAddress, Int32(b.count), Self.transient)
                    }
                    bind(st, 5, o.lastSeen)
                }
                // Its values go with it (see `writeMessages`).
                states[i] = OpenState(id: o.id, body: Data(), lastSeen: 0)
            }
        }
        if !batch.messages.isEmpty {
            var messages = batch.messages
            batch.messages = []
            try writeMessages(&messages, &deltas)
            // Handed back: the finished messages' rows are freed by whichever thread is idle (BatchPipeline).
            batch.messages = messages
        }
        for r in batch.rejects { deltas.saw(host: r.host) }
        for a in batch.authFailures { deltas.saw(host: a.host) }
        try insertRows(
            batch.rejects, perStatement: Self.messagesPerStatement, sql: { Self.rejectsSQL[$0] }, columns: 15
        ) { st, at, r in
            bind(st, at + 1, r.host)
            bind(st, at + 2, r.mta.rawValue)
            bind(st, at + 3, r.at)
            bind(st, at + 4, r.kind.rawValue)
            bind(st, at + 5, r.stage)
            bind(st, at + 6, r.queueID)
            bind(st, at + 7, r.clientIP)
            bind(st, at + 8, r.clientName)
            bind(st, at + 9, r.login)
            bind(st, at + 10, r.sender)
            bind(st, at + 11, r.recipient)
            bind(st, at + 12, r.code)
            bind(st, at + 13, r.dsn)
            bind(st, at + 14, r.reason)
            bind(st, at + 15, r.helo)
        }
        try insertRows(
            batch.authFailures, perStatement: Self.messagesPerStatement, sql: { Self.authFailuresSQL[$0] }, columns: 8
        ) { st, at, a in
            bind(st, at + 1, a.host)
            bind(st, at + 2, a.mta.rawValue)
            bind(st, at + 3, a.at)
            bind(st, at + 4, a.clientIP)
            bind(st, at + 5, a.clientName)
            bind(st, at + 6, a.login)
            bind(st, at + 7, a.mechanism)
            bind(st, at + 8, a.reason)
        }
        for c in batch.checkpoints {
            // The ingest assigns checkpoint ids itself, so batches can be written on another thread.
            guard let id = c.id else { throw StoreError("internal error: checkpoint for \(c.path) has no id") }
            let s = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO source_files (id, fingerprint, fingerprint_length, path, mta, device, inode,
                        file_size, is_gzip, content_offset, lines, at_end, updated_at)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """)
            try run(s) { st in
                bind(st, 1, id)
                bind(st, 2, Int64(bitPattern: c.fingerprint))
                bind(st, 3, Int64(c.fingerprintLength))
                bind(st, 4, c.path)
                bind(st, 5, c.mta?.rawValue)
                bind(st, 6, Int64(bitPattern: c.device))
                bind(st, 7, Int64(bitPattern: c.inode))
                bind(st, 8, c.fileSize)
                bind(st, 9, c.isGzip ? 1 : 0)
                bind(st, 10, c.contentOffset)
                bind(st, 11, Int64(c.lines))
                bind(st, 12, c.atEnd ? 1 : 0)
                bind(st, 13, c.updatedAt)
            }
        }
        try applyHoursAndHosts(&deltas)
    }

    /// Columns of a `messages` row, as `bindMessage` binds them.
    private static let messageColumns = """
        id, host, mta, queue_id, message_id, origin, account, client_ip, client_name, sasl_method, sender,
            sender_domain, size, nrcpt, received_at, completed_at, recipients, delivered, deferred, bounced
        """
    private static let recipientColumns = """
        message, address, domain, original_address, outcome, dsn, relay, reply, last_attempt_at, attempts
        """

    /// Rows per multi-row INSERT: SQLite's cost of running a statement (opening and closing its cursors, halting,
    /// resetting) is about that of inserting a row, so new rows go many to a statement (16 and 32 measured best).
    static let messagesPerStatement = 16
    static let recipientsPerStatement = 32

    /// `INSERT … VALUES (…), (…)` of `rows` rows of `columns` parameters each.
    private static func insertSQL(_ head: String, columns: Int, rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        return head + " VALUES " + Array(repeating: row, count: rows).joined(separator: ",")
    }

    /// Indexed by row count. A new message's row is inserted, not replaced: its id was never written (`replaces` is
    /// false).
    ///
    /// `OR FAIL`, as every multi-row insert here: a statement that may abort halfway is given a statement journal, a
    /// copy of every page it changes first (to undo its own rows), where one that fails keeps the rows before
    /// the failure. Those are written again by the replacing statement that follows a conflict, and any other
    /// failure rolls the whole transaction back. Past 64 KiB a statement journal went to a temporary file in
    /// /var/tmp for the rest of the transaction: 86,000 of the 141,000 `pwrite` calls of the 200 MB Exim ingest.
    private static let newMessagesSQL = (0...messagesPerStatement).map {
        insertSQL("INSERT OR FAIL INTO messages (\(messageColumns))", columns: 20, rows: $0)
    }
    /// The same rows should the insert find one of their ids taken: written as a rewrite would write them.
    private static let replacedMessagesSQL = (0...messagesPerStatement).map {
        insertSQL("INSERT OR REPLACE INTO messages (\(messageColumns))", columns: 20, rows: $0)
    }
    /// The table's `ON CONFLICT REPLACE` keeps the last row of a repeated address, as one insert per row did.
    private static let recipientsSQL = (0...recipientsPerStatement).map {
        insertSQL("INSERT INTO recipients (\(recipientColumns))", columns: 10, rows: $0)
    }
    /// The same rows `OR FAIL` (see `newMessagesSQL`), for new messages: a repeated address (seldom) fails the
    /// statement, and the rows are then written again by `recipientsSQL`.
    private static let newRecipientsSQL = (0...recipientsPerStatement).map {
        insertSQL("INSERT OR FAIL INTO recipients (\(recipientColumns))", columns: 10, rows: $0)
    }

    /// Rejects and auth failures go as many to a statement as messages do.
    private static let rejectsSQL = (0...messagesPerStatement).map {
        insertSQL(
            """
            INSERT OR FAIL INTO rejects (host, mta, at, kind, stage, queue_id, client_ip, client_name, login, sender,
                recipient, code, dsn, reason, helo)
            """, columns: 15, rows: $0)
    }
    private static let authFailuresSQL = (0...messagesPerStatement).map {
        insertSQL(
            "INSERT OR FAIL INTO auth_failures (host, mta, at, client_ip, client_name, login, mechanism, reason)",
            columns: 8, rows: $0)
    }

    /// Inserts (or upserts) `rows` in order, `perStatement` to a statement and the last few one by one (a statement
    /// prepared for every shorter run would stay in the statement cache): `sql(n)` writes `n` rows of `columns`
    /// parameters, row `k`'s bound by `bindRow` from parameter `k * columns + 1`.
    func insertRows<Row>(
        _ rows: [Row], perStatement: Int, sql: (Int) -> String, columns: Int32,
        _ bindRow: (OpaquePointer, Int32, Row) -> Void
    ) throws {
        guard !rows.isEmpty else { return }
        var start = 0
        if rows.count >= perStatement {
            let full = try db.cachedStatement(sql: sql(perStatement)).sqliteStatement
            while start + perStatement <= rows.count {
                for k in 0..<perStatement { bindRow(full, Int32(k) * columns, rows[start + k]) }
                try check(finish(full, rebound: true))
                start += perStatement
            }
        }
        guard start < rows.count else { return }
        let single = try db.cachedStatement(sql: sql(1)).sqliteStatement
        for row in rows[start...] {
            bindRow(single, 0, row)
            try check(finish(single, rebound: true))
        }
    }

    /// A new message row waiting for its statement, with its recipients' counts (an open message's recipients may
    /// be released before its row is written).
    private struct PendingMessage {
        var index: Int
        var recipients: Int64
        var delivered: Int64
        var deferred: Int64
        var bounced: Int64
    }

    /// A new recipient row waiting for its statement: `writes[message].record.recipients[recipient]`, its domain
    /// by number in `AggregateDeltas.domainNames` (-1: none).
    private struct PendingRecipient {
        var message: Int
        var recipient: Int
        var domain: Int32
    }

    private func writeMessages(_ writes: inout [MessageWrite], _ deltas: inout AggregateDeltas) throws {
        // Looked up once: the statement cache hashes the SQL, a few kilobytes.
        let fullMessages = try db.cachedStatement(sql: Self.newMessagesSQL[Self.messagesPerStatement]).sqliteStatement
        let fullRecipients = try db.cachedStatement(sql: Self.newRecipientsSQL[Self.recipientsPerStatement])
            .sqliteStatement
        var messages: [PendingMessage] = []
        messages.reserveCapacity(Self.messagesPerStatement)
        var recipients: [PendingRecipient] = []
        recipients.reserveCapacity(Self.recipientsPerStatement)
        // Open messages whose recipients wait only for their rows' statement to be released (see below).
        var written: [Int] = []
        var domains: [Int32] = []
        var tallies: [AggregateDeltas.DomainTally] = []
        for index in writes.indices {
            if writes[index].replaces {
                try flushMessages(&messages, writes, fullMessages)
                try flushRecipients(&recipients, &writes, release: &written, deltas, fullRecipients)
                try rewriteMessage(&writes[index], &deltas)
                continue
            }
            guard writes[index].record.rowID != nil else {
                throw StoreError("internal error: message \(writes[index].record.queueID) has no row id")
            }
            // The record is read in place through a pointer: passed as `writes[index].record`, the whole element was
            // copied (a retain and a release of each of its strings; 6 % of the Exim ingest's store thread).
            let count = writes.withUnsafeBufferPointer { w in
                Self.stage(w.baseAddress! + index, at: index, &messages, &domains, &tallies, &deltas)
            }
            if messages.count == Self.messagesPerStatement { try flushMessages(&messages, writes, fullMessages) }
            for i in 0..<count {
                recipients.append(PendingRecipient(message: index, recipient: i, domain: domains[i]))
                if recipients.count == Self.recipientsPerStatement {
                    try flushRecipients(&recipients, &writes, release: &written, deltas, fullRecipients)
                }
            }
            // An open message's recipients are shared with its correlator, which may change them again: dropped once
            // written, they are changed in place instead of copied. A finished message's are its last reference,
            // freed later.
            if writes[index].record.completedAt == nil { written.append(index) }
        }
        try flushMessages(&messages, writes, fullMessages)
        try flushRecipients(&recipients, &writes, release: &written, deltas, fullRecipients)
    }

    /// Numbers the domains of `m`'s recipients into `domains`, queues its row in `messages` and adds it to the
    /// aggregates; the number of its recipients.
    private static func stage(
        _ w: UnsafePointer<MessageWrite>, at index: Int, _ messages: inout [PendingMessage], _ domains: inout [Int32],
        _ tallies: inout [AggregateDeltas.DomainTally], _ deltas: inout AggregateDeltas
    ) -> Int {
        domains.removeAll(keepingCapacity: true)
        w.pointee.record.recipients.withUnsafeBufferPointer { r in
            for i in r.indices { domains.append(deltas.domainID(of: (r.baseAddress! + i).pointee.address)) }
        }
        let (delivered, deferred, bounced) = outcomes(w.pointee.record.recipients)
        messages.append(
            PendingMessage(
                index: index, recipients: Int64(w.pointee.record.recipientCount), delivered: delivered,
                deferred: deferred, bounced: bounced))
        deltas.domainCounts(w.pointee.record.recipients, domains: domains, into: &tallies)
        addToAggregates(w, delivered, deferred, bounced, tallies, &deltas)
        return w.pointee.record.recipients.count
    }

    private static func outcomes(_ recipients: [RecipientRecord]) -> (Int64, Int64, Int64) {
        let c = OutcomeCounts(recipients)
        return (c.delivered, c.deferred, c.bounced)
    }

    private static func addToAggregates(
        _ w: UnsafePointer<MessageWrite>, _ delivered: Int64, _ deferred: Int64, _ bounced: Int64,
        _ tallies: [AggregateDeltas.DomainTally], _ deltas: inout AggregateDeltas
    ) {
        deltas.saw(host: w.pointee.record.host)
        if w.pointee.record.origin != .generated {
            deltas.apply(
                sign: 1, host: w.pointee.record.host, sender: w.pointee.record.sender,
                account: w.pointee.record.account, clientIP: w.pointee.record.clientIP,
                receivedAt: w.pointee.record.receivedAt,
                values: AggregateDeltas.Values(
                    recipients: Int64(w.pointee.record.recipientCount), delivered: delivered, deferred: deferred,
                    bounced: bounced, bytes: w.pointee.record.size ?? 0),
                domainCounts: tallies)
        }
    }

    /// Writes the waiting message rows in one statement.
    private func flushMessages(
        _ pending: inout [PendingMessage], _ writes: [MessageWrite], _ full: OpaquePointer
    ) throws {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        let st =
            pending.count == Self.messagesPerStatement
            ? full : try db.cachedStatement(sql: Self.newMessagesSQL[pending.count]).sqliteStatement
        // Through a buffer pointer: `writes[i].record` would copy the record.
        func bindAll(_ st: OpaquePointer) {
            writes.withUnsafeBufferPointer { w in
                for (k, p) in pending.enumerated() { bindMessage(st, Int32(k * 20), w.baseAddress! + p.index, p) }
            }
        }
        bindAll(st)
        if try finishFindingKeyTaken(st) {
            // Not expected: a row id taken all the same is replaced, as a rewrite would.
            let replace = try db.cachedStatement(sql: Self.replacedMessagesSQL[pending.count]).sqliteStatement
            bindAll(replace)
            try check(finish(replace, rebound: true))
        }
    }

    /// Writes the waiting recipient rows in one statement, then releases the recipients of the open messages in
    /// `release` (all their rows are written).
    private func flushRecipients(
        _ pending: inout [PendingRecipient], _ writes: inout [MessageWrite], release: inout [Int],
        _ deltas: AggregateDeltas, _ full: OpaquePointer
    ) throws {
        if !pending.isEmpty {
            defer { pending.removeAll(keepingCapacity: true) }
            // Through a buffer pointer, as `flushMessages` binds.
            // The domains too: `strings[i]` was a retain and a release per row.
            func bindAll(_ st: OpaquePointer) {
                writes.withUnsafeBufferPointer { w in
                    deltas.domainNames.strings.withUnsafeBufferPointer { names in
                        for k in pending.indices {
                            let p = pending[k]
                            let m = w.baseAddress! + p.message
                            let at = Int32(k * 10)
                            bind(st, at + 1, m.pointee.record.rowID!)
                            m.pointee.record.recipients.withUnsafeBufferPointer { r in
                                assert(p.recipient < r.count && Int(p.domain) < names.count)
                                bindRecipient(
                                    st, at + 1, r.baseAddress! + p.recipient,
                                    domain: p.domain < 0 ? nil : names.baseAddress! + Int(p.domain))
                            }
                        }
                    }
                }
            }
            let st =
                pending.count == Self.recipientsPerStatement
                ? full : try db.cachedStatement(sql: Self.newRecipientsSQL[pending.count]).sqliteStatement
            bindAll(st)
            if try finishFindingKeyTaken(st) {
                // A repeated address: the table's ON CONFLICT REPLACE keeps its last row.
                let replace = try db.cachedStatement(sql: Self.recipientsSQL[pending.count]).sqliteStatement
                bindAll(replace)
                try check(finish(replace, rebound: true))
            }
        }
        for i in release { writes[i].record.recipients = [] }
        release.removeAll(keepingCapacity: true)
    }

    /// Runs `st`, a bound `OR FAIL` multi-row insert: true if a row's key was taken (GRDB turns on extended result
    /// codes: SQLITE_CONSTRAINT_PRIMARYKEY, a C macro Swift does not import), the rows before it kept, for the
    /// caller to write every row again with a replacing statement; any other failure is thrown.
    private func finishFindingKeyTaken(_ st: OpaquePointer) throws -> Bool {
        let rc = finish(st, rebound: true)
        if rc == SQLITE_CONSTRAINT | (6 << 8) { return true }
        try check(rc)
        return false
    }

    /// Binds one `messages` row at parameters `at + 1 …`.
    /// `w`'s record is read in place: passed by value, it was copied (a retain and a release of each string).
    private func bindMessage(_ st: OpaquePointer, _ at: Int32, _ w: UnsafePointer<MessageWrite>, _ p: PendingMessage) {
        bindMessage(
            st, at, w, recipients: p.recipients, delivered: p.delivered, deferred: p.deferred, bounced: p.bounced)
    }

    private func bindMessage(
        _ st: OpaquePointer, _ at: Int32, _ w: UnsafePointer<MessageWrite>, recipients: Int64, delivered: Int64,
        deferred: Int64, bounced: Int64
    ) {
        bind(st, at + 1, w.pointee.record.rowID!)
        bind(st, at + 2, w.pointee.record.host)
        bind(st, at + 3, w.pointee.record.mta, Self.mtaTexts)
        bind(st, at + 4, w.pointee.record.queueID)
        bind(st, at + 5, w.pointee.record.messageID)
        bind(st, at + 6, w.pointee.record.origin, Self.originTexts)
        bind(st, at + 7, w.pointee.record.account)
        bind(st, at + 8, w.pointee.record.clientIP)
        bind(st, at + 9, w.pointee.record.clientName)
        bind(st, at + 10, w.pointee.record.saslMethod)
        bind(st, at + 11, w.pointee.record.sender)
        bindDomain(st, at + 12, of: w.pointee.record.sender)
        bind(st, at + 13, w.pointee.record.size)
        bind(st, at + 14, w.pointee.record.announcedRecipients.map(Int64.init))
        bind(st, at + 15, w.pointee.record.receivedAt)
        bind(st, at + 16, w.pointee.record.completedAt)
        bind(st, at + 17, recipients)
        bind(st, at + 18, delivered)
        bind(st, at + 19, deferred)
        bind(st, at + 20, bounced)
    }

    /// Binds a `recipients` row's columns after `message` at parameters `at + 1 …`.
    /// `r` is read in place, as `bindMessage` reads its record.
    private func bindRecipient(
        _ st: OpaquePointer, _ at: Int32, _ r: UnsafePointer<RecipientRecord>, domain: UnsafePointer<String>?
    ) {
        bind(st, at + 1, r.pointee.address)
        if let domain { bind(st, at + 2, domain.pointee) } else { sqlite3_bind_null(st, at + 2) }
        bind(st, at + 3, r.pointee.originalAddress)
        bind(st, at + 4, r.pointee.outcome, Self.outcomeTexts)
        bind(st, at + 5, r.pointee.dsn)
        bind(st, at + 6, r.pointee.relay)
        bind(st, at + 7, r.pointee.reply)
        bind(st, at + 8, r.pointee.lastAttemptAt)
        bind(st, at + 9, Int64(r.pointee.attempts))
    }

    /// Rewrites a message written earlier (while it was open), one statement per row.
    private func rewriteMessage(_ w: inout MessageWrite, _ deltas: inout AggregateDeltas) throws {
        let insert = try db.cachedStatement(sql: Self.replacedMessagesSQL[1])
        let insertRecipient = try db.cachedStatement(sql: Self.recipientsSQL[1])
        let deleteRecipient = try db.cachedStatement(sql: "DELETE FROM recipients WHERE message = ? AND address = ?")
        var columns: [UInt8] = []
        // An open message's recipients are shared with its correlator, which may change them again: dropped here,
        // they are changed in place instead of copied. A finished message's are its last reference, freed later.
        defer { if w.record.completedAt == nil { w.record.recipients = [] } }
        let m = w.record
        guard let id = m.rowID else { throw StoreError("internal error: message \(m.queueID) has no row id") }
        let select = try db.cachedStatement(sql: StoredRecipients.selectSQL).sqliteStatement
        bind(select, 1, id)
        var stored: StoredRecipients
        do {
            defer { sqlite3_reset(select) }
            stored = try StoredRecipients(reading: select, step: stepRow)
        }
        try subtractStoredMessage(id, storedDomainCounts: stored.domainCounts, from: &deltas)
        let domainIDs = m.recipients.map { deltas.domainID(of: $0.address) }
        let domains = domainIDs.map { $0 < 0 ? nil : deltas.domainNames.strings[Int($0)] }
        let (delivered, deferred, bounced) = Self.outcomes(m.recipients)
        try withUnsafePointer(to: w) { w in
            try run(insert) { st in
                bindMessage(
                    st, 0, w, recipients: Int64(m.recipientCount), delivered: delivered, deferred: deferred,
                    bounced: bounced)
            }
        }
        // The recipients last first (the last row of a repeated address is the one kept), and only those whose row
        // changes; stored rows the rewrite lacks are deleted.
        var added: Set<String> = []
        for i in m.recipients.indices.reversed() {
            let r = m.recipients[i]
            let domain = domains[i]
            if let j = stored.index(of: r.address) {
                if stored.rows[j].visited { continue }
                stored.rows[j].visited = true
                RecipientColumns.encode(r, domain: domain, into: &columns)
                if stored.matches(j, columns) { continue }
            } else if !added.insert(r.address).inserted {
                continue
            }
            try run(insertRecipient) { st in
                bind(st, 1, id)
                withUnsafePointer(to: r) { r in
                    if let domain {
                        withUnsafePointer(to: domain) { bindRecipient(st, 1, r, domain: $0) }
                    } else {
                        bindRecipient(st, 1, r, domain: nil)
                    }
                }
            }
        }
        for row in stored.rows where !row.visited {
            try run(deleteRecipient) { st in
                bind(st, 1, id)
                _ = stored.bytes.withUnsafeBufferPointer { b in
                    let p = arena.copy(UnsafeBufferPointer(rebasing: b[row.address]))
                    return sqlite3_bind_text(st, 2, p, Int32(row.address.count), Self.staticText)
                }
            }
        }
        var tallies: [AggregateDeltas.DomainTally] = []
        deltas.domainCounts(m.recipients, domains: domainIDs, into: &tallies)
        withUnsafePointer(to: w) { Self.addToAggregates($0, delivered, deferred, bounced, tallies, &deltas) }
    }

    // MARK: C API

    func run(_ statement: Statement, _ binder: (OpaquePointer) -> Void) throws {
        let st = statement.sqliteStatement
        binder(st)
        try check(finish(st))
    }

    /// Steps a bound statement that returns no row, resets it and releases its bound text; its result code.
    /// `rebound`: every parameter is bound again before each run (the multi-row inserts), so the text left bound is
    /// never read and is not unbound (a loop over hundreds of parameters).
    func finish(_ st: OpaquePointer, rebound: Bool = false) -> Int32 {
        let rc = sqlite3_step(st)
        sqlite3_reset(st)
        // Unbinds the arena's text before the arena is reused (cheap: no bound value owns memory).
        if !rebound { sqlite3_clear_bindings(st) }
        arena.reset()
        return rc
    }

    func check(_ rc: Int32) throws {
        guard rc == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    @inline(__always) func bind(_ st: OpaquePointer, _ i: Int32, _ v: Int64) {
        sqlite3_bind_int64(st, i, v)
    }

    @inline(__always) func bind(_ st: OpaquePointer, _ i: Int32, _ v: Int64?) {
        if let v { sqlite3_bind_int64(st, i, v) } else { sqlite3_bind_null(st, i) }
    }

    @inline(__always) func bind(_ st: OpaquePointer, _ i: Int32, _ v: String?) {
        guard let v else {
            sqlite3_bind_null(st, i)
            return
        }
        func put(_ b: UnsafeBufferPointer<UInt8>) {
            _ = sqlite3_bind_text(st, i, arena.copy(b), Int32(b.count), Self.staticText)
        }
        // Read in place (`withUTF8` needs a mutable copy: a retain and a release of the string).
        if v.utf8.withContiguousStorageIfAvailable(put) == nil {
            var copy = v
            copy.withUTF8(put)
        }
    }

    /// Binds `v`'s raw value, one of `constants`.
    @inline(__always) func bind<Value>(_ st: OpaquePointer, _ i: Int32, _ v: Value, _ constants: ConstantTexts<Value>) {
        guard let k = constants.values.firstIndex(of: v) else { return bind(st, i, v.rawValue) }
        sqlite3_bind_text(st, i, constants.texts[k], constants.counts[k], Self.staticText)
    }

    private static let mtaTexts = ConstantTexts(MTA.allCases)
    private static let originTexts = ConstantTexts([MessageOrigin.smtp, .local, .generated, .unknown])
    private static let outcomeTexts = ConstantTexts([RecipientOutcome.delivered, .deferred, .bounced, .pending])

    /// Binds `MessageRecord.domain(of: address)` from the address's bytes: a `String` is made only to lower its case.
    func bindDomain(_ st: OpaquePointer, _ i: Int32, of address: String) {
        var address = address
        address.withUTF8 { bytes in
            guard let (domain, lower) = MessageRecord.domainPart(of: bytes) else {
                sqlite3_bind_null(st, i)
                return
            }
            if lower {
                bind(st, i, String(decoding: domain, as: UTF8.self).lowercased())
            } else {
                _ = sqlite3_bind_text(st, i, arena.copy(domain), Int32(domain.count), Self.staticText)
            }
        }
    }

    /// `SQLITE_STATIC`, a constant (a stored `static let` costs a `swift_once` check per value bound).
    @inline(__always) static var staticText: sqlite3_destructor_type? { nil }
}

/// The raw values of an enumeration's cases as C strings, made once and never freed: bound `SQLITE_STATIC`, without
/// the arena's copy (a retain, a copy and a release per value bound, for a message's MTA and origin and a
/// recipient's outcome). Sendable: the bytes are never written after `init`.
struct ConstantTexts<Value: RawRepresentable & Equatable>: @unchecked Sendable where Value.RawValue == String {
    let values: [Value]
    let texts: [UnsafePointer<CChar>]
    let counts: [Int32]

    init(_ values: [Value]) {
        self.values = values
        texts = values.map { v in
            let c = Array(v.rawValue.utf8CString)
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: c.count)
            p.initialize(from: c, count: c.count)
            return UnsafePointer(p)
        }
        counts = values.map { Int32($0.rawValue.utf8.count) }
    }
}

/// Bytes of the text bound to one statement execution, kept still until `reset()`: a copy costs a `memcpy` into a
/// buffer reused for every row, where `SQLITE_TRANSIENT` costs a `malloc` and a `free` per bound string.
final class BindArena {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var used = 0
    /// Buffers outgrown while a row was bound: still pointed to until `reset()`.
    private var retired: [UnsafeMutableRawPointer] = []

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        self.buffer = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        buffer.deallocate()
        for b in retired { b.deallocate() }
    }

    /// A copy of `bytes` that stays put until `reset()`.
    func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
        if used + bytes.count > capacity {
            retired.append(buffer)
            capacity = max(capacity * 2, bytes.count)
            buffer = .allocate(byteCount: capacity, alignment: 8)
            used = 0
        }
        let p = buffer + used
        if let base = bytes.baseAddress { p.copyMemory(from: base, byteCount: bytes.count) }
        used += bytes.count
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    /// Called once nothing bound points into the arena any more.
    func reset() {
        used = 0
        if !retired.isEmpty {
            for b in retired { b.deallocate() }
            retired.removeAll()
        }
    }
}
