import Store

/// Parses the text of one Exim main-log or reject-log line (what follows the envelope) into an `EximEvent`.
///
/// Pure and byte-level: no regular expressions, `String`s only for the fields that are kept. The text may still
/// carry what syslog adds around Exim's own line: a `[1/3]` part number, Exim's time stamp (`syslog_timestamp`)
/// and a `[pid]` (`+pid`); all three are read past.
///
///     1jmFYj-00039V-QX <= alice@shop1.example H=(laptop) [192.0.2.7]:50312 I=[198.51.100.1]:587 P=esmtpsa
///         X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:alice@shop1.example S=2345 id=abc@shop1.example
///     1jmFYj-00039V-QX => bob@dest.example R=dnslookup T=remote_smtp H=mx.dest.example [203.0.113.9]
///         X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 Ok: queued as 4Nm2M" QT=2s DT=1s
///     1jmFYj-00039V-QX == carol@slow.example R=dnslookup T=remote_smtp defer (-44) H=mx.slow.example [203.0.113.20]:
///         SMTP error from remote mail server after RCPT TO:<carol@slow.example>: 451 4.7.1 Greylisted
///     1jmFYj-00039V-QX Completed
///     H=(laptop) [192.0.2.7] F=<alice@shop1.example> rejected RCPT <x@y.example>: relay not permitted
///     dovecot_login authenticator failed for (laptop) [192.0.2.7]:50313: 535 Incorrect authentication data
///         (set_id=bob)
package enum EximLineParser {
    /// The longest reply or reason kept, in bytes (as `RecipientRecord.reply`).
    static let maxTextBytes = 512

    /// Parses `message`, the text after the envelope; `strings` shares the texts that recur from line to line
    /// (addresses, relays, replies).
    @inline(__always) package static func parse(_ message: ByteSlice, strings: StringCache? = nil) -> EximParseResult {
        var m = message.trimmed
        var truncated = false
        // Syslog's numbered parts of a long or multi-line entry: `[1/2] …`, `[2\3] …` (log.c, write_syslog()).
        if let (part, total, byLength, end) = syslogPart(m) {
            if part > 1 { return .skipped(.syslogContinuation) }
            truncated = byLength && total > 1
            m = m.dropFirst(end)
        }
        m = m.dropFirst(eximStampLength(m))
        m = m.dropFirst(pidLength(m))
        if m.isEmpty { return .unparsed("exim: empty line") }
        let sp = m.firstIndex(of: 0x20) ?? m.count
        if sp == 16 || sp == 23, let id = EximMessageID(m.prefix(sp)) {
            return withMessageID(id, m.dropFirst(sp + 1), truncated: truncated, strings)
        }
        return withoutMessageID(m)
    }

    /// Whether a line without a time stamp belongs to a reject-log entry's header dump: `Envelope-from: <…>`,
    /// `Envelope-to: <…>`, a header line flagged by its type (`P Received: …`, `I Message-Id: …`, `  Subject: …`),
    /// a continuation line (leading white space) or `*** truncated ***` (log.c, log_write()).
    package static func isRejectLogHeader(_ line: ByteSlice) -> Bool {
        guard !line.isEmpty else { return true }
        let c = line[0]
        if c == 0x20 || c == 0x09 { return true }
        if line.hasPrefix("Envelope-from:") || line.hasPrefix("Envelope-to:") || line.hasPrefix("*** truncated ***") {
            return true
        }
        // A header type character (`P`, `I`, `F`, `T`, `C`, `R`, `S`, `B`, `*`, …), a space, then `Name:`.
        guard line.count > 3, line[1] == 0x20, c == UInt8(ascii: "*") || (c &- 65 < 26) else { return false }
        var i = 2
        while i < line.count, isHeaderNameByte(line[i]) { i += 1 }
        return i > 2 && i < line.count && line[i] == UInt8(ascii: ":")
    }

    // MARK: envelope leftovers

    /// `[n/m] ` or `[n\m] `: (n, m, split because of length, length of the prefix).
    static func syslogPart(_ m: ByteSlice) -> (Int, Int, Bool, Int)? {
        guard m.count > 5, m[0] == UInt8(ascii: "[") else { return nil }
        var i = 1
        var n = 0
        while i < m.count, isDigit(m[i]), i < 6 {
            n = n * 10 + Int(m[i] - 48)
            i += 1
        }
        guard i > 1, i < m.count, m[i] == UInt8(ascii: "/") || m[i] == UInt8(ascii: "\\") else { return nil }
        let byLength = m[i] == UInt8(ascii: "/")
        i += 1
        let start = i
        var t = 0
        while i < m.count, isDigit(m[i]), i < start + 5 {
            t = t * 10 + Int(m[i] - 48)
            i += 1
        }
        guard i > start, i + 1 < m.count, m[i] == UInt8(ascii: "]"), m[i + 1] == 0x20 else { return nil }
        return (n, t, byLength, i + 2)
    }

    /// The length of a leading Exim stamp `2026-11-09 00:02:48[.123][ +0100] ` (kept by `syslog_timestamp`).
    static func eximStampLength(_ m: ByteSlice) -> Int {
        guard m.count >= 20, isDigit(m[0]), isDigit(m[3]), m[4] == UInt8(ascii: "-"), m[7] == UInt8(ascii: "-"),
            m[10] == 0x20, m[13] == UInt8(ascii: ":"), m[16] == UInt8(ascii: ":"), isDigit(m[18])
        else { return 0 }
        var i = 19
        if i < m.count, m[i] == UInt8(ascii: ".") {
            i += 1
            while i < m.count, isDigit(m[i]) { i += 1 }
        }
        if i + 6 <= m.count, m[i] == 0x20, m[i + 1] == UInt8(ascii: "+") || m[i + 1] == UInt8(ascii: "-"),
            isDigit(m[i + 2]), isDigit(m[i + 5])
        {
            i += 6
        }
        guard i < m.count, m[i] == 0x20 else { return 0 }
        return i + 1
    }

    /// The length of a leading `[1234] ` (`+pid`, when the envelope did not take it).
    static func pidLength(_ m: ByteSlice) -> Int {
        guard m.count > 3, m[0] == UInt8(ascii: "[") else { return 0 }
        var i = 1
        while i < m.count, isDigit(m[i]) { i += 1 }
        guard i > 1, i + 1 < m.count, m[i] == UInt8(ascii: "]"), m[i + 1] == 0x20 else { return 0 }
        return i + 2
    }

    // MARK: lines with a message ID

    private static func withMessageID(
        _ id: EximMessageID, _ r: ByteSlice, truncated: Bool, _ strings: StringCache?
    ) -> EximParseResult {
        if r.isEmpty { return .unparsed("exim: message ID alone") }
        if r.count >= 2 && (r.count == 2 || r[2] == 0x20) {
            let a = r[0]
            let b = r[1]
            if b == UInt8(ascii: "=") && (a == UInt8(ascii: "<") || a == UInt8(ascii: "(")) {
                return arrival(id, r.dropFirst(3), truncated: truncated, strings)
            }
            if let flag = deliveryFlag(a, b) { return delivery(id, flag, r.dropFirst(3), strings) }
        }
        if r.hasPrefix("Completed") && (r.count == 9 || r[9] == 0x20) { return .event(.completed(id)) }
        if r.hasPrefix("removed by ") { return .event(.removed(id)) }
        if startsWithSessionField(r) || r.hasPrefix("rejected ") || r.hasPrefix("temporarily rejected ") {
            return session(r, messageID: id)
        }
        if let skip = messageNote(r) { return .skipped(skip) }
        if let i = r.prefix(80).firstIndex(of: " authenticator failed", from: 0), isWord(r.slice(0, i)) {
            // Our relay failing to log in to the next hop: `ID plain authenticator failed H=host [ip] 535 …`.
            return .skipped(.clientAuthFailure)
        }
        // Exim logs every outcome of a message on a flagged line (`<=`, `=>`, `**`, `==`, …, `Completed`); any
        // other line about it is a note, often `logwrite` text from the operator's ACLs, filters or events.
        return .skipped(.messageNote)
    }

    @inline(__always) private static func deliveryFlag(_ a: UInt8, _ b: UInt8) -> EximDelivery.Flag? {
        switch (a, b) {
        case (UInt8(ascii: "="), UInt8(ascii: ">")): return .delivered
        case (UInt8(ascii: "-"), UInt8(ascii: ">")): return .additional
        case (UInt8(ascii: ">"), UInt8(ascii: ">")): return .cutthrough
        case (UInt8(ascii: "*"), UInt8(ascii: ">")): return .suppressed
        case (UInt8(ascii: "*"), UInt8(ascii: "*")): return .failed
        case (UInt8(ascii: "="), UInt8(ascii: "=")): return .deferred
        default: return nil
        }
    }

    /// `<= sender H=… I=… P=… A=… U=… S=… id=… T="…" R=… X=… CV=… DN=… for a@x b@y`
    private static func arrival(
        _ id: EximMessageID, _ r: ByteSlice, truncated: Bool, _ strings: StringCache?
    ) -> EximParseResult {
        var i = skipSpaces(r, 0)
        let senderEnd = tokenEnd(r, i)
        guard senderEnd > i else { return .unparsed("exim: arrival without sender") }
        let sender = address(r.slice(i, senderEnd), strings)
        var host: EximHost? = nil
        var user: String? = nil
        var protocolName: String? = nil
        var authenticator: (String?, String?) = (nil, nil)
        var size: Int64? = nil
        var headerMessageID: String? = nil
        var bounceOf: String? = nil
        var recipients: [String]? = nil
        i = senderEnd
        while true {
            i = skipSpaces(r, i)
            guard i < r.count else { break }
            if r.hasPrefix("for ", at: i) {
                // `+received_recipients`: the rest of the line. A line syslog cut short may end mid-address.
                if !truncated { recipients = words(r.dropFirst(i + 4)).map { address($0, strings) } }
                break
            }
            // The kept keys are one letter (the byte before a `=` in second place) and `id`; `H=` is read by
            // `host` without finding the end of the token first.
            let key = i + 1 < r.count && r[i + 1] == UInt8(ascii: "=") ? r[i] : 0
            if key == UInt8(ascii: "H") {
                var j = i + 2
                host = Self.host(r, &j, strings)
                i = j
                continue
            }
            let end = tokenEnd(r, i)
            switch key {
            case 0:
                if r.hasPrefix("id=", at: i), end > i + 3 {
                    headerMessageID = angleStripped(r.slice(i + 3, end)).string
                }
            case UInt8(ascii: "U"): user = unquoted(r.slice(i + 2, end))
            case UInt8(ascii: "P"): protocolName = r.slice(i + 2, end).string(strings)
            case UInt8(ascii: "A"): authenticator = Self.authenticator(r.slice(i + 2, end), strings)
            case UInt8(ascii: "S"): size = r.slice(i + 2, end).decimal
            case UInt8(ascii: "R"): bounceOf = end > i + 2 ? r.slice(i + 2, end).string : nil
            default: break
            }
            i = end
        }
        return .event(
            .arrival(
                EximArrival(
                    messageID: id, sender: sender, host: host, user: user, protocolName: protocolName,
                    authenticator: authenticator.0, authenticatedID: authenticator.1, size: size,
                    headerMessageID: headerMessageID, bounceOf: bounceOf, recipients: recipients)))
    }

    /// `=> addr [(parents)] [<orig>] [F=<s>] [P=<rp>] R=… T=… [S=…] [H=name [ip]:port] [X=…] [C="…"] [QT=… DT=…]`,
    /// and for `**`/`==`: `… [defer (errno)] [H=…]: error text`.
    private static func delivery(
        _ id: EximMessageID, _ flag: EximDelivery.Flag, _ r: ByteSlice, _ strings: StringCache?
    ) -> EximParseResult {
        var header = r
        var errorText: ByteSlice? = nil
        if flag == .failed || flag == .deferred {
            if let c = r.firstIndex(of: ": ") {
                header = r.prefix(c)
                errorText = r.dropFirst(c + 2)
            } else if r.hasSuffix(":") {
                header = r.prefix(r.count - 1)
            }
        }
        var i = skipSpaces(header, 0)
        let addrEnd = tokenEnd(header, i)
        guard addrEnd > i else { return .unparsed("exim: delivery without address") }
        let recipient = address(header.slice(i, addrEnd), strings)
        var originalAddress: ByteSlice? = nil
        i = skipSpaces(header, addrEnd)
        // `+all_parents`: `(a@x, b@y)`.
        if i < header.count, header[i] == UInt8(ascii: "(") {
            i = (header.firstIndex(of: UInt8(ascii: ")"), from: i) ?? header.count - 1) + 1
            i = skipSpaces(header, i)
        }
        if i < header.count, header[i] == UInt8(ascii: "<") {
            let end = tokenEnd(header, i)
            let orig = angleStripped(header.slice(i, end))
            if !orig.isEmpty { originalAddress = orig }
            i = end
        }
        var hostInfo: HostParts? = nil
        var transport: ByteSlice? = nil
        var confirmation: ByteSlice? = nil
        var senderField: ByteSlice? = nil
        while true {
            i = skipSpaces(header, i)
            guard i < header.count else { break }
            // Only one-letter keys are kept (`H=`, `T=`, `C=`, `F=`): the key is the byte before a `=` in second
            // place, and `H=` is read by `hostParts` without finding the end of the token first.
            let key = i + 1 < header.count && header[i + 1] == UInt8(ascii: "=") ? header[i] : 0
            if key == UInt8(ascii: "H") {
                var j = i + 2
                hostInfo = hostParts(header, &j)
                i = j
                continue
            }
            let end = tokenEnd(header, i)
            switch key {
            case UInt8(ascii: "T"): transport = header.slice(i + 2, end)
            case UInt8(ascii: "C"): confirmation = header.slice(i + 2, end)
            case UInt8(ascii: "F"): senderField = header.slice(i + 2, end)
            default: break
            }
            i = end
        }
        if hostInfo == nil, let text = errorText, let h = hostInError(text) { hostInfo = h }
        let relay: String?
        if let h = hostInfo, h.name != nil || h.ip != nil {
            relay = h.relay(strings)
        } else if let t = transport, !t.isEmpty {
            relay = t.string(strings)
        } else {
            relay = nil
        }
        let (reply, dsn) = replyAndStatus(confirmation: confirmation, errorText: errorText, strings)
        // Every text a constant, the delivery made in the return: from variables, it was copied into the event (a
        // retain of each of its strings) and the variables then destroyed (a release of each).
        return .event(
            .delivery(
                EximDelivery(
                    messageID: id, flag: flag, address: recipient, originalAddress: originalAddress?.string,
                    relay: relay, reply: reply, dsn: dsn, sender: senderField.map { address($0, strings) })))
    }

    /// The reply of a delivery line and its enhanced status code: `C="…"` when logged, else the error text.
    private static func replyAndStatus(
        confirmation: ByteSlice?, errorText: ByteSlice?, _ strings: StringCache?
    ) -> (String?, String?) {
        if let c = confirmation {
            let inner = c.count >= 2 && c[0] == UInt8(ascii: "\"") ? c.slice(1, c.count - 1) : c
            // Not shared: a confirmation mostly names the next hop's queue ID, so it seldom recurs.
            if inner.firstIndex(of: UInt8(ascii: "\\")) == nil {
                return (shortened(inner), enhancedStatus(inner))
            }
            let bytes = unquotedBytes(c)
            return (shortened(bytes), bytes.withUnsafeBufferPointer { enhancedStatus(ByteSlice($0)) })
        }
        if let text = errorText { return (shortened(text, strings), enhancedStatus(text)) }
        return (nil, nil)
    }

    /// The host named inside an error text: `SMTP error from remote mail server after RCPT TO:<…>: host NAME [IP]:
    /// 550 …` (Exim before 4.8x put the host there instead of in `H=`).
    private static func hostInError(_ text: ByteSlice) -> HostParts? {
        guard let at = text.prefix(200).firstIndex(of: ": host ", from: 0) else { return nil }
        var i = at + 7
        let h = hostParts(text, &i)
        return h.ip == nil ? nil : h
    }

    // MARK: notes about a message

    private static let messageNotes: [(StaticString, EximSkip)] = [
        ("Frozen", .frozen), ("Unfrozen", .frozen), ("Message is frozen", .frozen), ("frozen by", .frozen),
        ("no immediate delivery", .queueNote), ("retry time not reached", .queueNote),
        ("Spool file is locked", .queueNote), ("Spool file", .queueNote),
        ("another process is handling this message", .queueNote), ("moved from", .queueNote),
        ("Message ", .queueNote), ("delivery deferred", .queueNote),
        ("cancelled by", .messageNote), ("original recipients ignored", .messageNote),
        ("SMTP error", .messageNote), ("SMTP connection outbound", .messageNote), ("SMTP timeout", .messageNote),
        ("SMTP data timeout", .protocolError), ("Error while reading", .messageNote), ("error ", .messageNote),
        ("Failed to", .messageNote), ("failed to", .messageNote), ("SA:", .aclNote), ("DKIM", .aclNote),
        ("dkim", .aclNote), ("DMARC", .aclNote), ("dmarc", .aclNote), ("ARC", .aclNote), ("arc_", .aclNote),
        ("spam acl condition", .aclNote), ("malware acl condition", .aclNote), ("malware_name", .aclNote),
        ("Warning:", .aclNote), ("warning:", .aclNote), ("event ", .aclNote), ("qualify/rewrite", .aclNote),
        ("rewritten", .aclNote), ("from env-from rewritten", .aclNote), ("Sender identification", .aclNote),
        ("sender identification", .aclNote), ("local_scan()", .aclNote), ("PRDR ", .messageNote),
        ("TLS", .tls), ("tls", .tls), ("SSL", .tls), ("DANE", .tls), ("dane", .tls),
    ]

    /// Names the kind of a known note about a message.
    private static func messageNote(_ r: ByteSlice) -> EximSkip? {
        for (prefix, skip) in messageNotes where r.hasPrefix(prefix) { return skip }
        return nil
    }

    // MARK: lines without a message ID

    private static let notes: [(StaticString, EximSkip)] = [
        ("SMTP connection from", .connection), ("SMTP connection Ci=", .connection),
        ("no MAIL in SMTP connection", .connection), ("refused connection from", .connection),
        ("Connection from", .connection), ("connection from", .connection), ("SMTP connection", .connection),
        ("SMTP call from", .protocolError), ("SMTP protocol error", .protocolError),
        ("SMTP protocol synchronization error", .protocolError), ("SMTP syntax error", .protocolError),
        ("SMTP command timeout", .protocolError), ("SMTP data timeout", .protocolError),
        ("SMTP incomplete transaction", .protocolError), ("SMTP ", .protocolError),
        ("unexpected disconnection", .protocolError), ("synchronization error", .protocolError),
        ("too many syntax or protocol errors", .protocolError), ("overlong message header", .protocolError),
        ("TLS error", .tls), ("TLS session", .tls), ("TLS ", .tls), ("SSL verify error", .tls), ("DANE", .tls),
        ("no host name found", .hostLookup), ("no IP address found", .hostLookup),
        ("host name alias list truncated", .hostLookup), ("lowest numbered MX record", .hostLookup),
        ("Start queue run", .daemon), ("End queue run", .daemon), ("Start '", .daemon), ("End '", .daemon),
        ("Start ODMR", .daemon), ("End ODMR", .daemon), ("exim ", .daemon), ("pid ", .daemon),
        ("daemon", .daemon), ("Daemon", .daemon), ("cwd=", .daemon), ("Exim configuration error", .daemon),
        ("configuration error", .daemon), ("Received SIG", .daemon), ("SIGHUP", .daemon), ("Warning:", .aclNote),
        ("WARNING:", .daemon), ("warning:", .daemon), ("failed to", .daemon), ("Failed to", .daemon),
        ("exec of", .daemon), ("re-exec", .daemon), ("expansion of", .daemon), ("invalid ", .daemon),
        ("tainted ", .daemon), ("LOG:", .daemon), ("Exim ", .daemon), ("panic", .daemon),
        ("too many recipients", .aclNote), ("VRFY ", .aclNote), ("EXPN ", .aclNote), ("ETRN ", .aclNote),
        ("DKIM", .aclNote), ("SA:", .aclNote), ("ACL ", .aclNote), ("sender verify", .aclNote),
        ("recipient verify", .aclNote), ("spam acl condition", .aclNote), ("malware acl condition", .aclNote),
    ]

    private static func withoutMessageID(_ m: ByteSlice) -> EximParseResult {
        if startsWithSessionField(m) || m.hasPrefix("rejected ") || m.hasPrefix("temporarily rejected ") {
            return session(m, messageID: nil)
        }
        if let i = m.prefix(120).firstIndex(of: " authenticator failed", from: 0) {
            return authFailure(m, nameEnd: i)
        }
        for (prefix, skip) in notes where m.hasPrefix(prefix) { return .skipped(skip) }
        if looksLikeFlagLine(m) { return .unparsed("exim: malformed message ID") }
        // Refusals, auth failures and message lines have been tried: what is left is free text (`logwrite` in the
        // operator's ACLs and event handlers, configuration complaints), which carries nothing relaysum stores.
        return .skipped(.freeText)
    }

    /// `WORD <= …`, `WORD => …`: a message line whose ID has the wrong shape.
    private static func looksLikeFlagLine(_ m: ByteSlice) -> Bool {
        guard let sp = m.firstIndex(of: 0x20), sp >= 10, sp <= 32, sp + 3 <= m.count,
            sp + 3 == m.count || m[sp + 3] == 0x20, m.firstIndex(of: UInt8(ascii: "-")).map({ $0 < sp }) == true
        else { return false }
        let a = m[sp + 1]
        let b = m[sp + 2]
        return deliveryFlag(a, b) != nil
            || (b == UInt8(ascii: "=") && (a == UInt8(ascii: "<") || a == UInt8(ascii: "(")))
    }

    // MARK: SMTP session lines (rejections and ACL notes)

    /// The client fields before a verb: `H=… U=… F=<…> A=… I=… X=… CV=… Ci=…`.
    private struct SessionFields {
        var host: EximHost?
        var login: String?
        var sender: String?
    }

    /// Reads fields from `i` up to `end`; stops at the first word that is not a field.
    private static func sessionFields(_ s: ByteSlice, _ i: inout Int, end: Int, into f: inout SessionFields) {
        let s = s.prefix(end)
        while true {
            i = skipSpaces(s, i)
            guard i < s.count else { return }
            let tEnd = tokenEnd(s, i)
            guard let (key, value) = field(s.slice(i, tEnd)) else { return }
            if key.count == 1 {
                switch key[0] {
                case UInt8(ascii: "H"):
                    var j = i + 2
                    f.host = host(s, &j)
                    i = j
                    continue
                case UInt8(ascii: "F"): f.sender = address(value)
                case UInt8(ascii: "A"): f.login = authenticator(value).1
                default: break
                }
            }
            i = tEnd
        }
    }

    private static func session(_ s: ByteSlice, messageID: EximMessageID?) -> EximParseResult {
        var f = SessionFields()
        var i = 0
        sessionFields(s, &i, end: s.count, into: &f)
        let p = s.dropFirst(i)
        var temporary = false
        var verb = p
        if p.hasPrefix("temporarily rejected ") {
            temporary = true
            verb = p.dropFirst(21)
        } else if p.hasPrefix("rejected ") {
            verb = p.dropFirst(9)
        } else {
            if p.hasPrefix("RCPT "), let d = p.firstIndex(of: ": discarded by ") {
                // `RCPT <x>: discarded by RCPT ACL`: accepted from the client, silently dropped.
                let rcpt = p.slice(5, d)
                let reason = p.dropFirst(d + 2)
                return .event(
                    .rejection(
                        EximRejection(
                            messageID: messageID, kind: .discard, stage: "RCPT", host: f.host, login: f.login,
                            sender: f.sender, recipient: address(rcpt), reason: shortened(reason))))
            }
            if messageID != nil { return .skipped(.messageNote) }
            return sessionNote(p).map { .skipped($0) } ?? .unparsed("exim: session line")
        }
        return rejection(verb, temporary: temporary, fields: f, messageID: messageID)
    }

    private static func sessionNote(_ p: ByteSlice) -> EximSkip? {
        if p.hasPrefix("sender verify") || p.hasPrefix("recipient verify") || p.hasPrefix("Warning:")
            || p.hasPrefix("warning:") || p.hasPrefix("VRFY") || p.hasPrefix("EXPN") || p.hasPrefix("ACL")
            || p.hasPrefix("rcpt ") || p.hasPrefix("Accepted")
        {
            return .aclNote
        }
        if p.hasPrefix("SMTP ") || p.hasPrefix("lost ") || p.hasPrefix("dropped") || p.hasPrefix("closed")
            || p.hasPrefix("Connection") || p.hasPrefix("incomplete transaction")
            || p.hasPrefix("too many")
        {
            return .protocolError
        }
        if p.hasPrefix("TLS") || p.hasPrefix("SSL") { return .tls }
        return nil
    }

    /// The words after `rejected `: `RCPT <r>: why`, `MAIL <s>`, `MAIL FROM:<s> U=…: message too big: …`,
    /// `connection in "connect" ACL`, `EHLO or HELO name`, `after DATA: why`, `DATA`, `from <s> H=…: message too
    /// big: read=… max=…`, `by non-SMTP ACL: why`, `by local_scan(): why`, `VRFY …`.
    private static func rejection(
        _ v: ByteSlice, temporary: Bool, fields: SessionFields, messageID: EximMessageID?
    ) -> EximParseResult {
        var f = fields
        var kind = RejectKind.reject
        var stage: String
        var recipient: String? = nil
        var i = 0
        if v.hasPrefix("RCPT ") {
            stage = "RCPT"
            i = skipSpaces(v, 5)
            let end = addressEnd(v, i)
            if end > i { recipient = address(v.slice(i, end)) }
            i = end
        } else if v.hasPrefix("MAIL FROM:") {
            // `rejected MAIL FROM:<s> H=… [ip]: message too big: size=N max=M` (SIZE= larger than the limit).
            stage = "MAIL"
            let end = addressEnd(v, 10)
            if f.sender == nil { f.sender = address(v.slice(10, end)) }
            i = end
            sessionFields(v, &i, end: v.firstIndex(of: ": ") ?? v.count, into: &f)
        } else if v.hasPrefix("MAIL ") {
            stage = "MAIL"
            i = skipSpaces(v, 5)
            let end = addressEnd(v, i)
            if f.sender == nil && end > i { f.sender = address(v.slice(i, end)) }
            i = end
        } else if v.hasPrefix("connection") {
            stage = "CONNECT"
        } else if v.hasPrefix("EHLO from ") || v.hasPrefix("HELO from ") {
            // `rejected EHLO from name [ip]: syntactically invalid argument(s): …` (helo_verify, syntax checks).
            stage = v.prefix(4).string
            i = 10
            let colon = v.firstIndex(of: ": ", from: i) ?? v.count
            if f.host == nil {
                f.host = host(v.prefix(colon), &i)
            }
        } else if v.hasPrefix("EHLO or HELO") || v.hasPrefix("HELO") {
            stage = "HELO"
            if v.hasPrefix("EHLO or HELO ") {
                let end = addressEnd(v, 13)
                if end > 13, f.host?.helo == nil {
                    var h = f.host ?? EximHost()
                    h.helo = v.slice(13, end).string
                    f.host = h
                }
                i = end
            }
        } else if v.hasPrefix("EHLO") {
            stage = "EHLO"
        } else if v.hasPrefix("after DATA") {
            stage = "END-OF-MESSAGE"
            kind = .contentReject
        } else if v.hasPrefix("from ") {
            // `rejected from <s> U=… : message too big: read=N max=M` while reading the data.
            stage = "DATA"
            let end = addressEnd(v, 5)
            if f.sender == nil { f.sender = address(v.slice(5, end)) }
            i = end
            sessionFields(v, &i, end: v.firstIndex(of: ": ") ?? v.count, into: &f)
        } else if v.hasPrefix("by non-SMTP ACL") {
            stage = "non-SMTP"
        } else if v.hasPrefix("by local_scan()") {
            stage = "END-OF-MESSAGE"
            kind = .contentReject
        } else if v.hasPrefix("DATA") {
            stage = "DATA"
        } else {
            let end = tokenEnd(v, 0)
            guard end > 0, isWord(v.prefix(end)) else { return .unparsed("exim: rejection") }
            stage = v.prefix(end).string
        }
        let reason: String
        if let c = v.firstIndex(of: ": ", from: i) {
            reason = shortened(v.dropFirst(c + 2))
        } else {
            reason = "rejected " + (stage == "END-OF-MESSAGE" ? "after DATA" : stage)
        }
        return .event(
            .rejection(
                EximRejection(
                    messageID: messageID, kind: kind, stage: stage, temporary: temporary, host: f.host,
                    login: f.login, sender: f.sender, recipient: recipient, reason: reason)))
    }

    /// `NAME authenticator failed for HOST: 535 Incorrect authentication data (set_id=LOGIN)`; `HOST` is
    /// `name (helo) [ip]:port`, or `H=… U=…` in newer releases.
    private static func authFailure(_ m: ByteSlice, nameEnd: Int) -> EximParseResult {
        let name = m.prefix(nameEnd)
        // Only the last word before ` authenticator failed` names it (`custom-message: testname …`).
        let nameStart = (0..<nameEnd).last { name[$0] == 0x20 }.map { $0 + 1 } ?? 0
        guard nameEnd > nameStart else { return .unparsed("exim: authenticator line") }
        var i = skipSpaces(m, nameEnd + 21)
        if m.hasPrefix("for ", at: i) { i = skipSpaces(m, i + 4) }
        guard i < m.count, !(m.count - i == 3 && m.hasPrefix("for", at: i)) else {
            return .unparsed("exim: authenticator line")
        }
        let colon = m.firstIndex(of: ": ", from: i)
        var f = SessionFields()
        if m.hasPrefix("H=", at: i) || m.hasPrefix("U=", at: i) {
            sessionFields(m, &i, end: colon ?? m.count, into: &f)
        } else if i < m.count {
            var j = i
            f.host = host(m.prefix(colon ?? m.count), &j)
            i = j
        }
        var reasonStart = colon.map { $0 + 2 } ?? i
        reasonStart = skipSpaces(m, reasonStart)
        while reasonStart < m.count, m[reasonStart] == UInt8(ascii: "[") {
            // A repeated `[ip]` (custom log formats).
            reasonStart = skipSpaces(m, tokenEnd(m, reasonStart))
        }
        var reason = m.dropFirst(reasonStart)
        var login: String? = nil
        if let s = reason.lastIndex(of: "(set_id=") {
            var e = reason.count
            if reason.hasSuffix(")") { e -= 1 }
            login = reason.slice(s + 8, max(s + 8, e)).string
            reason = reason.prefix(s).trimmed
        }
        return .event(
            .authFailure(
                EximAuthFailure(
                    authenticator: m.slice(nameStart, nameEnd).string, host: f.host, login: login,
                    reason: shortened(reason))))
    }

    // MARK: fields

    private static func startsWithSessionField(_ s: ByteSlice) -> Bool {
        guard s.count > 2 else { return false }
        if s[1] == UInt8(ascii: "=") {
            let c = s[0]
            return c == UInt8(ascii: "H") || c == UInt8(ascii: "U") || c == UInt8(ascii: "F")
                || c == UInt8(ascii: "I") || c == UInt8(ascii: "A") || c == UInt8(ascii: "P")
        }
        return s.hasPrefix("Ci=") || s.hasPrefix("X=")
    }

    /// `KEY=value` with a key of one to four letters or digits (`H`, `CV`, `M8S`, `id`, `Ci`, `PRDR`); the value
    /// keeps its quotes.
    @inline(__always) private static func field(_ t: ByteSlice) -> (ByteSlice, ByteSlice)? {
        var k = 0
        while k < t.count && k < 5, isAlnum(t[k]) { k += 1 }
        guard k > 0, k < 5, k < t.count, t[k] == UInt8(ascii: "=") else { return nil }
        return (t.prefix(k), t.dropFirst(k + 1))
    }

    /// The parts of an `H=` field, still as bytes.
    struct HostParts {
        var name: ByteSlice? = nil
        var helo: ByteSlice? = nil
        var ip: ByteSlice? = nil
        var port: ByteSlice? = nil

        /// The host's texts; its name, HELO name and address shared through `strings` (clients recur), its port
        /// made anew (a client's ports seldom do).
        func host(_ strings: StringCache?) -> EximHost {
            EximHost(
                name: name?.string(strings), helo: helo?.string(strings), ip: ip?.string(strings), port: port?.string)
        }

        /// `name[ip]:port`, made in one allocation, or shared through `strings` when there is one (assembled on the
        /// stack, allocated on a miss).
        func relay(_ strings: StringCache?) -> String {
            let n = (name?.count ?? 0) + (ip.map { $0.count + 2 } ?? 0) + (port.map { $0.count + 1 } ?? 0)
            guard let strings else {
                return String(unsafeUninitializedCapacity: n) { write(into: $0) }
            }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { out in
                let k = write(into: out)
                return strings.string(ByteSlice(UnsafeBufferPointer(rebasing: out[..<k])))
            }
        }

        private func write(into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var k = 0
            func put(_ b: ByteSlice) {
                UnsafeMutableRawPointer(out.baseAddress! + k).copyMemory(from: b.base, byteCount: b.count)
                k += b.count
            }
            if let name { put(name) }
            if let ip {
                out[k] = UInt8(ascii: "[")
                k += 1
                put(ip)
                out[k] = UInt8(ascii: "]")
                k += 1
            }
            if let port {
                out[k] = UInt8(ascii: ":")
                k += 1
                put(port)
            }
            return k
        }
    }

    /// Reads `name (helo) [ip]:port` from `i` (just after `H=`, or where a bare host starts); `i` ends after it.
    static func host(_ s: ByteSlice, _ i: inout Int, _ strings: StringCache? = nil) -> EximHost {
        hostParts(s, &i).host(strings)
    }

    static func hostParts(_ s: ByteSlice, _ i: inout Int) -> HostParts {
        var h = HostParts()
        var first = true
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "("), h.helo == nil, h.ip == nil {
                var j = i + 1
                // The HELO name ends at the `)` that ends its word.
                while j < s.count {
                    if s[j] == UInt8(ascii: ")") && (j + 1 == s.count || s[j + 1] == 0x20 || s[j + 1] == 0x3A) {
                        break
                    }
                    j += 1
                }
                h.helo = s.slice(i + 1, min(j, s.count))
                i = min(j + 1, s.count)
            } else if c == UInt8(ascii: "["), h.ip == nil {
                guard let close = s.firstIndex(of: UInt8(ascii: "]"), from: i) else {
                    i = s.count
                    break
                }
                h.ip = s.slice(i + 1, close)
                i = close + 1
                if i + 1 < s.count, s[i] == UInt8(ascii: ":"), s[i + 1] != 0x20 {
                    var j = i + 1
                    while j < s.count, s[j] != 0x20, s[j] != UInt8(ascii: ":") { j += 1 }
                    h.port = s.slice(i + 1, j)
                    i = j
                }
            } else if first && c != 0x20 {
                var end = tokenEnd(s, i)
                if s[end - 1] == UInt8(ascii: ":") { end -= 1 }
                if end > i { h.name = s.slice(i, end) }
                i = end
            } else {
                break
            }
            first = false
            // Another part follows after one space: `(helo)` or `[ip]`.
            if i + 1 < s.count, s[i] == 0x20, s[i + 1] == UInt8(ascii: "(") || s[i + 1] == UInt8(ascii: "[") {
                i += 1
            } else {
                break
            }
        }
        return h
    }

    /// `A=authenticator:id`; the id may be quoted, and `+smtp_mailauth` may append `:sender` after a quoted id.
    private static func authenticator(_ v: ByteSlice, _ strings: StringCache? = nil) -> (String?, String?) {
        guard !v.isEmpty else { return (nil, nil) }
        guard let colon = v.firstIndex(of: UInt8(ascii: ":")) else { return (v.string(strings), nil) }
        let name = v.prefix(colon).string(strings)
        var rest = v.dropFirst(colon + 1)
        if !rest.isEmpty, rest[0] == UInt8(ascii: "\"") {
            rest = rest.prefix(quotedEnd(rest, 0))
            return (name, String(decoding: unquotedBytes(rest), as: UTF8.self))
        }
        return (name, rest.isEmpty ? nil : rest.string(strings))
    }

    // MARK: tokens

    @inline(__always) static func skipSpaces(_ s: ByteSlice, _ i: Int) -> Int {
        var i = i
        while i < s.count && s[i] == 0x20 { i += 1 }
        return i
    }

    /// The end of the word at `i`: the next space outside double quotes (`T="a b"`, `A=x:"a b"`, `"a b"@x`).
    @inline(__always) static func tokenEnd(_ s: ByteSlice, _ i: Int) -> Int {
        var j = i
        while true {
            j = s.firstIndex(of: 0x20, UInt8(ascii: "\""), UInt8(ascii: "\""), from: j) ?? max(j, s.count)
            guard j < s.count, s[j] != 0x20 else { return j }
            j = quotedEnd(s, j)
        }
    }

    /// The index after the closing quote of the string opening at `i`, or the end when it never closes.
    @inline(__always) static func quotedEnd(_ s: ByteSlice, _ i: Int) -> Int {
        var j = i + 1
        while true {
            guard let k = s.firstIndex(of: UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "\""), from: j)
            else { return s.count }
            j = k
            if s[j] == UInt8(ascii: "\"") { return j + 1 }
            j += 2
        }
    }

    /// The end of an address at `i`: `<…>` or a bare word; a trailing `:` is not part of it.
    private static func addressEnd(_ s: ByteSlice, _ i: Int) -> Int {
        guard i < s.count else { return i }
        if s[i] == UInt8(ascii: "<") {
            return (s.firstIndex(of: UInt8(ascii: ">"), from: i) ?? s.count - 1) + 1
        }
        var end = tokenEnd(s, i)
        if end > i && s[end - 1] == UInt8(ascii: ":") { end -= 1 }
        return end
    }

    /// An address as stored: without angle brackets; `<>` is the empty string.
    @inline(__always) static func address(_ t: ByteSlice, _ strings: StringCache? = nil) -> String {
        angleStripped(t).string(strings)
    }

    @inline(__always) static func angleStripped(_ t: ByteSlice) -> ByteSlice {
        var t = t
        if t.count >= 2 && t[0] == UInt8(ascii: "<") && t[t.count - 1] == UInt8(ascii: ">") {
            t = t.slice(1, t.count - 1)
        } else if t.count >= 2 && t[0] == UInt8(ascii: "<") && t.hasSuffix(">:") {
            t = t.slice(1, t.count - 2)
        }
        return t
    }

    private static func words(_ s: ByteSlice) -> [ByteSlice] {
        var out: [ByteSlice] = []
        var i = skipSpaces(s, 0)
        while i < s.count {
            let end = tokenEnd(s, i)
            out.append(s.slice(i, end))
            i = skipSpaces(s, end)
        }
        return out
    }

    /// The value without surrounding double quotes and with `\"` and `\\` unescaped.
    static func unquoted(_ v: ByteSlice) -> String {
        String(decoding: unquotedBytes(v), as: UTF8.self)
    }

    static func unquotedBytes(_ v: ByteSlice) -> [UInt8] {
        var v = v
        if v.count >= 1 && v[0] == UInt8(ascii: "\"") {
            let end = v.count >= 2 && v[v.count - 1] == UInt8(ascii: "\"") ? v.count - 1 : v.count
            v = v.slice(1, end)
        }
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var i = 0
        while i < v.count {
            let c = v[i]
            if c == UInt8(ascii: "\\"), i + 1 < v.count, v[i + 1] == UInt8(ascii: "\"") || v[i + 1] == c {
                out.append(v[i + 1])
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// At most `maxTextBytes` bytes, cut at a character boundary.
    static func shortened(_ s: ByteSlice, _ strings: StringCache? = nil) -> String {
        var n = min(s.count, maxTextBytes)
        if n < s.count {
            while n > 0 && s[n] & 0xC0 == 0x80 { n -= 1 }
        }
        return s.prefix(n).string(strings)
    }

    static func shortened(_ bytes: [UInt8], _ strings: StringCache? = nil) -> String {
        bytes.withUnsafeBufferPointer { shortened(ByteSlice($0), strings) }
    }

    /// The first enhanced status code (RFC 3463: `class.subject.detail`, class 2, 4 or 5) in a reply; tried at each
    /// `.` in turn.
    static func enhancedStatus(_ b: ByteSlice) -> String? {
        let n = b.count
        var from = 1
        while let dot = b.firstIndex(of: 46, from: from) {
            let i = dot - 1
            guard i + 4 < n else { return nil }
            let c = b[i]
            if (c == 50 || c == 52 || c == 53) && (i == 0 || !isAlnum(b[i - 1]) && b[i - 1] != 46) {
                var j = i + 2
                let s1 = j
                while j < n && isDigit(b[j]) && j - s1 < 3 { j += 1 }
                if j > s1 && j < n && b[j] == 46 {
                    j += 1
                    let s2 = j
                    while j < n && isDigit(b[j]) && j - s2 < 3 { j += 1 }
                    if j > s2 && (j == n || (!isDigit(b[j]) && b[j] != 46)) {
                        return b.slice(i, j).string
                    }
                }
            }
            from = dot + 1
        }
        return nil
    }

    // MARK: bytes

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool {
        c &- 48 < 10 || c &- 65 < 26 || c &- 97 < 26
    }

    @inline(__always) private static func isHeaderNameByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
    }

    /// Letters, digits, `_`, `-` and `.` only.
    private static func isWord(_ s: ByteSlice) -> Bool {
        guard !s.isEmpty else { return false }
        for k in 0..<s.count {
            let c = s[k]
            guard isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") else {
                return false
            }
        }
        return true
    }
}
