import Foundation

/// How a program run by a test ended.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// Runs `executable` to its end. Output goes through files, not pipes, so nothing can block however much the
    /// child prints; `stdin` is written to it, else it reads nothing. `environment` adds to (or, with nil, removes
    /// from) this process's environment.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String?] = [:]
    ) throws -> ProcessRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("relaysum-run-\(UUID().uuidString)")
        let out = base.path + ".out"
        let err = base.path + ".err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        let input = stdin.map { _ in Pipe() }
        p.standardInput = input ?? FileHandle.nullDevice
        try p.run()
        if let input, let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        p.waitUntilExit()
        return ProcessRun(
            status: p.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: err)), as: UTF8.self))
    }
}
