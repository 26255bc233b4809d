import Foundation
import TestSupport
import Testing

@testable import ARF

/// Built reports, ordinary and hostile, checked by structure and by two independent readers: `arf_validate.py
/// --strict` and Sisimai (an ARF parser).
@Suite struct FeedbackReportTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var report: AbuseReport
        /// Recipients that must appear as Original-Rcpt-To, in order.
        var listed: [String]
        /// Text part 1 must contain.
        var notes: [String] = []
        var testDescription: String { name }
    }

    static func report(
        sender: String? = "alice@shop1.example", recipients: [String] = ["bob@far.example"], subject: String? = nil,
        messageID: String? = "20261109.abc@shop1.example", sourceIP: String? = "192.0.2.10",
        account: String = "sasl:alice",
        incidents: Int = 1, total: Int = 0, max: Int = 50, clientName: String? = "mail.shop1.example"
    ) -> AbuseReport {
        let shown = sender.map { $0.isEmpty ? "<>" : "<\($0)>" } ?? "(not logged)"
        return AbuseReport(
            from: "abuse-desk@relay.example", to: "abuse@hosting.example", date: 1_794_225_600,
            messageID: "relaysum-1@relay.example", reportingMTA: "relay.example", userAgent: "relaysum/0.1.0",
            summary: "The relay rejected a message for its content at END-OF-MESSAGE.",
            details: [
                .init("Account", account), .init("Envelope sender", shown),
                .init("Reason", "5.7.1 Spam message rejected"),
            ],
            fallbackSubject: "Abuse report: message from \(account) blocked", originalMailFrom: sender,
            originalRecipients: recipients, totalRecipients: total, maxRecipients: max, arrivalDate: 1_794_222_001,
            sourceIP: sourceIP, incidents: incidents, originalMessageID: messageID, originalSubject: subject,
            originalFrom: nil,
            trace: .init(clientName: clientName, clientIP: sourceIP, relay: "relay1.example", queueID: "0B1C2D0406"))
    }

    static let longLocal = String(repeating: "x", count: 1000)
    static let many = (1...120).map { "r\($0)@far.example" }

    static let cases: [Case] = [
        Case(name: "plain", report: report(), listed: ["bob@far.example"]),
        Case(
            name: "compromised window", report: report(recipients: ["a@far.example", "b@far.example"], incidents: 812),
            listed: ["a@far.example", "b@far.example"]),
        Case(
            name: "logged subject", report: report(subject: "You have won a prize"), listed: ["bob@far.example"]),
        Case(
            name: "subject already forwarded", report: report(subject: "Re: invoice 42"), listed: ["bob@far.example"]),
        Case(
            name: "CR LF injection in the subject",
            report: report(subject: "Hello\r\nBcc: victim@far.example\r\n\r\n--=_relaysum_x\r\nhi"),
            listed: ["bob@far.example"]),
        Case(
            name: "non-ASCII subject and account",
            report: report(subject: "Gewinnspiel – Ihr Preis ✓ 🎁", account: "sasl:jürgen@shop1.example"),
            listed: ["bob@far.example"], notes: ["RFC 2047"]),
        Case(
            name: "1500-character subject without spaces",
            report: report(subject: String(repeating: "A", count: 1500)), listed: ["bob@far.example"]),
        Case(
            name: "1000-character local part",
            report: report(
                sender: longLocal + "@shop1.example", recipients: [longLocal + "@far.example", "ok@far.example"]),
            listed: ["ok@far.example"],
            notes: ["envelope sender is left out", "1 recipient address is left out", "(1016 characters in all)"]),
        Case(
            name: "quote, semicolon, CR LF and NUL in addresses",
            report: report(
                sender: "a\"b;c@shop1.example",
                recipients: [
                    "\"x;y\"@far.example", "v\r\nBcc: w@far.example", "n\u{0}ul@far.example", "ok@far.example",
                ]),
            listed: ["ok@far.example"], notes: ["3 recipient addresses are left out"]),
        Case(
            name: "non-ASCII addresses",
            report: report(sender: "jürgen@shop1.example", recipients: ["müller@far.example"]),
            listed: [], notes: ["envelope sender is left out"]),
        Case(name: "null sender", report: report(sender: ""), listed: ["bob@far.example"]),
        Case(
            name: "hostile Message-ID, IP and client name",
            report: report(messageID: "a b\r\nX-Evil: 1@x", sourceIP: "192.0.2.1\r\nX-Evil: 2", clientName: "a\r\nb"),
            listed: ["bob@far.example"], notes: ["Message-ID is left out"]),
        Case(name: "IPv6 client", report: report(sourceIP: "2001:db8::25"), listed: ["bob@far.example"]),
        Case(
            name: "more recipients than the cap", report: report(recipients: many, total: 130, max: 50),
            listed: Array(many.prefix(50)), notes: ["130 in all; part 2 lists 50 of them"]),
    ]

    @Test(arguments: cases)
    func structureIsSafe(_ c: Case) throws {
        let bytes = FeedbackReport.build(c.report)
        #expect(bytes.allSatisfy { $0 < 0x80 && $0 != 0 }, "8-bit or NUL byte in the report")
        for (i, b) in bytes.enumerated() where b == 0x0A { #expect(i > 0 && bytes[i - 1] == 0x0D, "bare LF") }
        for (i, b) in bytes.enumerated() where b == 0x0D {
            #expect(i + 1 < bytes.count && bytes[i + 1] == 0x0A, "bare CR")
        }
        let built = BuiltReport(bytes)
        for line in built.text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
        for line in built.headerLines { #expect(line.utf8.count <= 78 || !line.dropFirst().contains(" ")) }
        #expect(
            built.headers.map(\.name) == [
                "From", "To", "Date", "Message-ID", "Subject", "MIME-Version", "Auto-Submitted", "Content-Type",
            ])
        // Nothing from the log became a header line of its own anywhere in the message.
        #expect(!built.text.contains("\r\nBcc:"))
        #expect(!built.text.contains("\r\nX-Evil:"))
        let rcptTo = built.feedbackFields.filter { $0.hasPrefix("Original-Rcpt-To: ") }
        #expect(rcptTo == c.listed.map { "Original-Rcpt-To: <\($0)>" })
        for note in c.notes { #expect(built.description.contains(note), "part 1 lacks \(note)") }
        #expect(built.description.contains("Part 3 is not the original message"))
        #expect(!built.description.contains(Self.longLocal), "a 1000-character value is shortened in part 1")
        #expect(built.feedbackFields.contains("Incidents: \(max(1, c.report.incidents))"))
    }

    @Test func injectedSubjectIsEncoded() throws {
        // CR and LF become spaces (and part 1 says so): the text stays on the Subject line.
        let built = BuiltReport(FeedbackReport.build(Self.report(subject: "Hi\r\nBcc: v@far.example")))
        #expect(built.headers.first { $0.name == "Subject" }?.value == "FW: Hi Bcc: v@far.example")
        #expect(built.originalHeaders.contains("Subject: Hi Bcc: v@far.example"))
        #expect(built.description.contains("Control characters (CR, LF, NUL, tab) in the logged subject"))
        // Non-ASCII is RFC 2047-encoded, the same way in the report's Subject and in part 3.
        let utf8 = BuiltReport(FeedbackReport.build(Self.report(subject: "Ihr Preis ✓")))
        let subject = try #require(utf8.headers.first { $0.name == "Subject" }?.value)
        #expect(subject == "FW: =?UTF-8?B?SWhyIFByZWlzIOKckw==?=")
        #expect(utf8.originalHeaders.contains("Subject: =?UTF-8?B?SWhyIFByZWlzIOKckw==?="))
        let plain = BuiltReport(FeedbackReport.build(Self.report(subject: "You have won")))
        #expect(plain.headers.first { $0.name == "Subject" }?.value == "FW: You have won")
        #expect(plain.originalHeaders.contains("Subject: You have won"))
    }

    @Test func datesAreRFC5322WithNumericZone() {
        #expect(MIMEText.date(0) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MIMEText.date(1_794_222_001) == "Mon, 9 Nov 2026 11:00:01 +0000")
        #expect(MIMEText.date(951_782_400) == "Tue, 29 Feb 2000 00:00:00 +0000")
    }

    /// Every case, written to files, passes the validator strictly and is read by Sisimai as an `abuse` report
    /// for exactly the listed recipients.
    @Test(
        .enabled(
            if: ExternalTools.reportCheckers(packageRoot: ARFPaths.packageRoot),
            Comment(rawValue: ExternalTools.reportCheckersMissing)))
    func independentReadersAcceptEveryReport() throws {
        let dir = try ScratchDirectory("build")
        defer { dir.cleanUp() }
        var files: [String: Case] = [:]
        for (i, c) in Self.cases.enumerated() {
            let path = dir.path("case-\(i).eml")
            try Data(FeedbackReport.build(c.report)).write(to: URL(fileURLWithPath: path))
            files[path] = c
        }
        let failed = try IndependentChecks.validate(files.keys.sorted())
        #expect(failed.isEmpty, "arf_validate.py --strict failed: \(failed)")
        let read = try IndependentChecks.sisimai(files.keys.sorted())
        for (path, c) in files {
            let r = try #require(read[path], "Sisimai did not read \(c.name)")
            #expect(r.type == "abuse", "\(c.name)")
            if !c.listed.isEmpty { #expect(r.recipients == c.listed.sorted(), "\(c.name)") }
        }
    }
}
