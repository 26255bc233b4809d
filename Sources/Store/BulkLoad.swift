import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The first ingest into an empty database, written without a write-ahead log and without waiting for the disk.
///
/// An ingest normally commits through SQLite's write-ahead log: every page is written twice (into the log, then
/// copied back into the database by a checkpoint), and each checkpoint waits for the disk twice. A database that
/// holds nothing yet has nothing to protect from a power failure but its own first import, which the logs can
/// rebuild. Its first ingest therefore writes through a rollback journal (pages added at the end of the file, nearly
/// all of an import, are written once and never journaled) with `synchronous = OFF`:
/// - a killed or failed run still leaves the database as of its last commit: the journal that rolls back the
///   unfinished transaction is written before the pages it protects, and what the process wrote survives it in the
///   page cache;
/// - a power failure or a crash of the system can leave pages half written. The marker `<database>-bulk`, made and
///   flushed to disk before the first unsynchronised write, holds the boot ID of the system that wrote it. It is
///   removed only once the database is flushed to disk, at the end of the run (or, after a killed one, by the next
///   command that opens the database while no ingest runs). A marker from an earlier boot means the system stopped
///   while the import was running (or the files were copied to another system with it): the next ingest moves the
///   database aside (`<database>.interrupted-<time>`) and imports again, and every other command refuses to read it.
///
/// The run ends by switching the database back to its write-ahead log, so that later runs, and reports during them,
/// work as before. While the import runs, a report waits for each commit (rollback journal) instead of reading
/// beside it.
package enum BulkLoad {
    /// The marker of an import not yet flushed to disk.
    package static func markerPath(for database: String) -> String { database + "-bulk" }

    /// This boot of the system (Linux: `/proc/sys/kernel/random/boot_id`), read once; nil where there is none, and
    /// then no bulk load is made.
    package static let bootID: String? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else {
            return nil
        }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }()

    /// The boot ID in the marker of `database`, "" for a marker that cannot be read; nil when there is no marker.
    package static func markedBoot(of database: String) -> String? {
        let path = markerPath(for: database)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// True when `database` carries the marker of an import that a stop of the system interrupted (a marker from
    /// another boot, or one that cannot be read): its pages may be half written.
    package static func interruptedBySystemStop(_ database: String) -> Bool {
        guard let marked = markedBoot(of: database) else { return false }
        return marked != bootID
    }

    /// The operator's message for a database `interruptedBySystemStop`.
    static func interruptedMessage(_ database: String) -> String {
        "the database \(database) was being built by its first ingest when the system stopped, and may be damaged; "
            + "run `relaysum ingest` to build it again from the logs"
    }

    /// For an ingest, holding the ingest lock: if `database` is a first import a stop of the system interrupted,
    /// moves it and its journal aside to `<database>.interrupted-<UTC time>` (kept for the operator; a name not yet
    /// taken) and removes its marker. Returns the path moved to, nil when nothing was moved.
    package static func setAsideIfInterrupted(_ database: String, now: Date = Date()) throws -> String? {
        guard interruptedBySystemStop(database) else { return nil }
        guard FileManager.default.fileExists(atPath: database) else {
            try removeMarker(of: database)
            return nil
        }
        let stamp = ISO8601DateFormatter.string(
            from: now, timeZone: TimeZone(identifier: "UTC")!,
            formatOptions: [.withYear, .withMonth, .withDay, .withTime, .withTimeZone])
        let suffixes = ["", "-journal", "-wal", "-shm"]
        var aside = database + ".interrupted-" + stamp
        var n = 1
        while suffixes.contains(where: { FileManager.default.fileExists(atPath: aside + $0) }) {
            n += 1
            aside = database + ".interrupted-\(stamp)-\(n)"
        }
        // The database first: what follows it is found beside it by name.
        for suffix in suffixes {
            let path = database + suffix
            if rename(path, aside + suffix) != 0 && errno != ENOENT {
                throw StoreError("cannot move \(path) aside: \(String(cString: strerror(errno)))")
            }
        }
        try removeMarker(of: database)
        return aside
    }

    /// Flushes and unmarks a first import killed in this boot, when no ingest is running (its lock, `<db>.lock`, is
    /// free): a reboot before the next ingest is then not taken for a stop of the system during the import. An
    /// ingest starting meanwhile waits for the lock a moment (`IngestLock`).
    static func settleKilledImport(_ database: String) {
        let fd = open(database + ".lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        try? flushAndRemoveMarker(of: database)
    }

    /// Writes the marker with this boot's ID and flushes it and its directory to disk.
    static func createMarker(for database: String, bootID: String) throws {
        let path = markerPath(for: database)
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = Array((bootID + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw StoreError("cannot write \(path): \(reason)")
        }
        syncDirectory(of: path)
    }

    /// Flushes `database` and its journal, if one is left (emptied by a commit, not yet flushed), to disk, then
    /// removes its marker (and flushes the directory, so that the removal is not undone by a later stop).
    static func flushAndRemoveMarker(of database: String) throws {
        for path in [database + "-journal", database] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 && errno == ENOENT && path != database { continue }
            guard fd >= 0 else { throw StoreError("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard fdatasync(fd) == 0 else {
                throw StoreError("cannot flush \(path) to disk: \(String(cString: strerror(errno)))")
            }
        }
        try removeMarker(of: database)
    }

    private static func removeMarker(of database: String) throws {
        let path = markerPath(for: database)
        guard unlink(path) == 0 else {
            if errno == ENOENT { return }
            throw StoreError("cannot delete \(path): \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: path)
    }

    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
