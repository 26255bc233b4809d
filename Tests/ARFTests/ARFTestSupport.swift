import Foundation
import TestSupport
import Testing

/// Paths of the package, the shared validator and the helper scripts beside these tests.
enum ARFPaths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot = testsDir.deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared/tools/arf_validate.py`, beside the package (as in CI).
    static let validator = ExternalTools.validator(packageRoot: packageRoot)
    /// Debian's python3 first: python3-aiosmtpd is installed for it.
    static let python = ExternalTools.python
    static let sisimaiScript = testsDir.appendingPathComponent("sisimai_check.pl").path
    static let smtpServer = testsDir.appendingPathComponent("smtp_server.py").path
}

/// A temporary directory removed by `cleanUp()` (called in a `defer`).
struct ScratchDirectory {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "relaysum-arf-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Runs a program to its end, returning status, stdout and stderr.
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try ProcessRun.run(executable, arguments)
    return (r.status, r.stdout, r.stderr)
}

/// The independent checks every built report must pass: `arf_validate.py --strict` and Sisimai.
enum IndependentChecks {
    /// Runs the validator over the files; returns the files that failed with its findings (empty when all passed).
    static func validate(_ files: [String]) throws -> [String: String] {
        guard let python = ARFPaths.python else {
            Issue.record("python3 is needed to run arf_validate.py (.ci/run installs it)")
            return [:]
        }
        guard FileManager.default.fileExists(atPath: ARFPaths.validator) else {
            Issue.record(
                "arf_validate.py not found at \(ARFPaths.validator): the shared/ folder must sit beside the package")
            return [:]
        }
        let r = try runTool(python, [ARFPaths.validator, "--strict", "--json"] + files)
        guard let results = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else {
            Issue.record("arf_validate.py printed no JSON: \(r.stderr)")
            return [:]
        }
        var failed: [String: String] = [:]
        for result in results where (result["valid"] as? Bool) != true {
            failed[result["file"] as? String ?? "?"] = "\(result["findings"] ?? "")"
        }
        #expect(results.count == files.count)
        return failed
    }

    /// Sisimai's reading of each file: feedback type(s) and sorted recipients, by path.
    static func sisimai(_ files: [String]) throws -> [String: (type: String, recipients: [String])] {
        let r = try runTool("/usr/bin/perl", [ARFPaths.sisimaiScript] + files)
        guard r.status == 0 else {
            Issue.record("Sisimai failed (install libsisimai-perl; .ci/run does): \(r.stderr)")
            return [:]
        }
        var result: [String: (String, [String])] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { continue }
            let recipients = parts.count > 2 ? parts[2].split(separator: ",").map(String.init) : []
            result[parts[0]] = (parts[1], recipients)
        }
        return result
    }
}

/// The header block and the parts of a built report, split the simple way (the builder's own boundary).
struct BuiltReport {
    let text: String
    let headerLines: [String]

    init(_ bytes: [UInt8]) {
        text = String(decoding: bytes, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        headerLines = head.components(separatedBy: "\r\n")
    }

    /// Unfolded top-level header fields by name.
    var headers: [(name: String, value: String)] {
        var fields: [(String, String)] = []
        for line in headerLines {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), let last = fields.popLast() {
                fields.append((last.0, last.1 + line))
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst())))
            }
        }
        return fields
    }

    /// Lines of part 2 (the feedback report fields).
    var feedbackFields: [String] {
        guard
            let start = text.range(
                of: "Content-Type: message/feedback-report\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
        else { return [] }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\r\n\r\n")?.lowerBound ?? rest.endIndex
        return rest[..<end].components(separatedBy: "\r\n")
    }

    /// Lines of part 3 (the rebuilt header fields).
    var originalHeaders: [String] {
        guard let start = text.range(of: "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
        else { return [] }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\r\n\r\n")?.lowerBound ?? rest.endIndex
        return rest[..<end].components(separatedBy: "\r\n")
    }
}

extension BuiltReport {
    /// Part 1 as text (quoted-printable decoded), every run of white space (line breaks of the wrapping too) as one
    /// space.
    var description: String {
        guard let start = text.range(of: "Content-Type: text/plain; charset=utf-8\r\n") else { return "" }
        let rest = text[start.upperBound...]
        guard let bodyStart = rest.range(of: "\r\n\r\n") else { return "" }
        let body = rest[bodyStart.upperBound...]
        let end = body.range(of: "\r\n--=_relaysum")?.lowerBound ?? body.endIndex
        var raw = String(body[..<end])
        guard rest.hasPrefix("Content-Transfer-Encoding: quoted-printable") else { return Self.flat(raw) }
        raw = raw.replacingOccurrences(of: "=\r\n", with: "")
        var bytes: [UInt8] = []
        var u = Array(raw.utf8)[...]
        while let b = u.popFirst() {
            if b == UInt8(ascii: "="), u.count >= 2,
                let v = UInt8(String(decoding: u.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                u = u.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return Self.flat(String(decoding: bytes, as: UTF8.self))
    }

    static func flat(_ text: String) -> String {
        text.unicodeScalars.split { $0 == " " || $0 == "\r" || $0 == "\n" }.map { String(String.UnicodeScalarView($0)) }
            .joined(separator: " ")
    }
}
