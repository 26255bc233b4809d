import Foundation

/// How a program run by a test ended.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// Runs `executable` to its end (a `ChildProcess`, so it cannot hang the suite). Output goes through files, not
    /// pipes, so nothing can block however much the child prints; `stdin` is given to it, else it reads nothing.
    /// `environment` adds to (or, with nil, removes from) this process's environment.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String?] = [:],
        timeout: Double = 300
    ) throws -> ProcessRun {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-run-\(UUID().uuidString)")
        let out = base.path + ".out"
        let err = base.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let child = try ChildProcess(
            executable, arguments, environment: environment, stdin: stdin.map { .data($0) } ?? .null,
            stdout: .file(out), stderr: .file(err))
        let status = try child.status(timeout: timeout)
        return ProcessRun(
            status: status,
            stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: err)), as: UTF8.self))
    }

    /// Runs a program that must succeed, such as `gzip` preparing a fixture.
    public static func check(_ executable: String, _ arguments: [String]) throws {
        let r = try run(executable, arguments)
        guard r.status == 0 else { throw Failed(command: ([executable] + arguments).joined(separator: " "), run: r) }
    }

    public struct Failed: Error, CustomStringConvertible {
        public var command: String
        public var run: ProcessRun
        public var description: String { "\(command) exited \(run.status): \(run.stderr)" }
    }
}
