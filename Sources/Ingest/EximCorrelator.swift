import Foundation
import Store

/// Joins Exim main-log lines by (relay, message ID) into messages with per-recipient outcomes, rejected attempts
/// and auth failures.
///
/// - A message is its `<=` line. Its account is `sasl:<id>` with `A=authenticator:id`, else `ip:<address>` from
///   `H=… [ip]`, else `local:<user>` from `U=` for local submission (`P=local…`). A bounce the relay generated
///   (`<= <> R=<id of the failed message>`) is counted apart (origin `generated`, no account).
/// - A recipient's outcome is its last result (`=>`/`->`/`>>`/`*>` delivered, `**` bounced, `==` deferred); a later
///   deferral does not undo a final result. With `+received_recipients` the `for …` list gives the recipients up
///   front (pending until their first attempt); an aliased delivery (`=> new <orig>`) takes over its original.
/// - `Completed` (or `removed by`, from `exim -Mrm`) closes the message. `Frozen` changes nothing: a frozen message
///   stays open with its recipients' last results until `Completed` or expiry.
/// - Lines for a message ID whose `<=` was never seen (it arrived before the first ingested line, or its entry
///   expired) are skipped: they would add messages with no sender or account, charged to nobody, and a message
///   accepted before the logs begin is not a message of the ingested period.
/// - Rejections appear twice when both logs are read: "The first line of each rejection is a copy of the line that
///   is also written to the main log" (Exim spec, chapter "Log files"). So a file whose name contains `rejectlog`
///   (Exim's `%slog` names: `rejectlog`, `exim_rejectlog`, `rejectlog.1.gz`) is a reject log: its rejections are
///   skipped as duplicates, and its header dumps too. Through syslog, `syslog_duplication` (the default) writes
///   such a line twice, at LOG_INFO and at LOG_NOTICE (log.c, log_write()): an identical refusal from the same
///   process within a second is skipped as that copy.
package final class EximCorrelator: Correlator {
    package let mta = MTA.exim

    private struct Key: Hashable {
        let host: Int32
        let id: EximMessageID

        func hash(into hasher: inout Hasher) {
            hasher.combine(id.hashWord &+ UInt64(UInt32(bitPattern: host)))
        }

        /// What `Dictionary` asks for: the ID's words mixed once more with the table's seed, instead of `Hasher`'s
        /// SipHash rounds (a lookup per line; the IDs come from the relay's own logs).
        func _rawHashValue(seed: Int) -> Int {
            var h = (id.hashWord &+ UInt64(UInt32(bitPattern: host))) ^ UInt64(UInt(bitPattern: seed))
            h ^= h >> 32
            h = h &* 0xD6E8_FEB8_6659_FD93
            h ^= h >> 32
            return Int(truncatingIfNeeded: h)
        }
    }

    private struct ProcessKey: Hashable {
        let host: Int32
        let pid: String
    }

    /// The saved form of an open message (`SnapshotWriter` bytes in the store's open-state table).
    private struct Snapshot: MessageSnapshot {
        var record: MessageRecord
        var emitted: Bool
        var lastSeen: Int64

        init(record: MessageRecord, emitted: Bool, lastSeen: Int64) {
            self.record = record
            self.emitted = emitted
            self.lastSeen = lastSeen
        }

        var encoded: [UInt8] {
            var w = SnapshotWriter()
            w.write(record)
            w.write(emitted)
            w.write(lastSeen)
            return w.bytes
        }

        /// `strings`: the recipients' texts shared through it.
        init(decoding data: Data, strings: StringCache? = nil) throws {
            var r = SnapshotReader(data)
            record = try strings.map { cache in try r.readMessage { cache.string(ByteSlice($0)) } } ?? r.readMessage()
            emitted = try r.readBool()
            lastSeen = try r.readInt64()
        }
    }

    private final class Entry: FlushedEntry {
        var snapshot: Snapshot
        var isDirty = false
        var closed = false
        /// An open state was saved for it by an earlier flush.
        var saved = false
        /// Its row is older than its state (flushed open, not at a final flush): in `rowsBehind`.
        var rowBehind = false
        /// Spilled: its recipients are left out of `snapshot`, which is otherwise as saved.
        var spilled = false
        /// The number of the flush that last saved it (-1: restored).
        var lastFlush = 0
        var stateStale = false
        /// Recipient indexes by a 64-bit hash of the lower-cased address, built once a message has many recipients.
        /// A hit is only a candidate: the hash is not keyed, so a sender can choose two addresses that share it, and
        /// a changed address leaves its old key behind (`readdress`). Every current address's hash is a key, so a
        /// miss is exact.
        private var indexes: [UInt64: Int]? = nil

        init(_ snapshot: Snapshot) {
            self.snapshot = snapshot
        }

        /// Drops the recipients from memory (`spilled`).
        func empty() {
            snapshot.record.recipients = []
            indexes = nil
            spilled = true
        }

        /// The index of the recipient `address`, ignoring case.
        func recipientIndex(_ address: String) -> Int? {
            if indexes == nil && snapshot.record.recipients.count <= 16 {
                return snapshot.record.recipients.withUnsafeBufferPointer { recipients in
                    for k in recipients.indices where Entry.sameAddress(recipients[k].address, address) { return k }
                    return nil
                }
            }
            if indexes == nil {
                var map: [UInt64: Int] = [:]
                map.reserveCapacity(snapshot.record.recipients.count * 2)
                for (i, r) in snapshot.record.recipients.enumerated() {
                    let key = Entry.foldedHash(r.address)
                    if map[key] == nil { map[key] = i }
                }
                indexes = map
            }
            guard let i = indexes?[Entry.foldedHash(address)] else { return nil }
            if Entry.sameAddress(snapshot.record.recipients[i].address, address) { return i }
            // Another address with the same hash, or an address since changed: the list decides.
            return snapshot.record.recipients.firstIndex { Entry.sameAddress($0.address, address) }
        }

        func append(_ recipient: consuming RecipientRecord) {
            if indexes != nil {
                let key = Entry.foldedHash(recipient.address)
                if indexes?[key] == nil { indexes?[key] = snapshot.record.recipients.count }
            }
            snapshot.record.recipients.append(recipient)
        }

        /// Gives recipient `i` a new address (an aliased delivery taking over its original).
        func readdress(_ i: Int, to address: String) {
            snapshot.record.recipients[i].address = address
            if indexes != nil {
                let key = Entry.foldedHash(address)
                if indexes?[key] == nil { indexes?[key] = i }
            }
        }

        /// A hash of `s` with ASCII upper case lowered (as `sameAddress` compares), eight bytes at a time.
        private static func foldedHash(_ s: String) -> UInt64 {
            var s = s
            return s.withUTF8 { bytes in
                var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
                var i = 0
                if let base = bytes.baseAddress {
                    let raw = UnsafeRawPointer(base)
                    while i + 8 <= bytes.count {
                        let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                        h = (h ^ lowered(word)) &* 0xFF51_AFD7_ED55_8CCD
                        h ^= h >> 32
                        i += 8
                    }
                }
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < bytes.count {
                    let c = bytes[i]
                    tail |= UInt64(c &- 65 < 26 ? c | 0x20 : c) << shift
                    shift += 8
                    i += 1
                }
                h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
                return h ^ (h >> 29)
            }
        }

        /// `w` with the ASCII upper-case letters among its eight bytes lowered: a byte gets `0x20` when it is below
        /// `0x80`, at least `A` and not above `Z` (the sums stay inside their bytes).
        @inline(__always) private static func lowered(_ w: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let low7 = w & (0x7F &* ones)
            let atLeastA = low7 &+ (0x3F &* ones)
            let aboveZ = low7 &+ (0x25 &* ones)
            let upper = atLeastA & ~aboveZ & ~w & (0x80 &* ones)
            return w | (upper >> 2)
        }

        /// Equal ignoring ASCII case (non-ASCII bytes compare exactly).
        private static func sameAddress(_ a: String, _ b: String) -> Bool {
            // Most addresses of a message differ in length: O(1) for native strings.
            guard a.utf8.count == b.utf8.count else { return false }
            var a = a
            var b = b
            return a.withUTF8 { x in
                b.withUTF8 { y in
                    guard x.count == y.count else { return false }
                    for k in 0..<x.count where x[k] != y[k] {
                        let p = x[k] &- 65 < 26 ? x[k] | 0x20 : x[k]
                        let q = y[k] &- 65 < 26 ? y[k] | 0x20 : y[k]
                        if p != q { return false }
                    }
                    return true
                }
            }
        }
    }

    private let rowIDs: RowIDAllocator
    private var open: [Key: Entry] = [:]
    private var dirty: [Entry] = []
    /// Open entries changed since their state was saved, left by flushes that saved no states.
    private var stale = StaleStates<Entry>()
    /// Open entries whose row is older than their state, written at the final flush unless they end first.
    private var rowsBehind: [Entry] = []
    private var output = CorrelatorOutput()
    /// Addresses, relays and replies recur across the open messages: one `String` each.
    private let strings = StringCache()

    private var hostIndexes: [String: Int32] = [:]
    private var lastHost: String? = nil
    private var lastHostIndex: Int32 = 0

    private var lastFile: String? = nil
    private var lastFileIsRejectLog = false

    private var spilling = OpenMessageSpill()
    private var flushes = 0

    /// The last rejection or auth failure of each process, for syslog's duplicate copy.
    private var lastRefusal: [ProcessKey: (time: Int64, event: EximEvent)] = [:]

    package init(rowIDs: RowIDAllocator) {
        self.rowIDs = rowIDs
    }

    // MARK: Correlator

    package func consume(_ envelope: Envelope, host: String, position: SourcePosition) -> LineVerdict {
        if let program = envelope.program, !program.hasPrefix("exim") { return .skipped }
        switch EximLineParser.parse(envelope.message, strings: strings) {
        case .skipped:
            return .skipped
        case .unparsed(let kind):
            return .unparsed(kind: kind)
        case .event(let event):
            return apply(event, envelope: envelope, host: host, position: position)
        }
    }

    /// Handles a line that has no time stamp. In Exim's logs only the header dump of a reject-log entry has none
    /// (`Envelope-from: <…>`, `P Received: …`, continuation lines); anything else is not understood.
    package func consumeUnstamped(_ line: ByteSlice, host: String, position: SourcePosition) -> LineVerdict {
        EximLineParser.isRejectLogHeader(line) ? .skipped : .unparsed(kind: "exim: no time stamp")
    }

    package var pendingCount: Int { dirty.count }

    package func flush(final: Bool, savingStates: Bool) -> CorrelatorOutput {
        flushes += 1
        let saving = final || savingStates
        if saving { stale.prepend(to: &dirty) }
        rowsBehind.removeAll { !$0.rowBehind }
        if final {
            for entry in rowsBehind { markDirty(entry) }
            rowsBehind.removeAll()
        }
        output.messages.reserveCapacity(dirty.count)
        // Spilled messages read back for their rows at the final flush, in weight: a budget's worth per batch, each
        // spilled again once its row and state are in the batch.
        var readBack = 0
        var settled = 0
        for entry in dirty {
            if final && readBack > spilling.budget { break }
            settled += 1
            if !saving && stale.setAside(entry) { continue }
            entry.stateStale = false
            let wasSpilled = entry.spilled
            if wasSpilled {
                fill(entry)
                readBack += Self.weight(entry)
            }
            entry.isDirty = false
            entry.lastFlush = flushes
            if output.settleRow(
                &entry.snapshot, closed: entry.closed, final: final, rowBehind: &entry.rowBehind, rowIDs: rowIDs)
            {
                rowsBehind.append(entry)
            }
            let key = OpenStateKey(mta: .exim, host: entry.snapshot.record.host, key: entry.snapshot.record.queueID)
            entry.saved = output.settleOpenState(
                key, closed: entry.closed, wasSaved: entry.saved
            ) { entry.snapshot }
            if final && wasSpilled && !entry.closed { entry.empty() }
        }
        if settled == dirty.count {
            dirty.removeAll(keepingCapacity: true)
        } else {
            dirty.removeFirst(settled)
        }
        defer { output = CorrelatorOutput() }
        return output
    }

    package func restore(_ states: [OpenState], rowsCurrent: Bool) throws {
        for state in states where state.id.mta == .exim {
            let snapshot = try Snapshot(decoding: state.body)
            guard let id = EximMessageID(snapshot.record.queueID) else { throw SnapshotReader.Malformed() }
            let entry = Entry(snapshot)
            entry.saved = true
            entry.lastFlush = -1
            // After a run that stopped before its final flush its row may be older than its state: rewritten then.
            if !rowsCurrent {
                entry.rowBehind = true
                rowsBehind.append(entry)
            }
            open[Key(host: hostIndex(snapshot.record.host), id: id)] = entry
        }
    }

    package func expire(lastSeenBefore cutoff: Int64) -> Int {
        var dropped = 0
        for (key, entry) in open where entry.snapshot.lastSeen < cutoff {
            open[key] = nil
            entry.closed = true
            markDirty(entry)
            dropped += 1
        }
        return dropped
    }

    /// Open messages held in memory (for reports and tests).
    package var openMessageCount: Int { open.count }

    package func evict(keepingAtMost limit: Int) -> Int {
        guard open.count > limit else { return 0 }
        let victims = Self.oldest(
            open.count - limit, of: Array(open), lastSeen: { $0.value.snapshot.lastSeen },
            key: { $0.value.snapshot.record.queueID })
        for (key, entry) in victims {
            open[key] = nil
            entry.closed = true
            markDirty(entry)
        }
        return victims.count
    }

    package func spill(beyond budget: Int, reader: OpenStateReader) {
        spilling.budget = budget
        spilling.reader = reader
        batchQueued()  // restored entries
    }

    package func batchQueued() {
        guard spilling.isOn else { return }
        var weight = 0
        var candidates: [Entry] = []
        for entry in open.values where !entry.spilled {
            weight += Self.weight(entry)
            if entry.lastFlush < flushes && entry.saved && !entry.closed && !entry.isDirty && !entry.stateStale {
                candidates.append(entry)
            }
        }
        for entry in spilling.victims(
            of: candidates, resident: weight, weight: Self.weight, lastSeen: { $0.snapshot.lastSeen },
            key: { $0.snapshot.record.queueID })
        {
            entry.empty()
        }
    }

    package var spillCounts: (spilled: Int, reloaded: Int) { (spilling.spills, spilling.reloads) }

    package var readFailure: Error? { spilling.readFailure }

    package var pendingWeight: Int { dirty.reduce(0) { $0 + Self.weight($1) } }

    package var residentWeight: Int {
        var weight = 0
        for entry in open.values where !entry.spilled { weight += Self.weight(entry) }
        return weight
    }

    /// What a message holds in memory, in recipients: they are most of it.
    private static func weight(_ entry: Entry) -> Int { entry.snapshot.record.recipients.count + 1 }

    /// Reads a spilled message's state back. On failure the run ends at its next commit point (`readFailure`).
    private func fill(_ entry: Entry) {
        let key = OpenStateKey(mta: .exim, host: entry.snapshot.record.host, key: entry.snapshot.record.queueID)
        // The recurring texts shared again.
        if let saved = spilling.readBack(key, decode: { try Snapshot(decoding: $0, strings: strings) }) {
            entry.snapshot = saved
        }
        entry.spilled = false
    }

    /// The open message of `key`, its state read back if it was spilled.
    @inline(__always) private func lookup(_ key: Key) -> Entry? {
        guard let entry = open[key] else { return nil }
        if entry.spilled { fill(entry) }
        return entry
    }

    // MARK: events

    /// Takes `event` apart: its texts move into the records rather than being copied.
    private func apply(
        _ event: consuming EximEvent, envelope: Envelope, host: String, position: SourcePosition
    ) -> LineVerdict {
        let time = envelope.time
        switch consume event {
        case .arrival(var a):
            let key = Key(host: hostIndex(host), id: a.messageID)
            if let existing = lookup(key),
                existing.snapshot.record.receivedAt != time || existing.snapshot.record.sender != a.sender
            {
                // Another arrival under an open message ID (a clock set back, forged lines): another message. The
                // first ends as it stood rather than have the second's sender and recipients merged into it. (The
                // same arrival again, from a second copy of the log, is the same message.)
                open[key] = nil
                existing.closed = true
                markDirty(existing)
            }
            let entry: Entry
            if let existing = open[key] {
                entry = existing
            } else {
                let record = MessageRecord(
                    host: host, mta: .exim, queueID: a.messageID.description, origin: .unknown, sender: a.sender,
                    receivedAt: time)
                entry = Entry(Snapshot(record: record, emitted: false, lastSeen: time))
                open[key] = entry
            }
            let announced = a.recipients.take()
            Self.fill(&entry.snapshot.record, from: &a, at: time)
            if let list = announced {
                entry.snapshot.record.announcedRecipients = list.count
                if entry.snapshot.record.recipients.isEmpty {
                    // Room for the listed recipients at once: grown by doubling, a list message's array would hold
                    // up to twice the room it needs for as long as the message is open.
                    entry.snapshot.record.recipients.reserveCapacity(list.count)
                }
                for address in list where entry.recipientIndex(address) == nil {
                    entry.append(RecipientRecord(address: address, outcome: .pending))
                }
            }
            touch(entry, at: time)
            return .parsed

        case .delivery(var d):
            guard let entry = lookup(Key(host: hostIndex(host), id: d.messageID)) else { return .skipped }
            Self.record(&d, in: entry, at: time)
            touch(entry, at: time)
            return .parsed

        case .completed(let id), .removed(let id):
            let key = Key(host: hostIndex(host), id: id)
            guard let entry = open.removeValue(forKey: key) else { return .skipped }
            if entry.spilled { fill(entry) }
            entry.closed = true
            entry.snapshot.record.completedAt = time
            touch(entry, at: time)
            return .parsed

        case .rejection(let r):
            if isRejectLog(position.file) || isSyslogCopy(.rejection(r), envelope: envelope, host: host) {
                return .skipped
            }
            output.rejects.append(
                RejectRecord(
                    host: host, mta: .exim, at: time, kind: r.kind, stage: r.stage,
                    queueID: r.messageID?.description, clientIP: r.host?.ip, clientName: r.host?.name,
                    login: r.login, sender: r.sender, recipient: r.recipient, code: nil, dsn: nil,
                    reason: r.temporary ? "temporarily rejected: \(r.reason)" : r.reason, helo: r.host?.helo))
            return .parsed

        case .authFailure(let f):
            if isRejectLog(position.file) || isSyslogCopy(.authFailure(f), envelope: envelope, host: host) {
                return .skipped
            }
            output.authFailures.append(
                AuthFailureRecord(
                    host: host, mta: .exim, at: time, clientIP: f.host?.ip, clientName: f.host?.name, login: f.login,
                    mechanism: f.authenticator, reason: f.reason))
            return .parsed
        }
    }

    /// Sets the arrival's fields and the account (SPEC: outgoing user); the texts move out of `a`.
    private static func fill(_ r: inout MessageRecord, from a: inout EximArrival, at time: Int64) {
        r.sender = a.sender
        r.receivedAt = time
        r.size = a.size
        let local = a.protocolName.map { $0.hasPrefix("local") } ?? (a.host == nil && a.user != nil)
        if a.bounceOf != nil {
            r.origin = .generated
            r.account = nil
        } else if let id = a.authenticatedID, !id.isEmpty {
            r.origin = a.host == nil && local ? .local : .smtp
            r.account = "sasl:" + id
        } else if let ip = a.host?.ip, !ip.isEmpty {
            r.origin = .smtp
            r.account = "ip:" + ip
        } else if a.host == nil && local {
            r.origin = .local
            r.account = a.user.map { "local:" + $0 }
        } else if a.host != nil || a.protocolName != nil {
            r.origin = .smtp
            r.account = nil
        } else {
            r.origin = .unknown
            r.account = nil
        }
        r.messageID = a.headerMessageID.take()
        r.clientIP = a.host?.ip.take()
        r.clientName = a.host?.name.take()
        r.saslMethod = a.authenticator.take()
    }

    /// Applies one delivery line to its recipient (addresses compare without regard to case); the texts move out
    /// of `d`.
    private static func record(_ d: inout EximDelivery, in entry: Entry, at time: Int64) {
        let outcome = d.outcome
        var index = entry.recipientIndex(d.address)
        if index == nil, let orig = d.originalAddress, let i = entry.recipientIndex(orig) {
            // An aliased or rewritten address takes over its original from the `for` list, once.
            let r = entry.snapshot.record.recipients[i]
            if r.attempts == 0 && r.originalAddress == nil {
                entry.readdress(i, to: d.address)
                index = i
            }
        }
        guard let i = index else {
            var address = ""
            swap(&address, &d.address)
            entry.append(
                RecipientRecord(
                    address: address, originalAddress: d.originalAddress.take(), outcome: outcome,
                    dsn: d.dsn.take(), relay: d.relay.take(), reply: d.reply.take(), lastAttemptAt: time,
                    attempts: 1))
            return
        }
        update(&entry.snapshot.record.recipients[i], with: &d, outcome: outcome, at: time)
    }

    /// Applies a further result to a known recipient, in place.
    private static func update(
        _ r: inout RecipientRecord, with d: inout EximDelivery, outcome: RecipientOutcome, at time: Int64
    ) {
        let keepFinal = outcome == .deferred && (r.outcome == .delivered || r.outcome == .bounced)
        if !keepFinal {
            r.outcome = outcome
            r.dsn = d.dsn.take()
            r.relay = d.relay.take()
            r.reply = d.reply.take()
        }
        if r.originalAddress == nil { r.originalAddress = d.originalAddress.take() }
        r.attempts += 1
        r.lastAttemptAt = time
    }

    // MARK: duplicates

    /// Whether `file` is an Exim reject log (`rejectlog`, `exim_rejectlog`, `rejectlog.1.gz`, `rejectlog-20261109`).
    private func isRejectLog(_ file: String) -> Bool {
        if file == lastFile { return lastFileIsRejectLog }
        let name = file.split(separator: "/").last.map(String.init) ?? file
        lastFile = file
        lastFileIsRejectLog = name.lowercased().contains("rejectlog")
        return lastFileIsRejectLog
    }

    /// Whether this syslog line repeats the refusal its process logged just before (`syslog_duplication`).
    private func isSyslogCopy(_ event: EximEvent, envelope: Envelope, host: String) -> Bool {
        guard envelope.style != .exim, let pid = envelope.pid else { return false }
        let key = ProcessKey(host: hostIndex(host), pid: pid.string)
        if let last = lastRefusal[key], last.event == event, envelope.time - last.time <= 1 {
            lastRefusal[key] = nil
            return true
        }
        // Processes come and go; forgetting them all now and then costs at most one missed copy.
        if lastRefusal.count >= 4096 { lastRefusal.removeAll(keepingCapacity: true) }
        lastRefusal[key] = (envelope.time, event)
        return false
    }

    // MARK: entries

    private func hostIndex(_ host: String) -> Int32 {
        if let last = lastHost, last == host { return lastHostIndex }
        let index: Int32
        if let known = hostIndexes[host] {
            index = known
        } else {
            index = Int32(hostIndexes.count)
            hostIndexes[host] = index
        }
        lastHost = host
        lastHostIndex = index
        return index
    }

    private func touch(_ entry: Entry, at time: Int64) {
        if time > entry.snapshot.lastSeen { entry.snapshot.lastSeen = time }
        markDirty(entry)
    }

    private func markDirty(_ entry: Entry) {
        if !entry.isDirty {
            entry.isDirty = true
            dirty.append(entry)
        }
    }
}
