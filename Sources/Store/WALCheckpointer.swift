import Dispatch
import Foundation
import GRDBSQLite

/// Copies an ingest's write-ahead log back into the database on a thread and a connection of its own, so that the
/// writer does not stop for it.
///
/// SQLite's automatic checkpoint runs on the connection that commits, inside its commit: it reads the log's new
/// pages, writes them into the database file and waits for two `fdatasync`s. During an ingest that connection is the
/// store's writer, and the line reader soon waits for it (one batch in flight): the 200 MB benchmark logs stopped for
/// 60–100 ms at each checkpoint (BENCHMARKS.md). Here the writer's commits only ask for a checkpoint (a WAL hook, in
/// place of the automatic one) each time the log has grown by `pages` pages, and a passive checkpoint copies what is
/// committed while the writer goes on. A checkpoint that cannot finish (the writer's next commit came first) is taken
/// up by the next; SQLite starts the log over once one has copied everything before the writer's next transaction.
/// Whatever is left is copied at the last connection's close, as without this.
///
/// A failed checkpoint (a full disk, a lock held by a reader) leaves its pages in the log, where they are read as
/// before and copied later: it loses nothing and is not reported.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: OpaquePointer
    private let pages: Int32
    private let maxPages: Int32
    private let queue = DispatchQueue(label: "relaysum.wal-checkpoint")
    private let lock = NSLock()
    private var running = false
    /// Pages in the log when the last checkpoint was asked for.
    private var askedAt: Int32 = 0
    /// Checkpoints run on this checkpointer's thread, and by the writer (`maxPages`); read through `counts`.
    private var background = 0
    private var onWriter = 0

    /// Opens its own connection to the database at `path` (already in WAL mode); nil if it cannot, and the caller
    /// keeps SQLite's automatic checkpoint. `pages`: the log's growth that asks for a checkpoint. `maxPages`: the
    /// log's length at which the writer checkpoints itself, as SQLite's automatic checkpoint would.
    init?(path: String, pages: Int32, maxPages: Int32) {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            let handle,
            // A connection that has read nothing has not opened the log, and SQLite 3.40's checkpoint is then a no-op.
            sqlite3_exec(handle, "SELECT count(*) FROM sqlite_schema", nil, nil, nil) == SQLITE_OK
        else {
            sqlite3_close_v2(handle)
            return nil
        }
        connection = handle
        self.pages = pages
        self.maxPages = maxPages
    }

    /// Makes `writer`'s commits ask this checkpointer, in place of SQLite's automatic checkpoint.
    func attach(to writer: OpaquePointer) {
        sqlite3_wal_hook(writer, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Hands `writer` back to SQLite's automatic checkpoint every `autocheckpoint` pages, waits for a running
    /// checkpoint and closes this connection.
    func detach(from writer: OpaquePointer, autocheckpoint: Int32) {
        sqlite3_wal_autocheckpoint(writer, autocheckpoint)
        queue.sync {}
        sqlite3_close_v2(connection)
    }

    /// Called on the writer after each of its commits, with the log's length in pages.
    ///
    /// The log starts over only when a write transaction begins after a checkpoint has copied all of it, which a
    /// checkpoint running beside the writer's next transaction never has: the log would grow with the whole ingest.
    /// Past `maxPages` the writer copies what the background checkpoints left (about one commit's pages) itself.
    fileprivate func committed(_ writer: OpaquePointer, logPages: Int32) {
        lock.lock()
        if logPages < askedAt { askedAt = 0 }  // started over
        if logPages >= maxPages {
            askedAt = logPages
            onWriter += 1
            lock.unlock()
            queue.sync {}  // a checkpoint still running on the other thread would make this one fail (busy)
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        if running || logPages - askedAt < pages {
            lock.unlock()
            return
        }
        askedAt = logPages
        running = true
        lock.unlock()
        queue.async { [self] in
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            lock.withLock {
                running = false
                background += 1
            }
        }
    }

    /// How many checkpoints ran on the background thread and on the writer.
    var counts: (background: Int, onWriter: Int) {
        lock.withLock { (background, onWriter) }
    }
}

private func walHook(
    _ context: UnsafeMutableRawPointer?, _ writer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ pages: Int32
) -> Int32 {
    guard let context, let writer else { return SQLITE_OK }
    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(writer, logPages: pages)
    return SQLITE_OK
}
