import Foundation
import Ingest

#if canImport(Glibc)
import Glibc
#endif

/// What standard error is: a terminal that takes a progress bar and, unless NO_COLOR is set, colours; or a file,
/// pipe or cron's mail, which gets plain lines only.
struct Terminal {
    var isTerminal: Bool
    var colours: Bool
    var columns: Int

    static func standardError(environment: [String: String] = ProcessInfo.processInfo.environment) -> Terminal {
        let tty = isatty(STDERR_FILENO) == 1
        // https://no-color.org: set and not empty means no colour, whatever else is said.
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let dumb = environment["TERM"] == "dumb"
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return Terminal(isTerminal: tty && !dumb, colours: tty && !dumb && !noColor, columns: columns)
    }

    /// `text` in an SGR colour (`31` red, `32` green, `1` bold, `2` dim) when colours are on.
    func paint(_ text: String, _ code: String) -> String {
        colours ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// Ingest progress on standard error: on a terminal a bar with MB/s and ETA (a file's percentage is of its
/// compressed size for gzip); with `verbose`, a line per file as it is finished, terminal or not.
final class TerminalProgress: IngestProgress {
    private let terminal: Terminal
    private let bar: Bool
    private let verbose: Bool
    private var path = ""
    private var size: Int64 = 0
    private var done: Int64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// Nil when there is nothing to show (`--quiet`, or neither a terminal nor `--verbose`).
    static func make(quiet: Bool, verbose: Bool, terminal: Terminal = .standardError()) -> TerminalProgress? {
        if quiet || (!terminal.isTerminal && !verbose) { return nil }
        return TerminalProgress(terminal: terminal, bar: terminal.isTerminal, verbose: verbose)
    }

    init(terminal: Terminal, bar: Bool, verbose: Bool) {
        self.terminal = terminal
        self.bar = bar
        self.verbose = verbose
    }

    func fileStarted(_ path: String, size: Int64) {
        self.path = path
        self.size = size
        done = 0
        started = Date()
        lastDraw = .distantPast
    }

    func advanced(bytes: Int64) {
        done = bytes
        guard bar else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        write("\r" + line(elapsed: now.timeIntervalSince(started)) + "\u{1B}[K")
        drawn = true
    }

    func fileFinished() {
        if drawn {
            write("\r\u{1B}[K")
            drawn = false
        }
        if verbose {
            let seconds = Date().timeIntervalSince(started)
            let mb = Double(max(done, size)) / 1_048_576
            write(
                "relaysum: " + terminal.paint(path, "1")
                    + String(format: ": %.1f MB in %.2f s (%.1f MB/s)\n", mb, seconds, mb / max(seconds, 0.001)))
        }
    }

    /// `mail.log.1 [=========>          ]  48%  38.2/80.0 MB  95.3 MB/s  ETA 0:01`, fitted to the terminal.
    func line(elapsed: Double) -> String {
        let mb = Double(done) / 1_048_576
        let rate = mb / max(elapsed, 0.001)
        guard size > 0 else {
            return fitted(path, String(format: "  %.1f MB  %.1f MB/s", mb, rate), barWidth: 0)
        }
        let fraction = min(max(Double(done) / Double(size), 0), 1)
        let remaining = Double(size - min(done, size)) / 1_048_576 / max(rate, 0.001)
        let tail =
            String(format: "  %3.0f%%  %.1f/%.1f MB  %.1f MB/s", fraction * 100, mb, Double(size) / 1_048_576, rate)
            + "  ETA " + Self.clock(remaining)
        let barWidth = min(30, max(terminal.columns - tail.count - 16, 0))
        let filled = Int((Double(barWidth) * fraction).rounded(.down))
        let barText =
            barWidth == 0
            ? ""
            : " ["
                + terminal.paint(
                    String(repeating: "=", count: filled) + (filled < barWidth ? ">" : ""), "32")
                + String(repeating: " ", count: max(barWidth - filled - 1, 0)) + "]"
        return fitted(path, barText + tail, barWidth: barWidth)
    }

    /// The path, shortened from the left so the line fits the terminal, then `rest`.
    private func fitted(_ path: String, _ rest: String, barWidth: Int) -> String {
        // `rest` may hold colour codes, which take no room.
        let restWidth = rest.unicodeScalars.count - (terminal.colours && barWidth > 0 ? 9 : 0)
        let room = max(terminal.columns - restWidth - 1, 8)
        let name = path.count <= room ? path : "…" + path.suffix(room - 1)
        return terminal.paint(name, "1") + rest
    }

    /// `0:07`, `12:30`, `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded(.up))
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
