import ArgumentParser
import CAllocator
import Foundation
import Ingest
import Store

#if canImport(Glibc)
import Glibc
#endif

extension MTASelection: ExpressibleByArgument {}
extension InjectedFault: ExpressibleByArgument {}

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Reads Postfix or Exim logs (plain or gzip, or - for stdin) into the database; only new lines.",
        discussion: """
            Each file is remembered by a fingerprint of its first bytes, so running again reads only what was \
            appended, and a rotated file (mail.log -> mail.log.1 -> mail.log.2.gz) is never read twice. Files may \
            be given in any order. A report of what was read goes to stderr; on a terminal, a progress bar with \
            MB/s and the time left, and colours unless NO_COLOR is set. Use --quiet in cron.

            Examples:
              relaysum ingest /var/log/mail.log /var/log/mail.log.1 /var/log/mail.log.*.gz
              zcat old.gz | relaysum ingest --host relay2 -
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Which MTA wrote the logs: auto, postfix or exim (default: auto, told apart by content).")
    var mta: MTASelection = .auto

    @Option(help: "Record every line under this relay name instead of the syslog host name.")
    var host: String?

    @Option(help: "The year of the first classic syslog stamp (default: inferred from the file's time).")
    var year: Int?

    @Flag(help: "Print nothing but errors (for cron).")
    var quiet = false

    @Option(
        help: ArgumentHelp(
            "Wait up to this many seconds for another ingest on the database to finish (default: 0, fail at once).",
            valueName: "seconds"))
    var wait: Double = 0

    @Option(
        help: "Open messages kept in memory per MTA; beyond it the least recently seen are closed (default: 200000).")
    var maxOpenMessages = IngestOptions().maxOpenMessages

    @Flag(help: "Also print each file as it is finished, with its size and speed.")
    var verbose = false

    @Flag(
        help: """
            Write even the first ingest into an empty database through SQLite's write-ahead log, flushed to disk at \
            each checkpoint (slower; reports read beside it without waiting for its commits).
            """)
    var noBulkLoad = false

    @Option(help: ArgumentHelp("Lines per batch, at most (for tests and benchmarks).", visibility: .hidden))
    var batchLines = IngestOptions().batchLines

    @Option(
        help: ArgumentHelp(
            "Batches per transaction, at most; open messages' states are saved at each commit (for tests and "
                + "benchmarks; default: 6).", visibility: .hidden))
    var batchesPerCommit = IngestOptions().batchesPerCommit

    @Option(
        help: ArgumentHelp(
            "Recipients of open messages kept in memory per MTA, about; the others are read back from the database when "
                + "needed; 0 keeps all (for tests and benchmarks; default: 20000).", visibility: .hidden))
    var residentRecipients = IngestOptions().residentRecipients ?? 0

    @Option(
        help: ArgumentHelp(
            "Recipients of the open messages changed in one transaction, at most; 0: no such bound (for benchmarks; "
                + "default: 0).", visibility: .hidden))
    var batchRecipients = 0

    @Option(help: ArgumentHelp("Raise --fault after this many lines (for crash tests).", visibility: .hidden))
    var faultAtLine: Int?

    @Option(
        help: ArgumentHelp("The fault --fault-at-line raises: kill or stop (for crash tests).", visibility: .hidden))
    var fault = InjectedFault.kill

    @Argument(help: "Log files, plain or gzip; - reads standard input.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one log file (or - for standard input)") }
        if let year, !(1970...9999).contains(year) { throw ValidationError("--year must be between 1970 and 9999") }
        if batchLines < 1 { throw ValidationError("--batch-lines must be at least 1") }
        if batchesPerCommit < 1 { throw ValidationError("--batches-per-commit must be at least 1") }
        if residentRecipients < 0 { throw ValidationError("--resident-recipients must be at least 0") }
        if batchRecipients < 0 { throw ValidationError("--batch-recipients must be at least 0") }
        if !(wait >= 0 && wait <= 86_400) { throw ValidationError("--wait must be between 0 and 86400 seconds") }
        if maxOpenMessages < 100 { throw ValidationError("--max-open-messages must be at least 100") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together") }
    }

    func run() throws {
        var options = IngestOptions()
        options.mta = mta
        options.host = host
        options.year = year
        options.batchLines = batchLines
        options.batchesPerCommit = batchesPerCommit
        options.maxOpenMessages = maxOpenMessages
        options.residentRecipients = residentRecipients == 0 ? nil : residentRecipients
        options.batchRecipients = batchRecipients == 0 ? nil : batchRecipients
        options.bulkLoad = !noBulkLoad
        options.faultAtLine = faultAtLine
        options.fault = fault
        options.timeZone = try database.timeZone()
        // A file-size limit (ulimit -f) should fail a write with EFBIG and a message, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        // A batch's arrays and the correlators' tables are blocks of 0.3 to 2 MiB, allocated and freed at every
        // batch. glibc raises its mmap threshold to the size of each such block freed, after which they come from
        // the heap, where the holes they leave hold RSS for the rest of the run (4.5 MiB of peak RSS on a dense
        // log); at a fixed threshold they are mapped and unmapped, which costs page faults but no measurable time.
        _ = relaysum_fix_mmap_threshold(256 * 1024)
        let started = Date()
        let report: IngestReport
        do {
            let lock = try IngestLock(databasePath: database.path, wait: wait)
            defer { lock.release() }
            if let aside = try BulkLoad.setAsideIfInterrupted(database.path) {
                printError(
                    "relaysum: the system stopped during the first ingest into \(database.path), which may be damaged: "
                        + "moved to \(aside); building it again from the logs given")
            }
            let store = try RelayStore(path: database.path)
            let progress = TerminalProgress.make(quiet: quiet, verbose: verbose)
            report = try Ingestor(store: store, options: options, progress: progress).run(paths: files)
            // The hourly account activity `anomalies` and `report` read, for the hours this run changed: at once
            // for a routine run, by the first reader after a bulk load (RelayStore.refreshActivity).
            try store.refreshActivity(atMost: 48)
        } catch let e as StoreError {
            throw RelaysumFailure(description: e.description)
        } catch let e as IngestLock.Busy {
            throw RelaysumFailure(description: e.description)
        }
        if !quiet || report.failed {
            printError(
                IngestSummaryText.render(
                    report, seconds: Date().timeIntervalSince(started), quiet: quiet, terminal: .standardError()))
        }
        if report.failed { throw ExitCode.failure }
    }
}

/// The stderr report of an ingest run.
enum IngestSummaryText {
    static func render(_ r: IngestReport, seconds: Double, quiet: Bool, terminal: Terminal? = nil) -> String {
        var lines: [String] = []
        let s = r.stats
        if !quiet {
            lines.append(
                "relaysum: \(r.files.count) file(s), \(s.lines) new line(s): \(s.parsed) parsed, \(s.skipped) skipped, "
                    + "\(s.unparsed) unparsed; \(s.messages) new message(s), \(s.rejects) rejected attempt(s) "
                    + String(format: "in %.2f s", seconds))
        }
        for f in r.files {
            if let error = f.error {
                lines.append("relaysum: " + (terminal?.paint("error:", "1;31") ?? "error:") + " \(error)")
            } else if !quiet {
                var l = "  \(f.path): "
                if let note = f.note {
                    l += note
                } else {
                    l += "\(f.lines) line(s)" + (f.mta.map { " (\($0.rawValue))" } ?? "")
                }
                if f.heldBackBytes > 0 { l += "; an unfinished last line (\(f.heldBackBytes) bytes) left for next run" }
                if f.replacedWhileReading {
                    l +=
                        "; truncated and written anew while read (copytruncate): the rest is read from its rotated copy"
                }
                lines.append(l)
            }
        }
        if !quiet && !s.unparsedKinds.isEmpty {
            lines.append("unparsed lines by kind:")
            for (kind, n) in s.unparsedKinds.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                let eg = (r.examples[kind] ?? []).map(\.description).joined(separator: ", ")
                lines.append("  \(n) \(kind) (e.g. \(eg))")
            }
        }
        if !quiet && r.expiredOpenEntries > 0 {
            lines.append("  \(r.expiredOpenEntries) message(s) with no end logged in 10 days were closed as they stood")
        }
        if !quiet && r.linesWithNUL > 0 {
            lines.append(
                "  \(r.linesWithNUL) line(s) held NUL bytes: leading ones were dropped (crash padding), others read as U+FFFD"
            )
        }
        if !quiet && r.spilledOpenMessages > 0 {
            lines.append(
                "  open messages idle for a while were kept only in the database \(r.spilledOpenMessages) time(s), to "
                    + "bound memory, and read back \(r.reloadedOpenMessages) time(s)")
        }
        if !quiet && r.evictedOpenEntries > 0 {
            lines.append(
                "  \(r.evictedOpenEntries) open message(s) were closed as they stood to stay under "
                    + "--max-open-messages (the least recently seen)")
        }
        return lines.joined(separator: "\n")
    }
}

/// One ingest at a time per database: an advisory lock (`flock`) on `<db>.lock`, released by the kernel however the
/// process ends.
struct IngestLock {
    struct Busy: Error, CustomStringConvertible {
        var path: String
        /// Seconds waited; nil for a command without `--wait`.
        var waited: Double?
        var description: String {
            switch waited {
            case .some(let s) where s > 0:
                "another relaysum ingest is still running on \(path) after waiting \(Self.seconds(s)) s"
            case .some:
                "another relaysum ingest is running on \(path); try again when it has finished, or use --wait SECONDS"
            case .none:
                "another relaysum ingest is running on \(path); try again when it has finished"
            }
        }

        static func seconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }
    }

    private let fd: Int32

    /// Takes the lock, waiting up to `wait` seconds for another ingest to release it (nil: a command without
    /// `--wait`, which fails at once).
    init(databasePath: String, wait: Double? = nil) throws {
        let lockPath = databasePath + ".lock"
        var fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 && (errno == EACCES || errno == EROFS) {
            // A lock file someone else created (or a read-only directory): flock works on a read-only descriptor.
            fd = open(lockPath, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            throw RelaysumFailure(description: "cannot create \(lockPath): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard let wait, wait > 0 else {
            // A moment's grace all the same: a report settling a killed first import holds the lock for as long as
            // two fdatasyncs (BulkLoad.settleKilledImport).
            for _ in 0..<20 {
                usleep(50_000)
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
            }
            close(fd)
            throw Busy(path: databasePath, waited: wait)
        }
        printError(
            "relaysum: waiting up to \(Busy.seconds(wait)) s for another ingest on \(databasePath) to finish")
        let deadline = Date().addingTimeInterval(wait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else {
                close(fd)
                throw Busy(path: databasePath, waited: wait)
            }
            usleep(50_000)
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
