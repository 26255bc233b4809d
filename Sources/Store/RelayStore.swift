import CSQLiteConfig
import Foundation
import GRDB
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the store, with a message for the operator (never SQL arguments or mail addresses).
package struct StoreError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }

    /// A database error that a read let through, as the operator should see it: SQLite's message, never the SQL
    /// or its arguments (which may hold addresses). Nil for any other error.
    package static func from(_ error: Error) -> StoreError? {
        guard let e = error as? DatabaseError else { return nil }
        return StoreError("database error: \(e.message ?? "\(e.resultCode)")")
    }
}

/// The one owner of relaysum's SQLite database: its connection, its only migrator, and the named reads and writes.
/// Nothing else in relaysum writes SQL.
package final class RelayStore: @unchecked Sendable {
    package let path: String
    private let dbQueue: DatabaseQueue
    /// The bulk writer's bound text (used inside `dbQueue.write` only, so one at a time).
    let arena = BindArena()
    /// Bucket changes an ingest gathered over its batches (RelayStore+StaleDays.swift); used inside `dbQueue.write`
    /// only.
    let pending = PendingAggregates()
    /// Copies the log back during an ingest (`prepareForIngest()` to `endIngest()`); used inside `dbQueue` only.
    private var checkpointer: WALCheckpointer?

    /// SQLite's process-wide settings, made once before the first connection.
    private static let configured: Void = { _ = relaysum_sqlite_configure() }()

    /// Opens (creating with mode 0600 and migrating) the database at `path`.
    package init(path: String, readOnly: Bool = false) throws {
        Self.configured
        self.path = path
        if !readOnly && path != ":memory:" {
            // The database holds personal data (addresses, IPs): create it readable by its owner only.
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            if fd < 0 {
                throw StoreError("cannot open database \(path): \(String(cString: strerror(errno)))")
            }
            close(fd)
        } else if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw StoreError("no database at \(path) (run `relaysum ingest` first, or pass --db)")
        }
        if path != ":memory:" && BulkLoad.markedBoot(of: path) != nil {
            if BulkLoad.interruptedBySystemStop(path) { throw StoreError(BulkLoad.interruptedMessage(path)) }
            // A first import running, or killed in this boot. Killed, it left a journal that the first connection
            // able to write rolls back; a read-only one could not (SQLITE_READONLY_ROLLBACK), so one that can reads
            // first. A running import holds its lock and the journal is left alone.
            if readOnly { Self.rollBackKilledImport(path) }
            BulkLoad.settleKilledImport(path)
        }
        // Still marked: a first import runs (or this is the ingest after a killed one, which switches itself). This
        // connection must not switch the file to WAL between the import's transactions; it writes through the
        // journal, as the import does.
        let keepsJournal = path != ":memory:" && BulkLoad.markedBoot(of: path) != nil
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(10)
        // An ingest's transaction spans several batches, each written in its own access (`write(releasing:)`).
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            if !readOnly {
                // 8 KiB pages, not SQLite's 4 KiB: half the page reads and writes (each a system call) for the same
                // rows, and fewer instructions (BENCHMARKS.md). Takes effect only when the file is created; a
                // database made by an earlier version keeps its 4 KiB pages.
                try db.execute(sql: "PRAGMA page_size = 8192")
                if !keepsJournal { try db.execute(sql: "PRAGMA journal_mode = WAL") }
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // Rather than every 1,000 pages (see `checkpointPages`).
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
            }
        }
        do {
            dbQueue = try DatabaseQueue(path: path, configuration: config)
            if !readOnly { try Self.migrator.migrate(dbQueue) }
        } catch let error as DatabaseError {
            throw StoreError("cannot open database \(path): \(Self.describe(error, systemErrno: 0))")
        }
    }

    /// Opens `path` read-write once and reads from it, which rolls back the journal of a killed first import.
    private static func rollBackKilledImport(_ path: String) {
        var handle: OpaquePointer?
        if sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK {
            sqlite3_busy_timeout(handle, 10_000)
            sqlite3_exec(handle, "SELECT count(*) FROM sqlite_schema", nil, nil, nil)
        }
        sqlite3_close_v2(handle)
    }

    // MARK: schema

    /// String-named migrations, never edited once released.
    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY,
                        host TEXT NOT NULL,
                        mta TEXT NOT NULL,
                        queue_id TEXT NOT NULL,
                        message_id TEXT,
                        origin TEXT NOT NULL,
                        account TEXT,
                        client_ip TEXT,
                        client_name TEXT,
                        sasl_method TEXT,
                        sender TEXT NOT NULL,
                        sender_domain TEXT,
                        size INTEGER,
                        nrcpt INTEGER,
                        received_at INTEGER NOT NULL,
                        completed_at INTEGER,
                        recipients INTEGER NOT NULL,
                        delivered INTEGER NOT NULL,
                        deferred INTEGER NOT NULL,
                        bounced INTEGER NOT NULL
                    );
                    CREATE INDEX messages_received_at ON messages(received_at);
                    CREATE TABLE recipients (
                        message INTEGER NOT NULL,
                        address TEXT NOT NULL,
                        domain TEXT,
                        original_address TEXT,
                        outcome TEXT NOT NULL,
                        dsn TEXT,
                        relay TEXT,
                        reply TEXT,
                        last_attempt_at INTEGER,
                        attempts INTEGER NOT NULL,
                        -- Clustered by message: rows arrive in message order, and a rewrite deletes a prefix.
                        PRIMARY KEY (message, address) ON CONFLICT REPLACE
                    ) WITHOUT ROWID;
                    CREATE TABLE rejects (
                        id INTEGER PRIMARY KEY,
                        host TEXT NOT NULL,
                        mta TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        stage TEXT,
                        queue_id TEXT,
                        client_ip TEXT,
                        client_name TEXT,
                        login TEXT,
                        sender TEXT,
                        recipient TEXT,
                        code TEXT,
                        dsn TEXT,
                        reason TEXT NOT NULL,
                        helo TEXT
                    );
                    CREATE INDEX rejects_at ON rejects(at);
                    CREATE TABLE auth_failures (
                        id INTEGER PRIMARY KEY,
                        host TEXT NOT NULL,
                        mta TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        client_ip TEXT,
                        client_name TEXT,
                        login TEXT,
                        mechanism TEXT,
                        reason TEXT NOT NULL
                    );
                    CREATE INDEX auth_failures_at ON auth_failures(at);
                    CREATE TABLE source_files (
                        id INTEGER PRIMARY KEY,
                        fingerprint INTEGER NOT NULL,
                        fingerprint_length INTEGER NOT NULL,
                        path TEXT NOT NULL,
                        mta TEXT,
                        device INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        file_size INTEGER NOT NULL,
                        is_gzip INTEGER NOT NULL,
                        content_offset INTEGER NOT NULL,
                        lines INTEGER NOT NULL,
                        at_end INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE open_states (
                        mta TEXT NOT NULL,
                        host TEXT NOT NULL,
                        key TEXT NOT NULL,
                        body BLOB NOT NULL,
                        last_seen INTEGER NOT NULL,
                        PRIMARY KEY (mta, host, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE ingest_runs (
                        id INTEGER PRIMARY KEY,
                        started_at INTEGER NOT NULL,
                        finished_at INTEGER,
                        files INTEGER NOT NULL DEFAULT 0,
                        lines INTEGER NOT NULL DEFAULT 0,
                        parsed INTEGER NOT NULL DEFAULT 0,
                        skipped INTEGER NOT NULL DEFAULT 0,
                        unparsed INTEGER NOT NULL DEFAULT 0,
                        messages INTEGER NOT NULL DEFAULT 0,
                        rejects INTEGER NOT NULL DEFAULT 0,
                        status TEXT NOT NULL,
                        unparsed_kinds TEXT
                    );
                    """)
        }
        registerAggregateMigrations(&m)
        registerActivityMigrations(&m)
        registerARFMigrations(&m)
        registerStaleDayMigrations(&m)
        return m
    }

    // MARK: ingest state

    /// The row id the next new message gets.
    package func nextMessageRowID() throws -> Int64 {
        try dbQueue.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM messages") ?? 1 }
    }

    package func openStates() throws -> [OpenState] {
        try dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT mta, host, key, body, last_seen FROM open_states").compactMap { row in
                guard let mta = MTA(rawValue: row["mta"]) else { return nil }
                return OpenState(
                    id: OpenStateKey(mta: mta, host: row["host"], key: row["key"]), body: row["body"],
                    lastSeen: row["last_seen"])
            }
        }
    }

    package func checkpoints() throws -> [SourceCheckpoint] {
        try dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM source_files ORDER BY id").map { row in
                SourceCheckpoint(
                    id: row["id"], fingerprint: UInt64(bitPattern: row["fingerprint"]),
                    fingerprintLength: row["fingerprint_length"], path: row["path"],
                    mta: (row["mta"] as String?).flatMap(MTA.init(rawValue:)),
                    device: UInt64(bitPattern: row["device"]), inode: UInt64(bitPattern: row["inode"]),
                    fileSize: row["file_size"], isGzip: row["is_gzip"], contentOffset: row["content_offset"],
                    lines: row["lines"], atEnd: row["at_end"], updatedAt: row["updated_at"])
            }
        }
    }

    /// Records the start of an ingest run; returns its id.
    package func beginRun(at time: Int64) throws -> Int64 {
        try transaction { db in
            // Only one ingest runs at a time (the CLI's lock): a run still marked running was killed.
            try db.execute(
                sql: "UPDATE ingest_runs SET status = ? WHERE status = ?",
                arguments: [RunStatus.interrupted.text, RunStatus.running.text])
            try db.execute(
                sql: "INSERT INTO ingest_runs (started_at, status) VALUES (?, ?)",
                arguments: [time, RunStatus.running.text])
            return db.lastInsertedRowID
        }
    }

    /// Whether the run before run `id` ended with its last commit (`ok`, or `partial` when some files failed), so
    /// the rows of the messages it left open are as their saved states say; false after a killed or failed run.
    package func previousRunEnded(before id: Int64) throws -> Bool {
        try read { db in
            let status = try String.fetchOne(
                db, sql: "SELECT status FROM ingest_runs WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [id])
            return status.map(RunStatus.endedWithLastCommit) ?? true
        }
    }

    package func finishRun(_ id: Int64, at time: Int64, stats: RunStats, status: RunStatus) throws {
        try transaction { db in
            try db.execute(
                sql: """
                    UPDATE ingest_runs SET finished_at = ?, files = ?, lines = ?, parsed = ?, skipped = ?,
                        unparsed = ?, messages = ?, rejects = ?, status = ?, unparsed_kinds = ? WHERE id = ?
                    """,
                arguments: [
                    time, stats.files, stats.lines, stats.parsed, stats.skipped, stats.unparsed, stats.messages,
                    stats.rejects, status.text, stats.unparsedKindsJSON, id,
                ])
        }
    }

    // MARK: the bulk write

    /// Writes one batch (rows, open-entry snapshots and file checkpoints) and commits it, with the batches written
    /// before it uncommitted: after a crash the database is as it was at the last commit.
    package func write(_ batch: WriteBatch) throws {
        var batch = batch
        try write(releasing: &batch)
    }

    /// Writes `batch` and releases its open states and its open messages' recipients as they are written (an
    /// ingest's batch, held by nothing else, then stops sharing them with the correlators during the write); what
    /// remains of it is left in `batch`.
    ///
    /// The batch joins the transaction the batches before it left open, or begins one, and commits it when
    /// `batch.commits`: an ingest commits every few batches (`IngestOptions.batchesPerCommit`), so the pages its
    /// batches all change (index tails, open states) are written once per commit. A failure rolls back every batch
    /// since the last commit.
    package func write(releasing batch: inout WriteBatch) throws {
        defer {
            // A bulk load's pages go to disk while the import goes on, not all at its last fdatasync (23 ms at the
            // end of the 200 MB Postfix log, under 1 ms with this, which costs the writer 11 ms over the run).
            if bulkFile >= 0 { relaysum_start_writeback(bulkFile) }
        }
        try withPendingAggregates {
            try transaction(joining: true, commit: batch.commits) { db in
                let writer = BulkWriter(db: db, arena: arena)
                var deltas =
                    pending.deltas.take()
                    ?? AggregateDeltas(messages: batch.messages.count + batch.deletedMessageRowIDs.count)
                try writer.write(&batch, into: &deltas)
                if batch.defersAggregates && !pending.lost && deltas.bucketCount < Self.pendingBucketLimit
                    && deltas.domainNames.strings.count < Self.pendingBucketLimit
                {
                    // The newest two days wait: a batch at midnight still adds to the day before.
                    if let newest = deltas.days.max() {
                        try writer.writeDays(before: newest - Self.daySeconds, of: &deltas, pending)
                    }
                    try writer.listStale(deltas.days, in: pending)
                    pending.deltas = deltas
                } else {
                    // `deltas` holds the changes gathered before this batch too (taken above).
                    try writer.settle(deltas, pending)
                }
            }
        }
    }

    /// Sets the connection up for an ingest's batches, until `endIngest()`:
    /// - a page cache of 1 MiB, not SQLite's 2 MiB. An ingest's batches append to the tables' and indexes' ends and
    ///   upsert a few thousand buckets; the smaller cache cost no time measured on the 1 GB benchmark logs, and kept
    ///   the 4 GB Exim log's peak memory under 64 MiB (BENCHMARKS.md);
    /// - statement journals in memory. A multi-row bucket upsert may abort halfway (its DO UPDATE checks NOT NULL
    ///   with ABORT), so SQLite copies every page it changes first; past 64 KiB in a transaction that copy went to a
    ///   temporary file in /var/tmp (22,000 of the 50,000 `pwrite` calls of the 200 MB Exim ingest). In memory it is
    ///   one statement's pages, freed when the statement ends.
    /// - the write-ahead log copied back into the database by a `WALCheckpointer`, on a thread of its own, each time
    ///   it has grown by `checkpointPages` pages, and by the writer only once it holds `maxLogPages`, where it copies
    ///   what the other thread has not (about one commit's pages). The defaults, 1,024 and 4,096 pages (8 and 32 MiB
    ///   at 8 KiB pages), keep the log as large as SQLite's automatic checkpoint did (`checkpointPages`): a log that
    ///   starts over reuses its file's pages in the page cache, where a larger one needs new pages, which cost this
    ///   machine's VM far more than they save (BENCHMARKS.md).
    ///
    /// `bulkLoad`: a database that holds nothing yet is written as a `BulkLoad` (no write-ahead log, no checkpointer,
    /// no waiting for the disk) until `endIngest()`; `isBulkLoading` tells.
    package func prepareForIngest(
        bulkLoad: Bool = false, checkpointPages: Int32 = 1024, maxLogPages: Int32 = RelayStore.checkpointPages
    ) throws {
        // A first import killed earlier in this boot: its database is whole (its journal rolled back when it was
        // opened); flushed to disk, it no longer needs its marker.
        if path != ":memory:" && BulkLoad.markedBoot(of: path) != nil { try BulkLoad.flushAndRemoveMarker(of: path) }
        try writeOutsideTransaction { db in
            try db.execute(sql: "PRAGMA cache_size = -1024")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            if bulkLoad, path != ":memory:", let boot = BulkLoad.bootID, try Self.holdsNothing(db) {
                try BulkLoad.createMarker(for: path, bootID: boot)
                // Only a connection alone on the database can leave WAL mode: with a reader open it stays in it.
                let mode = try? String.fetchOne(db, sql: "PRAGMA journal_mode = TRUNCATE")
                if mode == "truncate" {
                    do {
                        try db.execute(sql: "PRAGMA synchronous = OFF")
                        // A report reading for longer than GRDB's 10 s would otherwise fail the import at a commit.
                        try db.execute(sql: "PRAGMA busy_timeout = 600000")
                    } catch {
                        try? BulkLoad.flushAndRemoveMarker(of: path)
                        throw error
                    }
                    bulkFile = open(path, O_RDONLY | O_CLOEXEC)
                    isBulkLoading = true
                    return
                }
                try BulkLoad.flushAndRemoveMarker(of: path)
            }
            // A database a bulk load left in rollback-journal mode (a reader held it at its end) goes back to WAL.
            _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            // A checkpointer already attached (a test's, with its own limits) is kept.
            if checkpointer == nil, path != ":memory:",
                let c = WALCheckpointer(path: path, pages: checkpointPages, maxPages: maxLogPages)
            {
                c.attach(to: db.sqliteConnection!)
                checkpointer = c
            }
        }
    }

    /// Ends what `prepareForIngest()` set for the batches: the writer checkpoints the log itself again, and the
    /// temporary tables of the queries run next (the hours of account activity) go to files again, as SQLite's
    /// default, not to memory.
    ///
    /// A bulk load ends in WAL mode again (unless a reader holds the database then: the next open switches it), with
    /// the database flushed to disk and its marker removed (not with a transaction still open, which a failed run
    /// has rolled back before).
    package func endIngest() {
        try? writeOutsideTransaction { db in
            detachCheckpointer(db)  // first: a failing PRAGMA must not leave the hook in place
            try db.execute(sql: "PRAGMA temp_store = DEFAULT")
        }
        guard isBulkLoading else { return }
        isBulkLoading = false
        if bulkFile >= 0 { close(bulkFile) }
        bulkFile = -1
        try? writeOutsideTransaction { db in
            guard !db.isInsideTransaction else { return }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA busy_timeout = 10000")
            _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try BulkLoad.flushAndRemoveMarker(of: path)
        }
    }

    /// The reader of saved open states for this ingest: a connection of its own, or during a bulk load the writer's
    /// (`OpenStateReader.init(sharing:)`).
    package func openStateReader() throws -> OpenStateReader {
        isBulkLoading ? OpenStateReader(sharing: dbQueue) : try OpenStateReader(path: path)
    }

    /// Whether the database holds nothing an ingest or `arf send` wrote: no file read, no row of mail, no report sent.
    private static func holdsNothing(_ db: Database) throws -> Bool {
        let tables = ["source_files", "messages", "rejects", "auth_failures", "open_states", "arf_reports"]
        let sql = "SELECT " + tables.map { "NOT EXISTS (SELECT 1 FROM \($0))" }.joined(separator: " AND ")
        return try Bool.fetchOne(db, sql: sql) ?? false
    }

    /// The database file, open for `relaysum_start_writeback` during a bulk load; -1 otherwise.
    private var bulkFile: Int32 = -1
    /// An ingest writing as a `BulkLoad`, from `prepareForIngest(bulkLoad: true)` to `endIngest()`.
    package private(set) var isBulkLoading = false

    /// Hands the log back to SQLite's automatic checkpoint and closes the checkpointer's connection, if one is
    /// attached: its hook must not outlive it, and the writer's close must be the last, which copies the rest of the
    /// log and deletes it.
    private func detachCheckpointer(_ db: Database) {
        guard let c = checkpointer else { return }
        c.detach(from: db.sqliteConnection!, autocheckpoint: Self.checkpointPages)
        lastIngestCheckpoints = c.counts
        checkpointer = nil
    }

    deinit {
        if bulkFile >= 0 { close(bulkFile) }
        if checkpointer != nil { dbQueue.writeWithoutTransaction { db in detachCheckpointer(db) } }
    }

    /// The checkpoints of the last ingest (`prepareForIngest()` to `endIngest()`): on the checkpointer's thread, and
    /// on the writer.
    package private(set) var lastIngestCheckpoints = (background: 0, onWriter: 0)

    /// SQLite's automatic checkpoint, outside an ingest: every 4,096 pages (32 MiB at 8 KiB), not every 1,000.
    static let checkpointPages: Int32 = 4096

    /// Rolls back what an ingest wrote since its last commit, if anything (a run that ends on an error between
    /// batches); the bucket changes gathered with it are lost, so their days are built again from the rows.
    package func rollBackUncommitted() {
        dbQueue.writeWithoutTransaction { db in rollBackUncommitted(db) }
    }

    private func rollBackUncommitted(_ db: Database) {
        guard db.isInsideTransaction else { return }
        try? db.rollback()
        pending.deltas = nil
        pending.lost = true
    }

    /// Runs `body` in one write transaction and commits it unless `commit` is false. `joining`: in the transaction
    /// an earlier call left open, if any (an ingest's batches); any other write first rolls back what such a
    /// transaction holds, which is not a state to resume from. A failure rolls the transaction back and is a
    /// `StoreError` naming the database and, for an I/O error, the system's reason (`disk I/O error (File too
    /// large)`), taken before the rollback can reset it.
    func transaction<T>(joining: Bool = false, commit: Bool = true, _ body: (Database) throws -> T) throws -> T {
        try dbQueue.writeWithoutTransaction { db in
            do {
                if !joining { rollBackUncommitted(db) }
                if !db.isInsideTransaction { try db.beginTransaction() }
                let result: T
                do {
                    result = try body(db)
                    if commit { try db.commit() }
                } catch {
                    let code = sqlite3_system_errno(db.sqliteConnection)
                    if db.isInsideTransaction { try? db.rollback() }
                    guard let error = error as? DatabaseError else { throw error }
                    throw StoreError("cannot write to \(path): \(Self.describe(error, systemErrno: code))")
                }
                return result
            } catch let error as DatabaseError {
                throw StoreError("cannot write to \(path): \(Self.describe(error, systemErrno: 0))")
            }
        }
    }

    /// SQLite's message, with the system's reason for an I/O error.
    private static func describe(_ error: DatabaseError, systemErrno code: Int32) -> String {
        var text = error.message ?? "\(error.resultCode)"
        guard error.resultCode == .SQLITE_IOERR else { return text }
        if code != 0, let reason = strerror(code) {
            text += " (\(String(cString: reason)))"
        } else if [.SQLITE_IOERR_WRITE, .SQLITE_IOERR_FSYNC, .SQLITE_IOERR_TRUNCATE, .SQLITE_IOERR_SHMSIZE]
            .contains(error.extendedResultCode)
        {
            text += " (a write failed: is the disk full, or a file size limit reached?)"
        }
        return text
    }

    // MARK: reads for reports

    /// Runs `body` with read access (for the Reports module's named queries).
    package func read<T>(_ body: (Database) throws -> T) throws -> T {
        try dbQueue.read(body)
    }

    /// Runs `body` in a write transaction (for this module's named writes).
    func writeAccess<T>(_ body: (Database) throws -> T) throws -> T {
        try dbQueue.write(body)
    }

    /// Runs `body` outside a transaction (for statements that cannot run in one, such as VACUUM).
    func writeOutsideTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try dbQueue.writeWithoutTransaction(body)
    }
}

/// How an ingest run ended, as `ingest_runs.status` spells it.
package enum RunStatus: Equatable, Sendable {
    /// Started and not finished; found still so by the next run, it becomes `interrupted`.
    case running
    /// A later run found it still running: the process was killed.
    case interrupted
    /// Every file read to its end.
    case ok
    /// Ended with its last commit, but some files failed (named in the run's report).
    case partial
    /// Stopped by an error before its last commit; the text is the error.
    case failed(String)

    package var text: String {
        switch self {
        case .running: "running"
        case .interrupted: "interrupted"
        case .ok: "ok"
        case .partial: "partial"
        case .failed(let why): "failed: \(why)"
        }
    }

    /// Whether a run stored as `text` ended with its last commit (`ok` or `partial`).
    static func endedWithLastCommit(_ text: String) -> Bool {
        text == RunStatus.ok.text || text == RunStatus.partial.text
    }
}

/// Counters of one ingest run, stored in `ingest_runs`.
package struct RunStats: Sendable {
    package var files = 0
    package var lines = 0
    package var parsed = 0
    package var skipped = 0
    package var unparsed = 0
    package var messages = 0
    package var rejects = 0
    package var unparsedKinds: [String: Int] = [:]

    package init() {}

    var unparsedKindsJSON: String? {
        guard !unparsedKinds.isEmpty, let data = try? JSONEncoder().encode(unparsedKinds) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What relaysum remembers of one log file it has read: which content it is (fingerprint of its first bytes) and
/// how far it got.
package struct SourceCheckpoint: Sendable, Equatable {
    package var id: Int64?
    /// FNV-1a of the first `fingerprintLength` content bytes (decompressed for gzip).
    package var fingerprint: UInt64
    package var fingerprintLength: Int
    /// Where it was last seen.
    package var path: String
    package var mta: MTA?
    package var device: UInt64
    package var inode: UInt64
    /// Size on disk when last read (compressed size for gzip).
    package var fileSize: Int64
    package var isGzip: Bool
    /// Content bytes consumed: the offset just after the last whole line read.
    package var contentOffset: Int64
    /// Lines consumed (for `file:line` in messages).
    package var lines: Int
    /// The whole content was read (nothing held back).
    package var atEnd: Bool
    package var updatedAt: Int64

    package init(
        id: Int64? = nil, fingerprint: UInt64, fingerprintLength: Int, path: String, mta: MTA?, device: UInt64,
        inode: UInt64, fileSize: Int64, isGzip: Bool, contentOffset: Int64, lines: Int, atEnd: Bool, updatedAt: Int64
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        self.path = path
        self.mta = mta
        self.device = device
        self.inode = inode
        self.fileSize = fileSize
        self.isGzip = isGzip
        self.contentOffset = contentOffset
        self.lines = lines
        self.atEnd = atEnd
        self.updatedAt = updatedAt
    }
}

/// Everything one transaction writes.
package struct WriteBatch: Sendable {
    package var messages: [MessageWrite] = []
    package var deletedMessageRowIDs: [Int64] = []
    package var rejects: [RejectRecord] = []
    package var authFailures: [AuthFailureRecord] = []
    package var openStates: [OpenState] = []
    package var closedStates: [OpenStateKey] = []
    /// Checkpoints to insert (id nil) or update.
    package var checkpoints: [SourceCheckpoint] = []
    /// The aggregates' changes may wait in memory for a later write (an ingest's batches but its last): the days
    /// they touch are listed as stale meanwhile (RelayStore+StaleDays.swift). False writes them, and those gathered
    /// before, in this transaction.
    package var defersAggregates = false
    /// Commits the transaction: false leaves it open for the next batch (an ingest's batch whose open messages'
    /// states are not saved: committed, it would not be a state to resume from).
    package var commits = true

    package init() {}

    package var isEmpty: Bool {
        messages.isEmpty && deletedMessageRowIDs.isEmpty && rejects.isEmpty && authFailures.isEmpty
            && openStates.isEmpty && closedStates.isEmpty && checkpoints.isEmpty
    }
}
