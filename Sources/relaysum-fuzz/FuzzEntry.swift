import Foundation
import Ingest

#if canImport(Glibc)
import Glibc
#endif

/// The target `RELAYSUM_FUZZ_TARGET` names (default `postfix`), chosen once.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["RELAYSUM_FUZZ_TARGET"] ?? "postfix"
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("relaysum-fuzz: unknown RELAYSUM_FUZZ_TARGET '\(name)' (\(names))\n".utf8))
        exit(64)
    }
    return target
}()

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

#if RELAYSUM_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to this symbol: hand over to libFuzzer's driver.
@_cdecl("relaysum_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in fuzzTestOneInput(data, size) }
}
#else
/// Without libFuzzer: `relaysum-fuzz replay TARGET FILE…` runs inputs (a crash reproducer, a corpus) once each;
/// `relaysum-fuzz seed TARGET OUTDIR LOG…` writes a seed corpus for TARGET from log files.
@main
enum FuzzDriver {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        guard args.count >= 3, let target = FuzzTarget(rawValue: args[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: relaysum-fuzz replay \(names) FILE…\n       relaysum-fuzz seed \(names) OUTDIR LOG…")
            exit(64)
        }
        switch args[0] {
        case "replay":
            for path in args.dropFirst(2) {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                data.withUnsafeBytes { target.run($0.bindMemory(to: UInt8.self)) }
            }
            print("relaysum-fuzz: \(args.count - 2) input(s) ran without a crash")
        case "seed":
            let out = URL(fileURLWithPath: args[2])
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            var n = 0
            for input in try FuzzSeeds.inputs(for: target, logs: Array(args.dropFirst(3))) {
                try input.write(to: out.appendingPathComponent(String(format: "seed-%05d", n)))
                n += 1
            }
            print("relaysum-fuzz: \(n) seed(s) for \(target.rawValue) in \(out.path)")
        default:
            print("relaysum-fuzz: unknown command '\(args[0])' (replay or seed)")
            exit(64)
        }
    }
}
#endif

/// Seed inputs cut from log files (Fixtures/logs), in each target's input shape.
enum FuzzSeeds {
    static func inputs(for target: FuzzTarget, logs: [String]) throws -> [Data] {
        var seeds: [Data] = []
        var seen = Set<Data>()
        func add(_ d: Data) {
            if seen.insert(d).inserted { seeds.append(d) }
        }
        for path in logs {
            let source = try LogSource(path: path)
            var whole = Data()
            var reader = LineReader(source: source, maxLineLength: 1 << 20)
            var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: 2026, reference: 0)
            var chunk = Data()
            _ = try reader.forEachLine(deliverUnterminatedTail: true) { line, number, _ in
                let bytes = Data(UnsafeBufferPointer(start: line.base, count: line.count))
                whole.append(bytes)
                whole.append(0x0A)
                chunk.append(bytes)
                chunk.append(0x0A)
                if number % 40 == 0 {
                    if target == .correlate { add(chunk) }
                    chunk = Data()
                }
                guard case .success(let e) = envelopes.parse(line) else { return }
                let message = Data(UnsafeBufferPointer(start: e.message.base, count: e.message.count))
                switch target {
                case .envelope:
                    add(bytes)
                case .exim:
                    if e.program == nil || e.program!.hasPrefix("exim") { add(message) }
                case .postfix:
                    if let p = e.program, p.hasPrefix("postfix") {
                        let daemon = p.lastIndexOfSlashForSeeds.map { p.slice($0 + 1, p.count) } ?? p
                        add(Data(daemon.string.utf8) + Data([0x20]) + message)
                    }
                case .gzip, .correlate:
                    break
                }
            }
            if target == .gzip {
                // The file as stored (gzip or plain), and plain pieces of it.
                add(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(64 << 10))
                add(whole.prefix(4096))
            }
            if target == .correlate, !chunk.isEmpty { add(chunk) }
        }
        return seeds
    }
}

extension ByteSlice {
    fileprivate var lastIndexOfSlashForSeeds: Int? {
        var i = count - 1
        while i >= 0 {
            if self[i] == UInt8(ascii: "/") { return i }
            i -= 1
        }
        return nil
    }
}
