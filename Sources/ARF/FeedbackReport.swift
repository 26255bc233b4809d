import Config
import Foundation

/// Builds one RFC 5965 feedback report: a pure function from an `AbuseReport` to the bytes of the message (CRLF line
/// ends, 7-bit).
package enum FeedbackReport {
    /// The whole message: the report's header fields, then `multipart/report; report-type=feedback-report` with a
    /// human-readable part, the `message/feedback-report` fields and the `text/rfc822-headers` rebuilt from the log
    /// (RFC 5965 §2).
    package static func build(_ r: AbuseReport) -> [UInt8] {
        var notes: [String] = []

        // Part 2 (RFC 5965 §3): addresses only where they are safe as they stand, anything else is left out.
        var fields = "Feedback-Type: abuse\r\n"
        fields += "User-Agent: \(r.userAgent)\r\n"
        fields += "Version: 1\r\n"
        if let sender = r.originalMailFrom {
            if sender.isEmpty {
                fields += "Original-Mail-From: <>\r\n"
            } else if MailboxSyntax.isSafeAddress(sender) {
                fields += "Original-Mail-From: <\(sender)>\r\n"
            } else {
                notes.append(
                    "The envelope sender is left out of part 2: it cannot be written safely in a report field.")
            }
        }
        let safeRecipients = r.originalRecipients.filter(MailboxSyntax.isSafeAddress)
        let listed = safeRecipients.prefix(max(0, r.maxRecipients))
        for rcpt in listed { fields += "Original-Rcpt-To: <\(rcpt)>\r\n" }
        if let arrival = r.arrivalDate { fields += "Arrival-Date: \(MIMEText.date(arrival))\r\n" }
        if let ip = r.sourceIP.flatMap(MIMEText.ipAddress) { fields += "Source-IP: \(ip)\r\n" }
        fields += "Reporting-MTA: dns; \(r.reportingMTA)\r\n"
        fields += "Incidents: \(max(1, r.incidents))\r\n"

        let total = max(r.totalRecipients, r.originalRecipients.count)
        var recipientsLine = "\(total) in all"
        if listed.count < total { recipientsLine += "; part 2 lists \(listed.count) of them" }
        let unsafe = r.originalRecipients.count - safeRecipients.count
        if unsafe > 0 {
            notes.append(
                "\(unsafe) recipient address\(unsafe == 1 ? " is" : "es are") left out of part 2: they cannot be "
                    + "written safely in a report field.")
        }

        // Part 3: the header fields the log knows (RFC 5965 §2d allows the headers alone).
        var known: [String] = []
        var headers = ""
        if let t = r.trace, let received = receivedField(t, at: r.arrivalDate) {
            headers += received
            known.append("Received")
        }
        if let from = r.originalFrom {
            if MailboxSyntax.isSafeAddress(from) {
                headers += MIMEText.field("From", "<\(from)>")
                known.append("From")
            } else {
                notes.append("The logged From address is left out of part 3: it cannot be written safely.")
            }
        }
        if let arrival = r.arrivalDate {
            headers += MIMEText.field("Date", MIMEText.date(arrival))
            known.append("Date (the time the relay received the message)")
        }
        if let id = r.originalMessageID {
            if MIMEText.isSafeMessageID(id) {
                headers += MIMEText.field("Message-ID", "<\(id)>")
                known.append("Message-ID")
            } else {
                notes.append("The logged Message-ID is left out of part 3: it cannot be written safely.")
            }
        }
        var subject = MIMEText.headerText(r.fallbackSubject)
        if let logged = r.originalSubject,
            logged.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        {
            notes.append("Control characters (CR, LF, NUL, tab) in the logged subject are replaced by spaces.")
        }
        if let original = r.originalSubject.map(MIMEText.singleLine), !original.isEmpty {
            let encoded = MIMEText.headerText(original)
            headers += MIMEText.field("Subject", encoded)
            known.append("Subject")
            if encoded != original { notes.append("The subject is RFC 2047-encoded: it was not plain ASCII text.") }
            // RFC 5965 §2f: the report's Subject is the original's, with at most a forwarding prefix.
            subject = forwardingPrefix(original) ? encoded : "FW: " + encoded
        }
        if headers.isEmpty {
            headers = MIMEText.field("X-Relaysum-Note", "no header fields of the message were logged")
        }

        // Part 1: human-readable, quoted-printable UTF-8 so nothing from the log can end a line or a part.
        var text = wrap(
            "This is an abuse report in the Abuse Reporting Format (RFC 5965), made by relaysum on "
                + "\(r.reportingMTA) from the relay's mail log.", indent: "")
        text += "\n" + wrap(MIMEText.singleLine(r.summary), indent: "") + "\n"
        let details = r.details + [.init("Recipients", recipientsLine)]
        let width = (details.map { $0.label.count }.max() ?? 0) + 2
        for d in details {
            let label = (MIMEText.singleLine(d.label) + ":").padding(toLength: width, withPad: " ", startingAt: 0)
            let indent = String(repeating: " ", count: width + 2)
            var value = MIMEText.singleLine(d.value)
            // A value from a log can be any length (a 1000-character local part): part 1 shows its start.
            if value.count > 300 { value = value.prefix(300) + "… (\(value.count) characters in all)" }
            text += "  " + label + wrap(value, indent: indent)
        }
        text += "\n"
        let rebuilt =
            known.isEmpty
            ? "it from the log, which holds no header field of the message."
            : "these header fields from the relay's log: \(known.joined(separator: ", "))."
        text += wrap("Part 3 is not the original message: relaysum rebuilt " + rebuilt, indent: "")
        for note in notes { text += wrap(note, indent: "") }

        // Plain ASCII text goes as it is (7bit); anything else (a non-ASCII subject or account) quoted-printable.
        let plain =
            text.utf8.allSatisfy { $0 < 0x7F } && text.split(separator: "\n").allSatisfy { $0.utf8.count <= 900 }
        let part1 = plain ? text.replacingOccurrences(of: "\n", with: "\r\n") : MIMEText.quotedPrintable(text)
        let encoding = plain ? "7bit" : "quoted-printable"
        var boundary = "=_relaysum_" + String(fnv1a(r.messageID + r.to), radix: 16)
        while part1.contains(boundary) || fields.contains(boundary) || headers.contains(boundary) {
            boundary += "_"
        }

        var out = ""
        out += MIMEText.field("From", "<\(r.from)>")
        out += MIMEText.field("To", "<\(r.to)>")
        out += MIMEText.field("Date", MIMEText.date(r.date))
        out += MIMEText.field("Message-ID", "<\(r.messageID)>")
        out += MIMEText.field("Subject", subject)
        out += "MIME-Version: 1.0\r\n"
        out += "Auto-Submitted: auto-generated\r\n"
        out += MIMEText.field("Content-Type", "multipart/report; report-type=feedback-report; boundary=\"\(boundary)\"")
        out += "\r\nThis is a multi-part message in MIME format (an RFC 5965 abuse report).\r\n"
        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: \(encoding)\r\n\r\n"
        out += part1
        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: message/feedback-report\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        out += fields
        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        out += headers
        out += "\r\n--\(boundary)--\r\n"
        return Array(out.utf8)
    }

    /// Words joined into lines of at most 72 characters (within quoted-printable's 76) (a longer word stands alone), each ending in `\n`; lines
    /// after the first start with `indent`, and the caller puts a label as wide as `indent` before the first.
    private static func wrap(_ text: String, indent: String, width: Int = 72) -> String {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width - indent.count {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        lines.append(current)
        return lines.enumerated().map { ($0.offset == 0 ? "" : indent) + $0.element + "\n" }.joined()
    }

    /// `Received: from name ([ip]) by relay id QUEUEID; date`, from the parts that are safe to write.
    private static func receivedField(_ t: AbuseReport.Trace, at arrival: Int64?) -> String? {
        let name = t.clientName.flatMap { MailboxSyntax.isHostName($0) ? $0 : nil }
        let ip = t.clientIP.flatMap(MIMEText.ipAddress)
        guard name != nil || ip != nil, let arrival else { return nil }
        var value = "from \(name ?? "unknown")"
        if let ip { value += " ([\(ip.contains(":") ? "IPv6:" + ip : ip)])" }
        if let relay = t.relay, MailboxSyntax.isHostName(relay) { value += " by \(relay)" }
        if let id = t.queueID, !id.isEmpty, id.utf8.count <= 64,
            id.unicodeScalars.allSatisfy({
                $0.properties.isASCIIHexDigit || ($0.isASCII && ($0 == "-" || $0.properties.isAlphabetic))
            })
        {
            value += " id \(id)"
        }
        return MIMEText.field("Received", value + "; " + MIMEText.date(arrival))
    }

    /// A subject that already starts with `Re:`, `Fwd:` and the like keeps its own text as the report's Subject.
    private static func forwardingPrefix(_ subject: String) -> Bool {
        let lower = subject.lowercased()
        guard let colon = lower.firstIndex(of: ":") else { return false }
        let word = lower[..<colon].trimmingCharacters(in: .whitespaces)
        return ["fw", "fwd", "tr", "wg", "rv", "enc", "vs", "aw", "re"].contains(word)
    }

    private static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
