import Foundation
import Store

/// Where a line came from, for error messages: `mail.log:1234`.
package struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    package var file: String
    /// 1-based line number.
    package var line: Int

    package init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    package var description: String { "\(file):\(line)" }
}

/// What became of one line.
package enum LineVerdict: Sendable, Equatable {
    /// It changed the model (a message, a recipient outcome, a rejected attempt, …).
    case parsed
    /// It was recognised and carries nothing relaysum stores (connect/disconnect, TLS, statistics, other programs).
    case skipped
    /// It was not understood; `kind` names the program or line shape, e.g. `postfix/smtpd: unknown message`.
    case unparsed(kind: String)
}

/// Allocates message row ids for one ingest run, so a correlator can write an open message and later rewrite it.
package final class RowIDAllocator {
    private var next: Int64

    package init(next: Int64) {
        self.next = next
    }

    package func allocate() -> Int64 {
        defer { next += 1 }
        return next
    }
}

/// A correlator's saved form of an open message: its record, and whether its row has been written.
protocol MessageSnapshot: Sendable {
    var record: MessageRecord { get set }
    var emitted: Bool { get set }
    /// Time of the entry's last line.
    var lastSeen: Int64 { get }
    /// The saved form (`SnapshotWriter` bytes in the store's open-state table).
    var encoded: [UInt8] { get }
}

/// Everything a correlator hands to the store at a commit point.
package struct CorrelatorOutput: Sendable {
    package var messages: [MessageWrite] = []
    /// Rows written earlier that turned out to be part of another message (a re-injected copy), to delete.
    package var deletedMessageRowIDs: [Int64] = []
    package var rejects: [RejectRecord] = []
    package var authFailures: [AuthFailureRecord] = []
    /// Snapshots of open entries changed since the last flush, to upsert.
    package var openStates: [OpenState] = []
    /// Keys of open entries that closed since the last flush, to delete.
    package var closedStates: [OpenStateKey] = []

    package init() {}

    /// Queues the message of `snapshot` to be written: a new row (with the next row id) or a rewrite of its row.
    mutating func emit<S: MessageSnapshot>(_ snapshot: inout S, rowIDs: RowIDAllocator) {
        if snapshot.record.rowID == nil { snapshot.record.rowID = rowIDs.allocate() }
        messages.append(MessageWrite(record: snapshot.record, replaces: snapshot.emitted))
        snapshot.emitted = true
    }

    /// Settles an entry's row at a commit point: written when the entry has ended or at the run's final flush (its
    /// row is then current), else left behind its state. Returns true when the row has just fallen behind, so the
    /// correlator lists the entry for its final flush.
    mutating func settleRow<S: MessageSnapshot>(
        _ snapshot: inout S, closed: Bool, final: Bool, rowBehind: inout Bool, rowIDs: RowIDAllocator
    ) -> Bool {
        if closed || final {
            emit(&snapshot, rowIDs: rowIDs)
            rowBehind = false
            return false
        }
        if rowBehind { return false }
        rowBehind = true
        return true
    }

    /// Settles an entry's saved state at a commit point: a closed entry's snapshot is deleted (if one was saved), an
    /// open one's is saved anew, encoded from a copy of `snapshot()` when the store writes it (a closed entry's is not
    /// read, so not copied: most flushed entries have ended). Returns whether a snapshot is saved afterwards.
    mutating func settleOpenState<S: MessageSnapshot>(
        _ key: OpenStateKey, closed: Bool, wasSaved: Bool, snapshot: () -> S
    ) -> Bool {
        if closed {
            if wasSaved { closedStates.append(key) }
            return false
        }
        let saved = snapshot()
        openStates.append(OpenState(id: key, lastSeen: saved.lastSeen) { saved.encoded })
        return true
    }

    package var isEmpty: Bool {
        messages.isEmpty && deletedMessageRowIDs.isEmpty && rejects.isEmpty && authFailures.isEmpty
            && openStates.isEmpty && closedStates.isEmpty
    }
}

/// Joins the lines of one MTA into messages, recipient outcomes and rejected attempts.
///
/// A correlator is fed lines in log order. Messages still open at a commit point are both written as rows
/// (so reports see them) and saved as opaque `OpenState` snapshots (so the next run continues them); both are
/// committed in the same transaction as the file checkpoints that cover their lines.
package protocol Correlator: AnyObject {
    var mta: MTA { get }

    /// Handles one line of this MTA. `envelope.message` is valid only during the call.
    func consume(_ envelope: Envelope, host: String, position: SourcePosition) -> LineVerdict

    /// Entries changed since the last flush: what the next flush would write. After a final flush: the entries left
    /// for another final flush (spilled messages are read back for their rows a budget's worth per batch).
    var pendingCount: Int { get }

    /// Moves out everything to store at a commit point. With `savingStates` (always when `final`), every changed
    /// entry's saved state is in it, so a crash after the commit resumes from there; without, only the entries that
    /// ended are settled and the others wait for the next flush that saves states (a batch not committed on its
    /// own, `IngestOptions.batchesPerCommit`). An open message's row is in it only when `final` (the run's last
    /// commit) or when it ends. Rewriting the row of a message still open at every commit cost a busy relay's ingest
    /// time in proportion to how many commits a message spans (list messages open for hours), which grows with the
    /// relay's traffic: quadratic in the end.
    func flush(final: Bool, savingStates: Bool) -> CorrelatorOutput

    /// Restores open entries saved by an earlier run (before the first `consume`). `rowsCurrent`: that run ended
    /// with its final flush, so their rows match their states; otherwise (it was killed or failed) each restored
    /// entry's row is rewritten at this run's final flush.
    func restore(_ states: [OpenState], rowsCurrent: Bool) throws

    /// Forgets open entries whose last line is older than `cutoff` (a message whose `removed`/`Completed` never
    /// comes); their rows stay as written. Returns how many were dropped.
    func expire(lastSeenBefore cutoff: Int64) -> Int

    /// Open entries held in memory.
    var openMessageCount: Int { get }

    /// Closes the least recently seen open entries, as `expire` does, until at most `limit` are open (a memory bound
    /// for logs whose messages never end). Returns how many were closed.
    func evict(keepingAtMost limit: Int) -> Int

    /// Keeps about `budget` recipients of open messages in memory (each message counting one more). Past it, after
    /// each commit point, the least recently seen open messages not saved by the batch just queued have their
    /// recipients dropped from memory: their saved state (committed, since the pipeline holds one batch) is read
    /// back from `reader` when their next line comes, or for their row at the run's last commit. What is stored is
    /// the same as with all kept.
    func spill(beyond budget: Int, reader: OpenStateReader)

    /// The batch of the last flush is queued, so every batch before it is committed: spills what is over the budget.
    func batchQueued()

    /// What the entries changed since the last flush hold, in recipients (each entry counting one more; a spilled
    /// one only that), for `IngestOptions.batchRecipients`.
    var pendingWeight: Int { get }

    /// What the open entries in memory hold, in recipients (each counting one more; spilled ones not at all).
    var residentWeight: Int { get }

    /// Messages spilled, and messages read back, so far.
    var spillCounts: (spilled: Int, reloaded: Int) { get }

    /// The error of a failed read-back, which ends the run at its next commit point, before its batch is written
    /// (the line was handled as if the message had no recipients).
    var readFailure: Error? { get }
}

extension Correlator {
    /// The run's last commit point: open messages' rows too.
    package func flush() -> CorrelatorOutput { flush(final: true) }

    /// A commit point: every changed entry's state is in the output.
    package func flush(final: Bool) -> CorrelatorOutput { flush(final: final, savingStates: true) }

    /// Restores open entries whose rows may be older than their states.
    package func restore(_ states: [OpenState]) throws { try restore(states, rowsCurrent: false) }

    /// The `count` entries of `entries` to evict first: least recently seen, then by key, so a run evicts the same
    /// entries whatever order a dictionary lists them in. Sorts plain times and only the ties at the cut by key (a
    /// sort of (time, key) tuples took most of an ingest whose messages never end).
    static func oldest<E>(_ count: Int, of entries: [E], lastSeen: (E) -> Int64, key: (E) -> String) -> [E] {
        guard count > 0 else { return [] }
        guard count < entries.count else { return entries }
        let times = entries.map(lastSeen)
        let cut = times.sorted()[count - 1]
        var chosen: [E] = []
        chosen.reserveCapacity(count)
        var ties: [(key: String, index: Int)] = []
        for i in entries.indices {
            if times[i] < cut {
                chosen.append(entries[i])
            } else if times[i] == cut {
                ties.append((key(entries[i]), i))
            }
        }
        ties.sort { $0.key < $1.key }
        for t in ties.prefix(count - chosen.count) { chosen.append(entries[t.index]) }
        return chosen
    }
}

/// An entry of a correlator's flush lists (`StaleStates`).
protocol FlushedEntry: AnyObject {
    /// Changed since the last flush: in the correlator's list of entries to settle.
    var isDirty: Bool { get set }
    var closed: Bool { get }
    /// Changed since its state was saved, and left by a flush that saved no states: in `StaleStates`.
    var stateStale: Bool { get set }
}

/// The open entries whose states wait for a flush that saves states (`Correlator.flush(final:savingStates:)`), in
/// either correlator.
struct StaleStates<Entry: FlushedEntry> {
    private var entries: [Entry] = []

    /// At a flush that saves states: the waiting entries go first in `dirty`. A final flush may stop early (its
    /// read-back budget), and these states must be in the batch that commits the batches that left them stale (their
    /// checkpoints are past the lines).
    mutating func prepend(to dirty: inout [Entry]) {
        var first: [Entry] = []
        for entry in entries where entry.stateStale && !entry.isDirty {
            entry.isDirty = true
            first.append(entry)
        }
        if !first.isEmpty { dirty.insert(contentsOf: first, at: 0) }
        entries.removeAll(keepingCapacity: true)
    }

    /// At a flush that saves no states: an open entry is set aside, its state (and its row) waiting for the next
    /// flush that saves states (true); an ended one is to be settled now (false).
    mutating func setAside(_ entry: Entry) -> Bool {
        guard !entry.closed else { return false }
        entry.isDirty = false
        if !entry.stateStale {
            entry.stateStale = true
            entries.append(entry)
        }
        return true
    }
}

/// What spilling open messages takes in either correlator (`Correlator.spill(beyond:reader:)`): the budget, the
/// read-back connection, the counts and the first read-back failure.
struct OpenMessageSpill {
    /// Recipients of open messages kept in memory, about (`Int.max`: spilling is off).
    var budget = Int.max
    var reader: OpenStateReader?
    private(set) var spills = 0
    private(set) var reloads = 0
    private(set) var readFailure: Error?

    var isOn: Bool { budget < Int.max }

    /// Of `candidates`, those to spill so that `resident` (what the open messages in memory weigh) falls to the
    /// budget: least recently seen first, then by key, so a run spills the same messages whatever order a table
    /// lists them in. Counted as spilled.
    mutating func victims<E>(
        of candidates: [E], resident: Int, weight: (E) -> Int, lastSeen: (E) -> Int64, key: (E) -> String
    ) -> [E] {
        var resident = resident
        guard resident > budget else { return [] }
        let ordered = candidates.sorted {
            lastSeen($0) != lastSeen($1) ? lastSeen($0) < lastSeen($1) : key($0) < key($1)
        }
        var chosen: [E] = []
        for entry in ordered {
            if resident <= budget { break }
            resident -= weight(entry)
            chosen.append(entry)
        }
        spills += chosen.count
        return chosen
    }

    /// A spilled message's saved state, decoded by `decode`, or nil when it cannot be read (the first failure is
    /// kept: it ends the run at its next commit point). Counted as read back either way.
    mutating func readBack<S>(_ key: OpenStateKey, decode: (Data) throws -> S) -> S? {
        reloads += 1
        do {
            guard let body = try reader?.body(of: key) else {
                throw StoreError("internal error: a spilled open message's saved state is missing")
            }
            return try decode(body)
        } catch {
            if readFailure == nil { readFailure = error }
            return nil
        }
    }
}
