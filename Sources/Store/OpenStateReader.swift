import Foundation
import GRDB

/// Reads single saved open states on a read-only connection of its own, while the store's writer writes.
///
/// An ingest that keeps only some open messages in memory reads the others back from `open_states` when their next
/// line comes. In WAL mode this connection sees the last committed batch without waiting for the writer's
/// transaction, so the reading thread never blocks on the batch being written.
package final class OpenStateReader {
    private let dbQueue: DatabaseQueue

    /// Opens a read-only connection to the database at `path` (a file: an in-memory database has no second
    /// connection).
    package init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        // Point lookups of states written moments ago (in the WAL, or the pages just checkpointed): a page cache of
        // the default 2 MiB would only add to the ingest's peak memory as it fills.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -256") }
        do {
            dbQueue = try DatabaseQueue(path: path, configuration: config)
        } catch let error as DatabaseError {
            throw StoreError("cannot open database \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Reads on the store's own connection, between its batches: during a `BulkLoad` (a rollback journal, not WAL)
    /// another connection would wait for the writer's transaction, which spans batches still to be read. The
    /// writer's view is the last commit and the batches written since, which change no saved state but delete the
    /// states of messages that ended (never read back again).
    init(sharing dbQueue: DatabaseQueue) {
        self.dbQueue = dbQueue
    }

    /// The saved body of `key` as of the last commit (on the writer's connection, `init(sharing:)`: with the
    /// batches written since), or nil.
    package func body(of key: OpenStateKey) throws -> Data? {
        do {
            return try dbQueue.inDatabase { db in
                try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT body FROM open_states WHERE mta = ? AND host = ? AND key = ?"),
                    arguments: [key.mta.rawValue, key.host, key.key])
            }
        } catch let error as DatabaseError {
            throw StoreError("cannot read a saved open message: \(error.message ?? "\(error.resultCode)")")
        }
    }
}
