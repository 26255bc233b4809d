import Foundation

/// Programs some tests need besides Swift: `.ci/run` installs them; on a machine without them those tests are
/// skipped with a message saying what to install. With `RELAYSUM_REQUIRE_TOOLS=1` (set by `.ci/run`) they run
/// anyway, so a missing tool fails CI instead of passing it silently.
public enum ExternalTools {
    public static let required = ProcessInfo.processInfo.environment["RELAYSUM_REQUIRE_TOOLS"] == "1"

    /// Debian's python3 (the one python3-aiosmtpd installs for).
    public static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// `../shared/tools/arf_validate.py`, beside the package as in CI.
    public static func validator(packageRoot: URL) -> String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/tools/arf_validate.py").path
    }

    static func succeeds(_ executable: String, _ arguments: [String]) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return false }
        return (try? ProcessRun.run(executable, arguments).status) == 0
    }

    /// Debian's libsisimai-perl, the independent ARF reader.
    public static let sisimai = required || succeeds("/usr/bin/perl", ["-MSisimai", "-e", "1"])
    /// python3-aiosmtpd, the SMTP server of the delivery tests (with openssl for its certificate).
    public static let aiosmtpd =
        required
        || (python.map { succeeds($0, ["-c", "import aiosmtpd"]) } ?? false
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"))

    /// Whether the shared validator and Sisimai can check reports.
    public static func reportCheckers(packageRoot: URL) -> Bool {
        required
            || (sisimai && python != nil && FileManager.default.fileExists(atPath: validator(packageRoot: packageRoot)))
    }

    public static let reportCheckersMissing =
        "arf_validate.py (../shared/tools) or libsisimai-perl is missing (.ci/run installs it): report checks skipped"
    public static let aiosmtpdMissing =
        "python3-aiosmtpd or openssl is not installed (.ci/run installs them): SMTP delivery test skipped"
}
