import Config
import Foundation
import Store
import TestSupport
import Testing

@testable import ARF

/// `arf send`'s delivery: a sendmail stand-in that records its arguments and input, and a real SMTP server on
/// 127.0.0.1 (aiosmtpd, STARTTLS with a certificate made here, AUTH). Each report is delivered once however often
/// the mailer runs, and one that failed is delivered by the next run.
@Suite(.serialized) struct DeliveryTests {
    /// A store holding `count` pending reports to abuse@shop1.example.
    static func storeWithReports(_ dir: ScratchDirectory, count: Int) throws -> RelayStore {
        let store = try RelayStore(path: dir.path("relaysum.sqlite"))
        var reports: [ARFReportRecord] = []
        for i in 1...count {
            let report = AbuseReport(
                from: "abuse-desk@relay.example", to: "abuse@shop1.example", date: 1_794_222_000 + Int64(i),
                messageID: "relaysum-\(i)@relay.example", reportingMTA: "relay.example", userAgent: "relaysum/t",
                summary: "A test report.", details: [], fallbackSubject: "Report \(i)",
                originalMailFrom: "a@shop1.example",
                originalRecipients: ["b@far.example"], totalRecipients: 1, maxRecipients: 50,
                arrivalDate: 1_794_222_000,
                sourceIP: "192.0.2.10", incidents: 1, originalMessageID: nil, originalSubject: nil, originalFrom: nil,
                trace: nil)
            reports.append(
                ARFReportRecord(
                    sourceKey: "test:\(i)", kind: "reject", account: "sasl:a", abuseAddress: "abuse@shop1.example",
                    eventAt: 1_794_222_000, message: FeedbackReport.build(report), state: .pending, createdAt: 0))
        }
        try store.insertARFReports(reports)
        return store
    }

    /// A sendmail stand-in: appends its arguments to `argv.log`, saves its input as `NNN.eml`, exits with `status`.
    static func standIn(_ dir: ScratchDirectory, status: Int = 0) throws -> String {
        let path = dir.path("sendmail")
        let script = """
            #!/bin/sh
            echo "$@" >> '\(dir.path("argv.log"))'
            if [ \(status) -ne 0 ]; then echo "queue file write error" >&2; exit \(status); fi
            n=$(ls '\(dir.url.path)' | grep -c '\\.eml$')
            cat > '\(dir.url.path)'/$(printf %03d $((n + 1))).eml
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    static func emlFiles(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".eml") }
            .sorted()
    }

    static func messageIDs(in dir: URL) throws -> [String] {
        try emlFiles(dir).map { name in
            // Split bytes, not Characters: "\r\n" is one Character.
            let bytes = try Data(contentsOf: dir.appendingPathComponent(name))
            let lines = bytes.split(separator: 0x0A).map { String(decoding: $0.filter { $0 != 0x0D }, as: UTF8.self) }
            return lines.first { $0.hasPrefix("Message-ID: ") } ?? "?"
        }.sorted()
    }

    @Test func sendmailGetsArgumentsWithoutAShellAndEachReportOnce() throws {
        let dir = try ScratchDirectory("sendmail")
        defer { dir.cleanUp() }
        let store = try Self.storeWithReports(dir, count: 3)
        let mailer = ReportMailer(
            store: store, transport: SendmailTransport(path: try Self.standIn(dir)), from: "abuse-desk@relay.example")
        let first = try mailer.sendAll { 100 }
        #expect(first.sent.count == 3 && first.failed.isEmpty)
        let second = try mailer.sendAll { 200 }
        #expect(second.sent.isEmpty && second.failed.isEmpty)
        let argv = try String(contentsOfFile: dir.path("argv.log"), encoding: .utf8)
        #expect(argv == "-t -oi\n-t -oi\n-t -oi\n")
        let files = Self.emlFiles(dir.url)
        #expect(files.count == 3)
        // The input is the stored message with local (LF) line ends.
        let stored = try store.arfReports(states: [.sent])
        #expect(stored.count == 3 && stored.allSatisfy { $0.sentAt == 100 && $0.attempts == 1 })
        let input = try Data(contentsOf: dir.url.appendingPathComponent(files[0]))
        let expected = String(decoding: stored[0].message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(String(decoding: input, as: UTF8.self) == expected)
        #expect(try Self.messageIDs(in: dir.url).count == Set(try Self.messageIDs(in: dir.url)).count)
    }

    @Test func aFailingSendmailLeavesReportsForTheNextRun() throws {
        let dir = try ScratchDirectory("sendmail-fail")
        defer { dir.cleanUp() }
        let store = try Self.storeWithReports(dir, count: 2)
        let broken = ReportMailer(
            store: store, transport: SendmailTransport(path: try Self.standIn(dir, status: 75)),
            from: "abuse-desk@relay.example")
        let failed = try broken.sendAll { 100 }
        #expect(failed.sent.isEmpty && failed.failed.count == 2)
        #expect(failed.failed[0].error.contains("exit status 75"))
        #expect(failed.failed[0].error.contains("queue file write error"))
        let stored = try store.arfReports(states: [.failed])
        #expect(stored.count == 2 && stored.allSatisfy { $0.attempts == 1 && $0.lastError != nil })
        let working = ReportMailer(
            store: store, transport: SendmailTransport(path: try Self.standIn(dir)), from: "abuse-desk@relay.example")
        #expect(try working.sendAll { 200 }.sent.count == 2)
        #expect(try working.sendAll { 300 }.sent.isEmpty)
        #expect(Self.emlFiles(dir.url).count == 2)
        #expect(try store.arfReports(states: [.sent]).allSatisfy { $0.attempts == 2 && $0.lastError == nil })
    }

    /// A report that keeps failing is tried on every run until it fails `giveUpAfter` after it was built; then it is
    /// `expired` and never tried again, while one built later goes on being tried.
    @Test func aReportFailingPastTheGiveUpAgeExpiresAndIsNotTriedAgain() throws {
        let dir = try ScratchDirectory("sendmail-expire")
        defer { dir.cleanUp() }
        let store = try Self.storeWithReports(dir, count: 2)  // built at 0
        let broken = ReportMailer(
            store: store, transport: SendmailTransport(path: try Self.standIn(dir, status: 75)),
            from: "abuse-desk@relay.example", giveUpAfter: 1_000)
        let early = try broken.sendAll { 999 }
        #expect(early.failed.count == 2 && early.givenUp.isEmpty)
        #expect(try store.arfReports(states: [.failed]).count == 2)
        let late = try broken.sendAll { 1_000 }
        #expect(late.failed.count == 2 && late.givenUp.count == 2)
        let expired = try store.arfReports(states: [.expired])
        #expect(expired.count == 2 && expired.allSatisfy { $0.attempts == 2 && $0.lastError?.contains("75") == true })
        #expect(try store.arfReports(states: [.pending, .failed]).isEmpty)
        // A report built later is still tried; the expired ones are not, even through a transport that works.
        var newer = try #require(try store.arfReports(states: [.expired]).first)
        newer.id = nil
        newer.sourceKey = "test:newer"
        newer.state = .pending
        newer.attempts = 0
        newer.lastError = nil
        newer.createdAt = 900
        try store.insertARFReports([newer])
        #expect(try broken.sendAll { 1_500 }.givenUp.isEmpty)
        let working = ReportMailer(
            store: store, transport: SendmailTransport(path: try Self.standIn(dir)), from: "abuse-desk@relay.example",
            giveUpAfter: 1_000)
        let sent = try working.sendAll { 1_600 }
        #expect(sent.sent.map(\.sourceKey) == ["test:newer"] && sent.failed.isEmpty)
        #expect(try store.arfReports(states: [.expired]).count == 2)
        #expect(Self.emlFiles(dir.url).count == 1)
    }

    /// An aiosmtpd server on 127.0.0.1 requiring STARTTLS and AUTH; `accept` messages, then 451 for the rest.
    final class SMTPServer {
        let server: ChildProcess
        let port: Int

        init(_ dir: ScratchDirectory, out: String, accept: Int = -1) throws {
            let python = try #require(ARFPaths.python, "python3 is needed for the SMTP server")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            // It stops when its standard input closes (or after --lifetime).
            server = try ChildProcess(
                python,
                [
                    ARFPaths.smtpServer, "--cert", dir.path("cert.pem"), "--key", dir.path("key.pem"), "--user",
                    "relay", "--password", "s3cret", "--out", out, "--accept", String(accept), "--lifetime", "120",
                ], stdin: .pipe, stdout: .pipe)
            let output = try #require(server.readOutput)
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
                server.send(SIGKILL)
                _ = try? server.wait()
                throw DeliveryError("the SMTP test server did not start (is python3-aiosmtpd installed?): \(text)")
            }
            port = p
        }

        func stop() throws {
            try server.writeInput?.close()
            try server.wait(timeout: 60)
        }
    }

    static func certificate(_ dir: ScratchDirectory) throws {
        let r = try runTool(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.path("key.pem"), "-out",
                dir.path("cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
        try #require(r.status == 0, "openssl could not make a certificate: \(r.stderr)")
    }

    static func smtp(_ dir: ScratchDirectory, port: Int, password: String = "s3cret") -> SMTPTransport {
        SMTPTransport(
            host: "127.0.0.1", port: port, starttls: true, username: "relay", password: password,
            caFile: dir.path("cert.pem"), timeoutSeconds: 20)
    }

    @Test(.enabled(if: ExternalTools.aiosmtpd, Comment(rawValue: ExternalTools.aiosmtpdMissing)))
    func smtpWithStarttlsAndAuthDeliversEachReportOnceAcrossAFailingServer() throws {
        let dir = try ScratchDirectory("smtp")
        defer { dir.cleanUp() }
        try Self.certificate(dir)
        let store = try Self.storeWithReports(dir, count: 4)

        // A wrong password is refused: nothing is delivered, everything stays for the next run.
        let first = try SMTPServer(dir, out: dir.path("first"), accept: 2)
        let refused = try ReportMailer(
            store: store, transport: Self.smtp(dir, port: first.port, password: "wrong"),
            from: "abuse-desk@relay.example"
        )
        .sendAll { 50 }
        #expect(refused.sent.isEmpty && refused.failed.count == 4)
        #expect(refused.failed.allSatisfy { $0.error.contains("535 5.7.8 Authentication credentials invalid") })

        // The server's certificate is verified: without the CA that signed it, nothing is sent.
        var unverified = Self.smtp(dir, port: first.port)
        unverified.caFile = nil
        let untrusted = try ReportMailer(store: store, transport: unverified, from: "abuse-desk@relay.example")
            .sendAll { 60 }
        #expect(untrusted.sent.isEmpty && untrusted.failed.count == 4)
        #expect(untrusted.failed.allSatisfy { $0.error.contains("certificate") })

        // The server takes two messages, then answers 451: two sent, two failed.
        let mailer = ReportMailer(
            store: store, transport: Self.smtp(dir, port: first.port), from: "abuse-desk@relay.example")
        let run1 = try mailer.sendAll { 100 }
        try first.stop()
        #expect(run1.sent.count == 2 && run1.failed.count == 2)
        #expect(run1.failed.allSatisfy { $0.error.hasSuffix("server replied 451 4.3.0 Try again later") })

        // The next run, against a server that accepts, delivers the other two; a third run sends nothing.
        let second = try SMTPServer(dir, out: dir.path("second"))
        let again = ReportMailer(
            store: store, transport: Self.smtp(dir, port: second.port), from: "abuse-desk@relay.example")
        let run2 = try again.sendAll { 200 }
        let run3 = try again.sendAll { 300 }
        try second.stop()
        #expect(run2.sent.count == 2 && run2.failed.isEmpty)
        #expect(run3.sent.isEmpty && run3.failed.isEmpty)

        let ids =
            try Self.messageIDs(in: URL(fileURLWithPath: dir.path("first")))
            + Self.messageIDs(in: URL(fileURLWithPath: dir.path("second")))
        #expect(ids.count == 4 && Set(ids).count == 4, "\(ids)")
        let received = try String(
            contentsOf: URL(fileURLWithPath: dir.path("second")).appendingPathComponent("001.eml"), encoding: .utf8)
        #expect(received.hasPrefix("X-Envelope-From: abuse-desk@relay.example\nX-Envelope-To: abuse@shop1.example\n"))
        #expect(try store.arfReports(states: [.pending, .failed]).isEmpty)
    }
}
