import Foundation
import TestSupport
import Testing

/// `relaysum report --html` through the built binary, on the log of `AnomaliesCommandTests` (a compromised burst)
/// plus a login made to break out of HTML; rendered in headless Chromium when it is installed.
@Suite struct HTMLReportCommandTests {
    static let hostileLogin = #"x"><svg/onload=alert(1)>&amp"#

    /// The database with the burst judged by `anomalies`, and a page of it.
    static func page(_ t: TempDir) throws -> (html: String, path: String, burst: Int64) {
        let (db, burst) = try AnomaliesCommandTests.database(t)
        let hostile = AnomaliesCommandTests.message(
            99_000, at: burst - 3 * 3600, login: hostileLogin, ip: "198.51.100.9", sender: "evil@evil.example",
            recipients: (0..<4).map { "r\($0)@dest0.example" })
        let extra = t.path("hostile.log")
        try (hostile.joined(separator: "\n") + "\n").write(toFile: extra, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["ingest", "--db", db, "--quiet", extra]).status == 0)
        #expect(try CLI.run(["anomalies", "--db", db, "--format", "csv"]).stdout.contains(",compromised,"))
        let out = t.path("report.html")
        let r = try CLI.run(["report", "--db", db, "--html", out, "--since", "2026-10-15", "--until", "2026-10-25"])
        #expect(r.status == 0, "\(r.stderr)")
        return (try String(contentsOfFile: out, encoding: .utf8), out, burst)
    }

    @Test func thePageIsSelfContainedWithChartsWindowsAndEscapedLogText() throws {
        let t = try TempDir()
        let (html, _, burst) = try Self.page(t)
        for id in ["timeline", "outcomes", "top-accounts", "top-domains"] {
            #expect(html.contains(#"<svg id="\#(id)""#), "\(id)")
        }
        #expect(html.contains(#"<rect class="window compromised""#))
        #expect(html.contains("sasl:alice@shop.example"))
        #expect(html.contains("first time from 203.0.113.0/24 (300 recipients)"))
        // The period runs 2026-10-15 to 2026-10-25, so the burst's window (22 days after 2026-10-01, 02:00 UTC)
        // is on it, drawn by the hour.
        #expect(html.contains("2026-10-23 02:00 UTC<br>to 04:00"), "burst at \(burst)")
        // Nothing to load and nothing to run.
        for banned in ["<script", "http://", "https://", " src=", "@import", "url("] {
            #expect(!html.contains(banned), "\(banned)")
        }
        // The login is text, escaped wherever it appears.
        #expect(!html.contains("<svg/onload"))
        #expect(html.contains("x&quot;&gt;&lt;svg/onload=alert(1)&gt;&amp;amp"))
    }

    @Test func aMissingDatabaseOrABadPeriodIsAClearError() throws {
        let t = try TempDir()
        let none = try CLI.run(["report", "--db", t.path("none.sqlite"), "--html", t.path("r.html")])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no database at"), "\(none.stderr)")
        let bad = try CLI.run(["report", "--db", t.path("none.sqlite"), "--html", "-", "--since", "yesterday"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("invalid time 'yesterday'"), "\(bad.stderr)")
    }

    // MARK: headless Chromium

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Runs headless Chromium on a file with `arguments`; its stdout and stderr.
    static func chromium(_ arguments: [String], file: String, in t: TempDir) throws -> (out: String, err: String) {
        let r = try ProcessRun.run(
            try #require(chromium),
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
                "--user-data-dir=\(t.path("chromium-profile"))", "--enable-logging=stderr", "--v=0",
            ] + arguments + [URL(fileURLWithPath: file).absoluteString], timeout: 120)
        #expect(r.status == 0)
        return (r.stdout, r.stderr)
    }

    /// Lines in which Chromium logged something the page did: a console message, a blocked load, a script error.
    static func consoleLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium; .ci/run installs it)"))
    func chromiumRendersThePageWithoutErrors() throws {
        let t = try TempDir()
        let (_, path, _) = try Self.page(t)

        // The check sees what a broken page does: a load from outside and a script, both blocked and logged.
        let bad = t.path("bad.html")
        try
            #"<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><img src="https://example.com/x.png"><script>console.error(1)</script>"#
            .write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(!Self.consoleLines(try Self.chromium(["--dump-dom"], file: bad, in: t).err).isEmpty)

        let dom = try Self.chromium(["--dump-dom"], file: path, in: t)
        #expect(Self.consoleLines(dom.err).isEmpty, "\(Self.consoleLines(dom.err))")
        for element in [
            #"<svg id="timeline""#, #"<svg id="outcomes""#, #"<svg id="top-accounts""#, #"<svg id="top-domains""#,
            #"<rect class="window compromised""#, #"<path class="messages""#, #"<polyline class="recipients""#,
            #"<rect class="delivered""#, #"<rect class="bounced""#, #"<rect class="bar""#,
        ] {
            #expect(dom.out.contains(element), "\(element)")
        }
        // The hostile login stayed text in the parsed document: no element came of it.
        #expect(!dom.out.contains("<svg/onload") && !dom.out.contains("onload=\"alert"))

        let png = t.path("report.png")
        let shot = try Self.chromium(["--screenshot=\(png)", "--window-size=1200,2000"], file: path, in: t)
        #expect(Self.consoleLines(shot.err).isEmpty, "\(Self.consoleLines(shot.err))")
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
        #expect(image.count > 20_000, "an empty page? \(image.count) bytes")
    }
}
