import CSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program a test runs, started by `posix_spawn` rather than Foundation's `Process`.
///
/// Tests run in parallel in one process, so `Process` failed them in two ways: a child could inherit another
/// test's pipe or the socket Foundation watches for a child's end (it closes descriptors only up to the highest open
/// when it starts), so a long-lived child such as the SMTP server or Chromium kept a finished program "running"; and
/// `waitUntilExit` polls a run loop on whatever thread calls it. Here every descriptor the test process opens for a
/// child is close-on-exec, the child gets only its standard input, output and error, it runs in its own process
/// group, and `wait` polls `waitpid` with a deadline, after which the group is killed and the test fails by name
/// instead of hanging CI.
public final class ChildProcess: @unchecked Sendable {
    public enum Input: Sendable {
        case null
        /// Written to a temporary file first, so a child that does not read it cannot block the test.
        case data(Data)
        case file(String)
        /// Written (and closed) by the test through `writeInput`.
        case pipe
    }

    public enum Output: Sendable {
        case null
        /// Created or truncated.
        case file(String)
        /// Read while the child runs through `readOutput`/`readError`.
        case pipe
        /// The test process's own descriptor (output the test runner shows).
        case inherit
    }

    public enum Termination: Equatable, Sendable {
        case exit(Int32)
        case signal(Int32)
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var command: String
        public var seconds: Int
        public var description: String { "\(command) was still running after \(seconds) s and was killed" }
    }

    public let pid: pid_t
    public let command: String
    /// The write end of a `.pipe` input; the read ends of `.pipe` outputs.
    public let writeInput: FileHandle?
    public let readOutput: FileHandle?
    public let readError: FileHandle?
    private var termination: Termination?
    private let lock = NSLock()

    /// Starts `executable`. `environment` adds to (or, with nil, removes from) this process's environment.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String?] = [:],
        stdin: Input = .null, stdout: Output = .null, stderr: Output = .null
    ) throws {
        command = ([executable] + arguments).joined(separator: " ")
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        func open(_ path: String, _ flags: Int32) throws -> Int32 {
            let fd = Glibc.open(path, flags | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            opened.append(fd)
            return fd
        }
        func makePipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            let rc = relaysum_pipe(&fds)
            guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
            return (fds[0], fds[1])
        }
        var writeEnd: FileHandle?
        func input(_ input: Input) throws -> Int32 {
            switch input {
            case .pipe:
                let (r, w) = try makePipe()
                writeEnd = FileHandle(fileDescriptor: w, closeOnDealloc: true)
                opened.append(r)
                return r
            case .null: return try open("/dev/null", O_RDONLY)
            case .file(let path): return try open(path, O_RDONLY)
            case .data(let data):
                let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "relaysum-stdin-\(UUID().uuidString)"
                ).path
                try data.write(to: URL(fileURLWithPath: path))
                let fd = try open(path, O_RDONLY)
                unlink(path)
                return fd
            }
        }
        var readEnds: [FileHandle?] = [nil, nil]
        func output(_ output: Output, _ index: Int) throws -> Int32 {
            switch output {
            case .null: return try open("/dev/null", O_WRONLY)
            case .file(let path): return try open(path, O_WRONLY | O_CREAT | O_TRUNC)
            case .inherit: return Int32(index + 1)
            case .pipe:
                let (r, w) = try makePipe()
                readEnds[index] = FileHandle(fileDescriptor: r, closeOnDealloc: true)
                opened.append(w)
                return w
            }
        }
        let fdIn = try input(stdin)
        let fdOut = try output(stdout, 0)
        let fdErr = try output(stderr, 1)

        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0)=\($1)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = relaysum_spawn(executable, argv, envp, fdIn, fdOut, fdErr, &pid)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        self.pid = pid
        writeInput = writeEnd
        readOutput = readEnds[0]
        readError = readEnds[1]
    }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits until the child has stopped (SIGSTOP, SIGTSTP): a child that says it is about to stop has not yet,
    /// and a SIGCONT sent in between is lost. False if it ended instead; `TimedOut` past `timeout`.
    public func waitUntilStopped(timeout: Double = 60) throws -> Bool {
        guard let info = try poll(WSTOPPED | WEXITED, timeout: timeout) else {
            throw TimedOut(command: command + " (waiting for it to stop)", seconds: Int(timeout))
        }
        return info.si_code == Int32(CLD_STOPPED)
    }

    /// Waits for the child to end; past `timeout` its process group is killed and `TimedOut` thrown. Anything the
    /// child left running in its group is killed once it has ended.
    @discardableResult
    public func wait(timeout: Double = 300) throws -> Termination {
        lock.lock()
        defer { lock.unlock() }
        if let termination { return termination }
        // Asked without reaping it, so its process group cannot be reused before it is killed.
        guard try poll(WEXITED, timeout: timeout) != nil else {
            kill(-pid, SIGKILL)
            _ = reap()
            termination = .signal(SIGKILL)
            throw TimedOut(command: command, seconds: Int(timeout))
        }
        kill(-pid, SIGKILL)
        let status = reap()
        let low = status & 0x7f
        let ended: Termination = low == 0 ? .exit((status >> 8) & 0xff) : .signal(low)
        termination = ended
        return ended
    }

    /// Polls (`waitid` with `WNOWAIT`, so nothing is reaped) until the child reports one of `events`; nil past
    /// `timeout`.
    private func poll(_ events: Int32, timeout: Double) throws -> siginfo_t? {
        let deadline = Date().addingTimeInterval(timeout)
        var pause: useconds_t = 1000
        while true {
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(pid), &info, events | WNOHANG | WNOWAIT)
            if r == 0 && info.si_signo != 0 { return info }
            if r < 0 && errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
            if Date() > deadline { return nil }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    private func reap() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// `wait`, as an exit status (a signal's number for a killed child, as `Process.terminationStatus` gives).
    public func status(timeout: Double = 300) throws -> Int32 {
        switch try wait(timeout: timeout) {
        case .exit(let code): return code
        case .signal(let signal): return signal
        }
    }
}
