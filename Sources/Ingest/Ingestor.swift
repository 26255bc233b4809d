import Foundation
import Store

#if canImport(Glibc)
import Glibc
#endif

/// Which MTA's lines to read (`--mta`).
package enum MTASelection: String, Sendable, CaseIterable {
    case auto, postfix, exim
}

/// How to read the files of one `relaysum ingest`.
package struct IngestOptions: Sendable {
    package var mta: MTASelection = .auto
    /// Records every line under this relay name instead of the syslog host (and names Exim's host-less lines).
    package var host: String?
    /// The year of the first classic syslog stamp of each file (default: inferred from the file's time).
    package var year: Int?
    /// The zone classic stamps and zone-less Exim stamps are read in.
    package var timeZone: TimeZone = .current
    /// Lines per transaction, at most.
    package var batchLines = 50_000
    /// Changed messages per batch, at most: bounds memory when lines are dense in messages (Exim).
    package var batchMessages = 4_000
    /// Batches per transaction, at most. A batch's rows leave memory when it is written; the open messages' states
    /// are saved only with a commit (a committed batch is a point to resume from), and each commit writes again the
    /// pages every batch changes. On a busy relay the open messages saved at every batch were a sixth of the store's
    /// work, and their pages most of what it wrote (BENCHMARKS.md). A crash loses the batches since the last commit,
    /// which the next run reads again.
    package var batchesPerCommit = 6
    package var maxLineLength = 64 * 1024
    /// Open entries with no line for this long (log time) are aged out of memory; their rows stay.
    package var openEntryLifetime: Int64 = 10 * 86_400
    /// Examples kept per unparsed kind.
    package var examplesPerKind = 3
    /// Open messages each MTA's correlator holds in memory, at most: beyond it the least recently seen are closed as
    /// they stand (their rows stay), so logs whose messages never end cannot exhaust memory.
    package var maxOpenMessages = 200_000
    /// Recipients of open messages (each message counting one more) each MTA's correlator keeps in memory after a
    /// commit point, about: past it, the least recently seen open messages not in the batch just queued keep their
    /// recipients only in their saved state, read back when their next line comes, which keeps memory flat however
    /// long a busy relay's log (list messages held open for hours by one deferred recipient). Nil: all are kept.
    /// What is stored is the same either way (message row ids follow the batches, which the bound in
    /// `Ingestor.overResidentBound` may end sooner, as they follow `batchLines`). Not used with an in-memory database.
    package var residentRecipients: Int? = 20_000
    /// Recipients of the open messages changed since the last commit point (each message counting one more), at most:
    /// a batch ends there. Nil: no such bound. The messages of the batch being read and of the batch being written
    /// stay in memory whatever `residentRecipients`; on a busy relay (a 4 GB log over 14 days) the two hold most of
    /// the open messages, so a flat memory needs shorter batches, which cost the store time (see BENCHMARKS.md).
    package var batchRecipients: Int?
    /// The first ingest into an empty database is written as a `BulkLoad` (no write-ahead log, no waiting for the
    /// disk until its end).
    package var bulkLoad = true
    /// Fault injection for the crash tests: `fault` is raised in this process once this many lines have been read.
    package var faultAtLine: Int?
    package var fault = InjectedFault.kill

    package init() {}
}

/// What a fault-injection test does to the ingesting process (`--fault-at-line`).
package enum InjectedFault: String, Sendable, CaseIterable {
    /// SIGKILL: a crash, with no chance to clean up.
    case kill
    /// SIGSTOP, announced on stderr first: an ingest held still mid-run, for concurrency and rotation tests.
    case stop
}

/// What happened to one input file.
package struct FileReport: Sendable {
    package var path: String
    package var mta: MTA?
    /// Lines read this run.
    package var lines = 0
    /// Content bytes read this run.
    package var bytes: Int64 = 0
    /// Why nothing was read (`already ingested`, `empty`).
    package var note: String?
    /// The error that ended this file; everything before it is stored.
    package var error: String?
    package var heldBackBytes = 0
    /// It was truncated and written anew while read (`copytruncate`); the rest is in its rotated copy.
    package var replacedWhileReading = false
}

/// The outcome of one ingest run, for the stderr report.
package struct IngestReport: Sendable {
    package var files: [FileReport] = []
    package var stats = RunStats()
    /// Up to `examplesPerKind` positions per unparsed kind.
    package var examples: [String: [SourcePosition]] = [:]
    package var overlongLines = 0
    package var expiredOpenEntries = 0
    /// The most open messages one correlator held at a check (every 1,024 lines).
    package var peakOpenMessages = 0
    /// Lines with NUL bytes, read without them (see `Ingestor.withoutNUL`).
    package var linesWithNUL = 0
    /// Open messages closed as they stood because more than `maxOpenMessages` were open.
    package var evictedOpenEntries = 0
    /// Open messages kept only in the store for a while to stay under `residentRecipients` (each time counted), and
    /// read back from it.
    package var spilledOpenMessages = 0
    package var reloadedOpenMessages = 0

    package var failed: Bool { files.contains { $0.error != nil } }
}

/// Receives progress while files are read (a progress bar on a terminal).
package protocol IngestProgress: AnyObject {
    func fileStarted(_ path: String, size: Int64)
    func advanced(bytes: Int64)
    func fileFinished()
}

/// Streams log files through the envelope parser and the MTA correlators into the store, exactly once per line.
///
/// Per file, a checkpoint (fingerprint of its first content bytes, device, inode, size, offset) is committed in the
/// same transaction as the rows its lines produced, and so are snapshots of messages still open; a rotated file
/// (`mail.log` → `mail.log.1` → `mail.log.2.gz`) is recognised by its fingerprint and read on from its offset.
package final class Ingestor {
    /// Bytes of content that identify a file.
    package static let fingerprintBytes = 1024

    private let store: RelayStore
    private let options: IngestOptions
    private weak var progress: IngestProgress?
    private var postfix = PostfixCorrelator(rowIDs: RowIDAllocator(next: 1))
    private var exim = EximCorrelator(rowIDs: RowIDAllocator(next: 1))
    private var correlators: [Correlator] { [postfix, exim] }
    private var checkpoints: [SourceCheckpoint] = []
    private var report = IngestReport()
    /// The relay name of the last line (`host(of:)`): its bytes (the first 16 also packed, compared without a call
    /// to `memcmp`), whether it is `defaultHost` instead, its `String`, and its index in the Postfix correlator (-1:
    /// not looked up yet).
    private var hostCache: [UInt8] = []
    private var hostWords: (UInt64, UInt64) = (0, 0)
    private var hostIsDefault = false
    private var hostString = ""
    private var postfixHostIndex: Int32 = -1
    private var latestTime: Int64 = .min
    private let defaultHost: String
    private let pipeline: BatchPipeline
    private var nextCheckpointID: Int64 = 1
    /// `options.batchRecipients`, or no limit.
    private var pendingWeightLimit: Int { options.batchRecipients ?? Int.max }
    /// Twice `residentRecipients` when messages are spilled: a batch ends when the open messages in memory hold as
    /// many recipients as that (only the batch just queued and the one being read are then over the budget, and
    /// the commit lets the first be spilled). Checked every 8,192 lines.
    private var residentBound = Int.max
    private var overResidentBound: Bool {
        residentBound < Int.max && correlators.contains { $0.residentWeight >= residentBound }
    }

    package init(store: RelayStore, options: IngestOptions, progress: IngestProgress? = nil) {
        self.store = store
        self.options = options
        self.progress = progress
        self.pipeline = BatchPipeline(store: store)
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.defaultHost = options.host ?? String(decoding: bytes, as: UTF8.self)
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return path != "-" && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Reads `paths` (`-` is standard input) and stores what they say. Errors of one file end that file only.
    package func run(paths: [String]) throws -> IngestReport {
        let started = Int64(Date().timeIntervalSince1970)
        // Regular files only: a stream (standard input, a FIFO) may be a live log read for as long as it grows,
        // which is no import, and cannot be read again.
        try store.prepareForIngest(bulkLoad: options.bulkLoad && paths.allSatisfy(Self.isRegularFile))
        defer { store.endIngest() }
        let runID = try store.beginRun(at: started)
        // Days a failed or killed run left with stale buckets are built again from their rows.
        try store.writePendingAggregates()
        checkpoints = try store.checkpoints()
        nextCheckpointID = (checkpoints.compactMap(\.id).max() ?? 0) + 1
        let rowIDs = RowIDAllocator(next: try store.nextMessageRowID())
        // Both MTAs share one row-id allocator.
        postfix = PostfixCorrelator(rowIDs: rowIDs)
        exim = EximCorrelator(rowIDs: rowIDs)
        postfixHostIndex = -1
        let states = try store.openStates()
        let rowsCurrent = try store.previousRunEnded(before: runID)
        for c in correlators { try c.restore(states.filter { $0.id.mta == c.mta }, rowsCurrent: rowsCurrent) }
        if let budget = options.residentRecipients, store.path != ":memory:" {
            let reader = try store.openStateReader()
            for c in correlators { c.spill(beyond: budget, reader: reader) }
            residentBound = budget.multipliedReportingOverflow(by: 2).overflow ? Int.max : 2 * budget
        }

        // Open every file first: order them by their first stamp, so lines are correlated in time order whatever
        // order the files were given in.
        var inputs: [(source: LogSource, first: Int64, index: Int)] = []
        for (i, path) in paths.enumerated() {
            do {
                let source = try LogSource(path: path)
                let first = try firstTime(of: source)
                inputs.append((source, first ?? (source.isStdin ? .max : .min), i))
            } catch {
                report.files.append(FileReport(path: path, error: "\(error)"))
            }
        }
        inputs.sort { ($0.first, $0.index) < ($1.first, $1.index) }

        do {
            for input in inputs {
                try ingest(input.source)
            }
            // Messages whose end never comes are aged out of memory (their rows stay as written).
            if latestTime != .min {
                for c in correlators {
                    report.expiredOpenEntries += c.expire(lastSeenBefore: latestTime - options.openEntryLifetime)
                }
            }
            capOpenMessages()
            try commit(checkpoint: nil, final: true)
            // Spilled messages' rows, read back a budget's worth per batch.
            while correlators.contains(where: { $0.pendingCount > 0 }) { try commit(checkpoint: nil, final: true) }
            try pipeline.finish()
            try store.writePendingAggregates()
            for c in correlators {
                report.spilledOpenMessages += c.spillCounts.spilled
                report.reloadedOpenMessages += c.spillCounts.reloaded
            }
        } catch {
            try? pipeline.finish()
            // Batches since the last commit hold rows without the open messages' states: not a point to resume from.
            store.rollBackUncommitted()
            // The changes gathered before a failed write are lost with it, and their days stay listed as stale.
            try? store.writePendingAggregates()
            try? store.finishRun(
                runID, at: Int64(Date().timeIntervalSince1970), stats: report.stats, status: .failed("\(error)"))
            throw error
        }
        report.stats.files = report.files.count
        try store.finishRun(
            runID, at: Int64(Date().timeIntervalSince1970), stats: report.stats,
            status: report.failed ? .partial : .ok)
        return report
    }

    // MARK: one file

    private func ingest(_ source: LogSource) throws {
        var fileReport = FileReport(path: source.displayPath)
        defer { report.files.append(fileReport) }

        let head = try source.peekContent(upTo: Self.fingerprintBytes)
        if head.isEmpty {
            fileReport.note = "empty"
            return
        }
        var checkpoint = match(head) ?? newCheckpoint(for: source, head: head)
        // A longer fingerprint once the file has grown past a short first read.
        if head.count > checkpoint.fingerprintLength {
            checkpoint.fingerprint = Self.fnv1a(head[...])
            checkpoint.fingerprintLength = head.count
        }
        if checkpoint.id != nil && !source.isGzip && !source.isStream && source.fileSize < checkpoint.contentOffset
            && (source.device != checkpoint.device || source.inode != checkpoint.inode)
        {
            // Another file with the same start, shorter than what was read of the first: a copy taken before the
            // lines read from the original had all reached it (copytruncate racing a run). All of it was read.
            fileReport.note = "already ingested (a shorter copy of a file read further)"
            return
        }
        let unchanged =
            checkpoint.id != nil && checkpoint.atEnd && !source.isStream
            && (source.isGzip
                ? checkpoint.device == source.device && checkpoint.inode == source.inode
                    && checkpoint.fileSize == source.fileSize
                : source.fileSize == checkpoint.contentOffset)
        checkpoint.path = source.displayPath
        checkpoint.device = source.device
        checkpoint.inode = source.inode
        checkpoint.fileSize = source.fileSize
        checkpoint.isGzip = source.isGzip
        if unchanged {
            fileReport.note = "already ingested"
            if checkpoint.id != nil { pendingCheckpoints[checkpoint.fingerprintKey] = checkpoint }
            return
        }
        if !source.isGzip && !source.isStream && source.fileSize < checkpoint.contentOffset {
            // Truncated in place and refilled with the same first bytes: start over.
            checkpoint.contentOffset = 0
            checkpoint.lines = 0
        }

        var envelopes = EnvelopeParser(
            timeZone: options.timeZone, pinnedYear: options.year,
            reference: source.modificationTime > 0 ? source.modificationTime : Int64(Date().timeIntervalSince1970))
        var reader = LineReader(
            source: source, startOffset: checkpoint.contentOffset, firstLineNumber: checkpoint.lines + 1,
            maxLineLength: options.maxLineLength)
        let startOffset = checkpoint.contentOffset
        let startLine = checkpoint.lines
        // Progress of a gzip file goes by the compressed bytes read, of a plain one by the new bytes.
        progress?.fileStarted(source.displayPath, size: source.isGzip ? source.fileSize : source.fileSize - startOffset)
        let progressed = { (endOffset: Int64) in source.isGzip ? source.storedBytesRead : endOffset - startOffset }
        defer { progress?.fileFinished() }
        var linesSinceCommit = 0
        var lastOffset = checkpoint.contentOffset
        var lastLine = checkpoint.lines
        var mtaCounts = MTACounts()
        let file = source.displayPath
        // Held here for the file: read from the properties, a correlator was retained and released on every line.
        let postfix = self.postfix
        let exim = self.exim

        func commitFile(atEnd: Bool, committing: Bool = false) throws {
            checkpoint.contentOffset = lastOffset
            checkpoint.lines = lastLine
            checkpoint.atEnd = atEnd
            checkpoint.mta = mtaCounts.majority ?? checkpoint.mta
            checkpoint.updatedAt = Int64(Date().timeIntervalSince1970)
            if checkpoint.id == nil {
                checkpoint.id = nextCheckpointID
                nextCheckpointID += 1
            }
            // A stream's lines may come slowly (a live log on standard input): its batches are each committed, so
            // the transaction (and SQLite's write lock) is not held while the next lines are awaited, and a crash
            // loses no line that could not be read again.
            try commit(checkpoint: checkpoint, committing: committing || source.isStream)
        }

        do {
            let end = try reader.forEachLineMarkingNUL(
                deliverUnterminatedTail: source.isGzip || source.isStream,
                onOverlong: { [self] number, endOffset in
                    report.overlongLines += 1
                    count(.unparsed(kind: "line longer than \(options.maxLineLength) bytes"), file: file, line: number)
                    lastOffset = endOffset
                    lastLine = number
                }
            ) { line, number, endOffset, hasNUL in
                // The position is made only where it is used (Exim, unparsed lines): a `String` retained and released
                // on every line otherwise.
                let verdict: LineVerdict
                if !hasNUL {
                    verdict = handle(
                        line, envelopes: &envelopes, file: file, number: number, mtaCounts: &mtaCounts,
                        postfix: postfix, exim: exim)
                } else {
                    report.linesWithNUL += 1
                    verdict = Self.withoutNUL(line).withUnsafeBufferPointer {
                        handle(
                            ByteSlice($0), envelopes: &envelopes, file: file, number: number, mtaCounts: &mtaCounts,
                            postfix: postfix, exim: exim)
                    }
                }
                count(verdict, file: file, line: number)
                lastOffset = endOffset
                lastLine = number
                linesSinceCommit += 1
                if linesSinceCommit & 8191 == 0 { progress?.advanced(bytes: progressed(endOffset)) }
                // Over the bound the batch is committed: open messages can be spilled once their states are.
                let overBound = linesSinceCommit & 8191 == 0 && overResidentBound
                if linesSinceCommit >= options.batchLines
                    || (linesSinceCommit & 1023 == 0
                        && (postfix.pendingCount + exim.pendingCount >= options.batchMessages
                            || (pendingWeightLimit < Int.max
                                && postfix.pendingWeight + exim.pendingWeight >= pendingWeightLimit)
                            || overBound))
                {
                    progress?.advanced(bytes: progressed(endOffset))
                    try commitFile(atEnd: false, committing: overBound)
                    linesSinceCommit = 0
                }
            }
            fileReport.heldBackBytes = end.heldBackBytes
            fileReport.replacedWhileReading = source.replacedWhileReading
            try commitFile(atEnd: end.heldBackBytes == 0)
        } catch let error as LogSourceError {
            // Everything before the error stays: commit it, then report the file as failed.
            try commitFile(atEnd: false)
            fileReport.error = error.description
        }
        fileReport.lines = lastLine - startLine
        fileReport.bytes = lastOffset - startOffset
        fileReport.mta = checkpoint.mta
    }

    /// Distinct unparsed kinds named in one run's report; the rest are counted together.
    static let maxUnparsedKinds = 50

    /// C0 and C1 control characters and DEL: what a terminal may act on.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value)
    }

    /// `line` without its leading NUL bytes (the padding a crash leaves in a syslog file) and with every other NUL
    /// as U+FFFD: a NUL inside a stored text would cut it short wherever it is read as a C string.
    static func withoutNUL(_ line: ByteSlice) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count + 8)
        var i = 0
        while i < line.count && line[i] == 0 { i += 1 }
        while i < line.count {
            if line[i] == 0 {
                out += [0xEF, 0xBF, 0xBD]
            } else {
                out.append(line[i])
            }
            i += 1
        }
        return out
    }

    /// Routes one line to its MTA's correlator (`postfix` and `exim`: the properties, held by the caller).
    private func handle(
        _ line: ByteSlice, envelopes: inout EnvelopeParser, file: String, number: Int, mtaCounts: inout MTACounts,
        postfix: PostfixCorrelator, exim: EximCorrelator
    ) -> LineVerdict {
        report.stats.lines += 1
        if report.stats.lines == options.faultAtLine { injectFault() }
        if report.stats.lines & 1023 == 0 { capOpenMessages() }
        let envelope: Envelope
        switch envelopes.parse(line) {
        case .failure(let e):
            if line.trimmed.isEmpty || e == .foreignFormat { return .skipped }
            // Exim's reject log dumps the headers of each refused message on lines without a stamp.
            if options.mta != .postfix, mtaCounts.exim > 0 || file.contains("rejectlog") {
                let position = SourcePosition(file: file, line: number)
                return exim.consumeUnstamped(line, host: defaultHost, position: position)
            }
            return .unparsed(kind: "envelope: \(e.rawValue)")
        case .success(let e):
            envelope = e
        }
        if envelope.time > latestTime { latestTime = envelope.time }
        let mta: MTA
        if let program = envelope.program {
            if program.hasPrefix("postfix") {
                mta = .postfix
            } else if program.hasPrefix("exim") {
                mta = .exim
            } else {
                return .skipped  // dovecot, amavis, opendkim, …: other programs in the same file
            }
        } else if envelope.style == .exim {
            mta = .exim
        } else {
            return .unparsed(kind: "envelope: no program name")
        }
        if options.mta != .auto && options.mta.rawValue != mta.rawValue { return .skipped }
        switch mta {
        case .postfix:
            mtaCounts.postfix += 1
            if updateHost(of: envelope) || postfixHostIndex < 0 { postfixHostIndex = postfix.hostIndex(hostString) }
            return postfix.consume(envelope, hostIndex: postfixHostIndex)
        case .exim:
            mtaCounts.exim += 1
            // Exim's own lines name no host: the default stays without a call.
            // A change of host here is one for the next Postfix line too: its index is looked up again.
            if !hostIsDefault || (options.host == nil && envelope.host != nil), updateHost(of: envelope) {
                postfixHostIndex = -1
            }
            return exim.consume(envelope, host: hostString, position: SourcePosition(file: file, line: number))
        }
    }

    /// Keeps each correlator's open messages under `maxOpenMessages`: over it, the least recently seen tenth goes
    /// (checked every 1,024 lines, so a sort is paid once per many new messages).
    private func capOpenMessages() {
        let limit = options.maxOpenMessages
        for c in correlators {
            report.peakOpenMessages = max(report.peakOpenMessages, c.openMessageCount)
        }
        for c in correlators where c.openMessageCount > limit {
            report.evictedOpenEntries += c.evict(keepingAtMost: limit - limit / 10)
        }
    }

    private func injectFault() {
        switch options.fault {
        case .kill:
            kill(getpid(), SIGKILL)
        case .stop:
            let note = "relaysum: fault injection: stopping after line \(report.stats.lines)\n"
            _ = note.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
            kill(getpid(), SIGSTOP)
        }
    }

    /// Makes `hostString` the relay name of a line: `--host`, else its syslog host (one `String` per change of host,
    /// not per line). Returns whether it changed.
    @discardableResult private func updateHost(of envelope: Envelope) -> Bool {
        guard options.host == nil, let h = envelope.host else {
            if hostIsDefault { return false }
            hostIsDefault = true
            hostCache = []
            hostString = defaultHost
            return true
        }
        let words = h.packedWords
        if !hostIsDefault && h.count == hostCache.count && words == hostWords
            && (h.count <= 16 || hostCache.withUnsafeBufferPointer { h.equals(ByteSlice($0)) })
        {
            return false
        }
        hostIsDefault = false
        hostCache = Array(UnsafeBufferPointer(start: h.base, count: h.count))
        hostWords = words
        hostString = h.string
        return true
    }

    /// Counts a line.
    @inline(__always) private func count(_ verdict: LineVerdict, file: String, line: Int) {
        switch verdict {
        case .parsed: report.stats.parsed += 1
        case .skipped: report.stats.skipped += 1
        case .unparsed(let kind): countUnparsed(kind, file: file, line: line)
        }
    }

    /// Counts an unparsed line by kind and keeps its position as an example (made only here: a `String` retained and
    /// released on every line otherwise).
    private func countUnparsed(_ kind: String, file: String, line: Int) {
        report.stats.unparsed += 1
        var kind = kind
        // A kind may carry a program name from the log (`postfix/<daemon>: …`): no terminal control codes, and no
        // unbounded list of kinds from lines made up to differ.
        if kind.unicodeScalars.contains(where: Self.isControl) {
            kind = String(kind.unicodeScalars.map { Self.isControl($0) ? "?" : Character($0) })
        }
        if report.stats.unparsedKinds[kind] == nil && report.stats.unparsedKinds.count >= Self.maxUnparsedKinds {
            kind = "other kinds (more than \(Self.maxUnparsedKinds))"
        }
        report.stats.unparsedKinds[kind, default: 0] += 1
        if report.examples[kind, default: []].count < options.examplesPerKind {
            report.examples[kind, default: []].append(SourcePosition(file: file, line: line))
        }
    }

    // MARK: commits

    private var pendingCheckpoints: [String: SourceCheckpoint] = [:]

    /// Batches queued since the last commit.
    private var uncommittedBatches = 0

    /// Flushes the correlators and queues their output with `checkpoint` as one batch: committed, with the open
    /// messages' states, when it is `final`, `committing` or the `batchesPerCommit`-th since the last commit.
    private func commit(checkpoint: SourceCheckpoint?, final: Bool = false, committing: Bool = false) throws {
        var batch = WriteBatch()
        let commits = final || committing || uncommittedBatches + 1 >= options.batchesPerCommit
        for c in correlators {
            let out = c.flush(final: final, savingStates: commits)
            // A spilled message that could not be read back: its lines since then were handled without it.
            if let error = c.readFailure { throw error }
            Self.append(out.messages, to: &batch.messages)
            Self.append(out.deletedMessageRowIDs, to: &batch.deletedMessageRowIDs)
            Self.append(out.rejects, to: &batch.rejects)
            Self.append(out.authFailures, to: &batch.authFailures)
            Self.append(out.openStates, to: &batch.openStates)
            Self.append(out.closedStates, to: &batch.closedStates)
        }
        // Counted in place: a filtered copy of the messages cost a retain and a release of each of their strings.
        for i in batch.messages.indices where !batch.messages[i].replaces { report.stats.messages += 1 }
        report.stats.rejects += batch.rejects.count
        batch.checkpoints = Array(pendingCheckpoints.values)
        pendingCheckpoints.removeAll()
        if let checkpoint {
            batch.checkpoints.append(checkpoint)
            // Keep the in-memory list current: the same content may come again in this run (a file given twice).
            if let i = checkpoints.firstIndex(where: { $0.id == checkpoint.id }) {
                checkpoints[i] = checkpoint
            } else {
                checkpoints.append(checkpoint)
            }
        }
        guard !batch.isEmpty || (commits && uncommittedBatches > 0) else { return }
        // The buckets' changes are written once, after the last batch (RelayStore+StaleDays.swift).
        batch.defersAggregates = true
        batch.commits = commits
        uncommittedBatches = commits ? 0 : uncommittedBatches + 1
        // Handed over, not copied: the writer's must be the only reference to release the batch as it writes it.
        let queued = batch
        batch = WriteBatch()
        try pipeline.submit(queued)
        // After the last commit's first batch nothing is read back but for rows: nothing more to spill.
        if !final { for c in correlators { c.batchQueued() } }
    }

    /// Appends `items` to `list`, taking over their array when `list` is empty (one MTA's output mostly): copying
    /// the elements would retain every string in them, and their release would fall on the writer.
    private static func append<T>(_ items: [T], to list: inout [T]) {
        if list.isEmpty {
            list = items
        } else {
            list += items
        }
    }

    // MARK: fingerprints

    /// The stored checkpoint whose fingerprint matches the start of `head` (the longest match wins).
    private func match(_ head: [UInt8]) -> SourceCheckpoint? {
        var best: SourceCheckpoint?
        for c in checkpoints where c.fingerprintLength <= head.count {
            if Self.fnv1a(head[..<c.fingerprintLength]) == c.fingerprint,
                c.fingerprintLength > (best?.fingerprintLength ?? -1)
            {
                best = c
            }
        }
        return best
    }

    private func newCheckpoint(for source: LogSource, head: [UInt8]) -> SourceCheckpoint {
        SourceCheckpoint(
            fingerprint: Self.fnv1a(head[...]), fingerprintLength: head.count, path: source.displayPath, mta: nil,
            device: source.device, inode: source.inode, fileSize: source.fileSize, isGzip: source.isGzip,
            contentOffset: 0, lines: 0, atEnd: false, updatedAt: 0)
    }

    /// 64-bit FNV-1a.
    package static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// The time of the first line with a readable stamp in the first 64 KiB, for ordering the files.
    private func firstTime(of source: LogSource) throws -> Int64? {
        let head = try source.peekContent(upTo: 64 * 1024)
        var parser = EnvelopeParser(
            timeZone: options.timeZone, pinnedYear: options.year,
            reference: source.modificationTime > 0 ? source.modificationTime : Int64(Date().timeIntervalSince1970))
        return head.withUnsafeBufferPointer { buf -> Int64? in
            let all = ByteSlice(buf)
            var start = 0
            while start < all.count {
                let end = all.firstIndex(of: UInt8(ascii: "\n"), from: start) ?? all.count
                if case .success(let e) = parser.parse(all.slice(start, end)) { return e.time }
                start = end + 1
            }
            return nil
        }
    }
}

/// Lines of each MTA in one file, to record which MTA wrote it.
private struct MTACounts {
    var postfix = 0
    var exim = 0

    var majority: MTA? {
        postfix == 0 && exim == 0 ? nil : postfix >= exim ? .postfix : .exim
    }
}

extension SourceCheckpoint {
    fileprivate var fingerprintKey: String { "\(fingerprint)/\(fingerprintLength)/\(id ?? -1)" }
}
