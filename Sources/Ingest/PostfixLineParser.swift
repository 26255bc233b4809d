import Store

/// The outcome of parsing one Postfix line.
package enum PostfixParseResult: Sendable, Equatable {
    case event(PostfixEvent)
    /// Understood, and nothing relaysum stores (connect/disconnect, TLS, statistics, warnings, …).
    case skipped
    /// Not understood; the kind names the daemon and shape, e.g. `postfix/smtpd: unknown message`.
    case unparsed(String)
}

/// Parses the text of one Postfix log line (what follows `postfix/<daemon>[pid]: `) into a `PostfixEvent`.
///
/// Pure and byte-level: no regular expressions, `String`s only for the fields that are kept.
///
///     postfix/smtpd[123]: 4Nm2Lq0Bt7z9vKp: client=mail.shop1.example[192.0.2.7], sasl_method=PLAIN, sasl_username=alice
///     postfix/qmgr[99]: 4Nm2Lq0Bt7z9vKp: from=<alice@shop1.example>, size=2345, nrcpt=1 (queue active)
///     postfix/smtp[321]: 4Nm2Lq0Bt7z9vKp: to=<bob@dest.example>, relay=mx.dest.example[203.0.113.9]:25, delay=1.2,
///         delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Nm2M…)
package enum PostfixLineParser {
    /// Daemons whose every line is operational noise for relaysum (their rejects, if any, are handled first).
    /// Compared as bytes: making a `String` of the daemon to look it up in a set cost more than the whole list.
    private static func isQuietDaemon(_ daemon: ByteSlice) -> Bool {
        // By length first: `smtp`, `smtpd`, `qmgr` and `cleanup` lines then compare against a few names at most, each
        // literal in place (an array of them was built and walked for every line).
        let d = daemon
        switch daemon.count {
        case 5: return d.equals("anvil") || d.equals("flush") || d.equals("showq") || d.equals("spawn")
        case 6:
            return d.equals("scache") || d.equals("master") || d.equals("tlsmgr") || d.equals("verify")
                || d.equals("script")
        case 7: return d.equals("dnsblog") || d.equals("postmap") || d.equals("postlog") || d.equals("postfix")
        case 8:
            return d.equals("proxymap") || d.equals("postdrop") || d.equals("sendmail") || d.equals("tlsproxy")
                || d.equals("postlogd") || d.equals("postconf") || d.equals("postkick") || d.equals("postlock")
        case 9: return d.equals("postqueue") || d.equals("postalias")
        case 10: return d.equals("postscreen") || d.equals("policy-spf")
        case 11: return d.equals("oqmgr-stats") || d.equals("policyd-spf")
        case 14: return d.equals("postfix-script")
        case 15: return d.equals("trivial-rewrite")
        default: return false
        }
    }

    /// Parses `message` logged by `daemon` (the last component of the syslog tag: `smtpd`, `qmgr`, …).
    ///
    /// `strings` shares the texts that recur from line to line (relays, addresses, senders, replies).
    @inline(__always) package static func parse(
        daemon: ByteSlice, message m: ByteSlice, strings: StringCache? = nil
    ) -> PostfixParseResult {
        // Each prefix below is compared only when the first byte could start it: most lines start with a queue ID.
        switch m.isEmpty ? 0 : m[0] {
        case UInt8(ascii: "w"):
            // Severity prefixes: only SASL failures matter among warnings.
            if m.hasPrefix("warning: ") {
                if let auth = authFailure(m.dropFirst(9)) { return .event(auth) }
                return .skipped
            }
        case UInt8(ascii: "e"), UInt8(ascii: "f"), UInt8(ascii: "p"), UInt8(ascii: "i"), UInt8(ascii: "s"),
            UInt8(ascii: "d"), UInt8(ascii: "r"):
            if m.hasPrefix("error: ") || m.hasPrefix("fatal: ") || m.hasPrefix("panic: ") || m.hasPrefix("info: ")
                || m.hasPrefix("statistics: ") || m.hasPrefix("daemon started")
                || m.hasPrefix("refreshing the Postfix")
            {
                return .skipped
            }
        default:
            break
        }
        if !m.isEmpty, m[0] == UInt8(ascii: "N"), m.hasPrefix("NOQUEUE: ") {
            let rest = m.dropFirst(9)
            if let r = reject(rest, queueID: nil) { return .event(.reject(r)) }
            return rest.hasPrefix("lost connection") || rest.hasPrefix("filter: ") || rest.hasPrefix("hold: ")
                || rest.hasPrefix("redirect: ") || rest.hasPrefix("warning: ") || rest.hasPrefix("client=")
                ? .skipped : .unparsed("postfix/\(daemon.string): NOQUEUE message")
        }
        guard let (qid, rest) = queueIDPrefix(m) else {
            return withoutQueueID(daemon: daemon, message: m)
        }
        return withQueueID(daemon: daemon, queueID: qid, rest, strings)
    }

    // MARK: lines with a queue ID

    private static func withQueueID(
        daemon: ByteSlice, queueID: PostfixQueueID, _ m: ByteSlice, _ strings: StringCache?
    ) -> PostfixParseResult {
        if m.hasPrefix("to=") {
            guard let d = delivery(m, strings) else {
                return .unparsed("postfix/\(daemon.string): malformed delivery status")
            }
            return .event(.delivery(queueID: queueID, status: d))
        }
        if m.equals("removed") { return .event(.removed(queueID: queueID)) }
        if m.hasPrefix("from=") { return queued(m, queueID: queueID, daemon: daemon, strings) }
        if m.hasPrefix("client=") {
            guard let c = client(m.dropFirst(7), strings) else {
                return .unparsed("postfix/\(daemon.string): malformed client")
            }
            return .event(.client(queueID: queueID, client: c))
        }
        if m.hasPrefix("message-id=") {
            var v = m.dropFirst(11).trimmed
            if v.count >= 2 && v[0] == UInt8(ascii: "<") && v[v.count - 1] == UInt8(ascii: ">") {
                v = v.slice(1, v.count - 1)
            }
            return .event(.messageID(queueID: queueID, messageID: v.string))
        }
        if m.hasPrefix("uid=") {
            // `uid=33 from=<www-data>`
            guard let sp = m.firstIndex(of: 0x20), m.hasPrefix("from=", at: sp + 1) else {
                return .unparsed("postfix/\(daemon.string): malformed pickup")
            }
            let uid = m.slice(4, sp).string
            var rest = m.dropFirst(sp + 6).trimmed
            var original: String? = nil
            if let o = rest.lastIndex(of: " orig_id=") {
                original = rest.dropFirst(o + 9).trimmed.string
                rest = rest.prefix(o)
            }
            let sender = unbracket(rest).string
            return .event(.pickup(queueID: queueID, uid: uid, sender: sender, originalQueueID: original))
        }
        if let r = reject(m, queueID: queueID) { return .event(.reject(r)) }
        if let idx = m.firstIndex(of: " notification: "), m.lastIndex(of: "notification: ") == idx + 1 {
            // `sender non-delivery notification: NEWQID`, `sender delay notification: …`,
            // `postmaster non-delivery notification: …`, `sender delivery status notification: …`
            let newID = m.dropFirst(idx + 15).trimmed
            guard isQueueID(newID) else { return .unparsed("postfix/\(daemon.string): malformed notification") }
            return .event(.notification(queueID: queueID, newQueueID: newID.string))
        }
        for prefix: StaticString in [
            "host ", "lost connection", "conversation with", "enabling PIX", "SASL authentication failed",
            "skipped, still being delivered", "warning: ", "info: ", "prepend: ", "replace: ", "redirect: ",
            "filter: ", "hold: ", "placed on hold", "released from hold", "requeued", "resent-message-id=",
            "Cannot start TLS", "TLS is required", "milter-", "discard: ", "delivery temporarily suspended",
            "sender_canonical", "enabling", "breaking line", "recipient limit", "skipped", "message-id=",
        ] where m.hasPrefix(prefix) {
            return .skipped
        }
        return .unparsed("postfix/\(daemon.string): unknown queue-ID message")
    }

    /// `from=<s>, size=N, nrcpt=N (queue active)` or `from=<s>, status=expired, returned to sender`.
    private static func queued(
        _ m: ByteSlice, queueID: PostfixQueueID, daemon: ByteSlice, _ strings: StringCache?
    ) -> PostfixParseResult {
        // One scan for `, status=` (most lines have none) rather than one for each status that follows it.
        var search = 0
        while let at = m.firstIndex(of: ", status=", from: search) {
            if m.hasPrefix("expired", at: at + 9) || m.hasPrefix("force-expired", at: at + 9) {
                let end = m.lastIndex(of: ", status=") ?? m.count
                return .event(.expired(queueID: queueID, sender: unbracket(m.slice(5, end)).string))
            }
            search = at + 1
        }
        guard let sizeAt = m.lastIndex(of: ", size=") else {
            return .unparsed("postfix/\(daemon.string): malformed from= line")
        }
        let sender = unbracket(m.slice(5, sizeAt)).string(strings)
        var size: Int64? = nil
        var nrcpt: Int? = nil
        var i = sizeAt + 7
        var j = i
        while j < m.count && m[j] &- 48 < 10 { j += 1 }
        size = m.slice(i, j).decimal
        if m.hasPrefix(", nrcpt=", at: j) {
            i = j + 8
            j = i
            while j < m.count && m[j] &- 48 < 10 { j += 1 }
            nrcpt = m.slice(i, j).decimal.map { Int(clamping: $0) }
        }
        return .event(.queued(queueID: queueID, sender: sender, size: size, nrcpt: nrcpt))
    }

    /// `name[ip]:port, sasl_method=PLAIN, sasl_username=alice, orig_queue_id=…, orig_client=…`
    private static func client(_ m: ByteSlice, _ strings: StringCache?) -> PostfixClient? {
        guard let (name, ip, end) = hostAndAddress(m, strings) else { return nil }
        var c = PostfixClient(name: name, ip: ip)
        var rest = m.dropFirst(end)
        // An optional `:port`.
        if rest.hasPrefix(":") {
            var k = 1
            while k < rest.count && rest[k] &- 48 < 10 { k += 1 }
            rest = rest.dropFirst(k)
        }
        // `, key=value` pairs; a value runs to the next `, ` that starts a known key.
        while rest.hasPrefix(", ") {
            rest = rest.dropFirst(2)
            guard let eq = rest.firstIndex(of: UInt8(ascii: "=")) else { break }
            let key = rest.slice(0, eq)
            var end = rest.count
            var from = eq + 1
            while let comma = rest.firstIndex(of: ", ", from: from) {
                if startsKnownClientKey(rest.dropFirst(comma + 2)) {
                    end = comma
                    break
                }
                from = comma + 1
            }
            let value = rest.slice(eq + 1, end)
            if key.equals("sasl_method") {
                c.saslMethod = value.string(strings)
            } else if key.equals("sasl_username") {
                c.saslUsername = value.string(strings)
            } else if key.equals("orig_queue_id") {
                c.originalQueueID = value.string
            }
            rest = rest.dropFirst(end)
        }
        return c
    }

    private static func startsKnownClientKey(_ s: ByteSlice) -> Bool {
        s.hasPrefix("sasl_method=") || s.hasPrefix("sasl_username=") || s.hasPrefix("sasl_sender=")
            || s.hasPrefix("orig_queue_id=") || s.hasPrefix("orig_client=")
    }

    /// `to=<a>, orig_to=<b>, relay=r, conn_use=2, delay=1.2, delays=…, dsn=2.0.0, status=sent (reply)`
    private static func delivery(_ m: ByteSlice, _ strings: StringCache?) -> PostfixDelivery? {
        guard let (to, afterTo) = addressValue(m, from: 3, strings) else { return nil }
        // Fields gathered in locals and the delivery made at the end: built up in place, the struct was copied
        // (with a retain and a release of each of its strings) on its way out.
        var origTo: String? = nil
        var relay: String? = nil
        var dsn: String? = nil
        var status = PostfixDelivery.Status.sent
        var replyText: String? = nil
        var handoffQueueID: String? = nil
        var blockedByFilter = false
        var i = afterTo
        var sawStatus = false
        var relayField: ByteSlice? = nil
        while i < m.count {
            guard m.hasPrefix(", ", at: i) else { return nil }
            i += 2
            if m.hasPrefix("orig_to=", at: i) {
                guard let (o, next) = addressValue(m, from: i + 8, strings) else { return nil }
                origTo = o
                i = next
                continue
            }
            if m.hasPrefix("status=", at: i) {
                let start = i + 7
                var e = start
                while e < m.count && m[e] != 0x20 && m[e] != UInt8(ascii: ",") { e += 1 }
                guard let s = PostfixDelivery.Status(m.slice(start, e)) else { return nil }
                status = s
                if m.hasPrefix(" (", at: e) {
                    var close = m.count
                    if m[m.count - 1] == UInt8(ascii: ")") { close = m.count - 1 }
                    let reply = m.slice(e + 2, close)
                    // The reply of a successful delivery tells an operator nothing they need (`250 2.0.0 Ok: queued
                    // as …`) and is most of the bytes: it is kept for failures, and for local forwards.
                    if s == .sent, let relay = relayField, isLoopback(relay) {
                        handoffQueueID = handoff(reply: reply)
                        blockedByFilter =
                            handoffQueueID == nil
                            && (reply.firstIndex(of: ", discarded") != nil || reply.firstIndex(of: " BOUNCE") != nil)
                    }
                    if s != .sent || blockedByFilter || reply.hasPrefix("forwarded as ") {
                        replyText = shortened(reply, strings)
                    }
                } else if e < m.count {
                    // `status=expired, returned to sender` and similar trailers.
                    replyText = shortened(m.dropFirst(e).trimmed, strings)
                }
                sawStatus = true
                break
            }
            let e = m.firstIndex(of: ", ", from: i) ?? m.count
            let field = m.slice(i, e)
            if field.hasPrefix("relay=") {
                relay = field.dropFirst(6).string(strings)
                relayField = field.dropFirst(6)
            } else if field.hasPrefix("dsn=") {
                dsn = field.dropFirst(4).string(strings)
            }
            i = e
        }
        guard sawStatus else { return nil }
        return PostfixDelivery(
            to: to, origTo: origTo, relay: relay, dsn: dsn, status: status, reply: replyText,
            handoffQueueID: handoffQueueID, blockedByFilter: blockedByFilter)
    }

    /// `relay=name[127.x.x.x]:port` or `[::1]`: a content filter on this machine.
    private static func isLoopback(_ relay: ByteSlice) -> Bool {
        guard let open = relay.firstIndex(of: UInt8(ascii: "[")) else { return false }
        return relay.hasPrefix("127.", at: open + 1) || relay.hasPrefix("::1]", at: open + 1)
            || relay.hasPrefix("ipv6:::1]", at: open + 1)
    }

    /// The re-injected queue ID when a filter's reply ends in `queued as NEWQID`.
    private static func handoff(reply: ByteSlice) -> String? {
        guard let q = reply.lastIndex(of: "queued as ") else { return nil }
        var e = q + 10
        while e < reply.count, reply[e] &- 48 < 10 || ((reply[e] | 0x20) >= 0x61 && (reply[e] | 0x20) <= 0x7A) {
            e += 1
        }
        return e - (q + 10) >= 5 ? reply.slice(q + 10, e).string : nil
    }

    // MARK: rejects

    /// `reject: RCPT from name[ip]: 554 5.7.1 <r>: Relay access denied; from=<s> to=<r> proto=ESMTP helo=<h>`
    /// and `milter-reject:`, `discard:`, `proxy-reject:`; cleanup's `reject: header Subject: … from name[ip]; …`.
    private static func reject(_ m: ByteSlice, queueID: PostfixQueueID?) -> PostfixReject? {
        let kind: RejectKind
        var rest: ByteSlice
        if m.hasPrefix("reject: ") {
            kind = .reject
            rest = m.dropFirst(8)
        } else if m.hasPrefix("milter-reject: ") {
            kind = .contentReject
            rest = m.dropFirst(15)
        } else if m.hasPrefix("proxy-reject: ") {
            kind = .contentReject
            rest = m.dropFirst(14)
        } else if m.hasPrefix("discard: ") {
            kind = .discard
            rest = m.dropFirst(9)
        } else if m.hasPrefix("milter-discard: ") {
            kind = .discard
            rest = m.dropFirst(16)
        } else {
            return nil
        }
        var r = PostfixReject(
            queueID: queueID?.string, kind: kind, stage: nil, clientName: nil, clientIP: nil, code: nil, dsn: nil,
            reason: "", sender: nil, recipient: nil, helo: nil, dropsMessage: false)
        // The trailing `; from=<…> to=<…> proto=… helo=<…>` (searched from the end: the reason is free text).
        var checkReply: ByteSlice? = nil
        if let semi = rest.lastIndex(of: "; from=<") ?? rest.lastIndex(of: "; to=<") ?? rest.lastIndex(of: "; proto=") {
            let kv = rest.dropFirst(semi + 2)
            r.sender = keyedAddress(kv, "from=<")
            r.recipient = keyedAddress(kv, "to=<")
            r.helo = keyedAddress(kv, "helo=<")
            // header/body checks append their reply after the helo: `helo=<h>: 5.7.1 message content rejected`.
            if let h = kv.firstIndex(of: "helo=<"), let end = kv.firstIndex(of: ">: ", from: h) {
                checkReply = kv.dropFirst(end + 3)
            }
            rest = rest.prefix(semi)
        }
        // `header Subject: … from name[ip]` / `body …` (cleanup header_checks and body_checks).
        if rest.hasPrefix("header ") || rest.hasPrefix("body ") {
            r.kind = kind == .reject ? .checkReject : kind
            r.stage = rest.hasPrefix("header ") ? "HEADER" : "BODY"
            var what = rest
            if let f = rest.lastIndex(of: " from "), let (name, ip, _) = hostAndAddress(rest.dropFirst(f + 6)) {
                r.clientName = name
                r.clientIP = ip
                what = rest.prefix(f)
            }
            if var reply = checkReply {
                if reply.count > 6, reply[0] &- 48 < 10, reply[1] == UInt8(ascii: "."),
                    let sp = reply.firstIndex(of: 0x20)
                {
                    r.dsn = reply.prefix(sp).string
                    reply = reply.dropFirst(sp + 1)
                }
                r.reason = shortened(reply) + " (" + shortened(what) + ")"
            } else {
                r.reason = shortened(what)
            }
            // A check's own text may follow the kv part: `…helo=<h>: 5.7.1 message content rejected`.
            r.dropsMessage = true
            return r
        }
        // `STAGE from name[ip]:port: reply` (postscreen writes `[ip]:port`).
        guard let sp = rest.firstIndex(of: 0x20) else {
            r.reason = shortened(rest)
            return r
        }
        r.stage = rest.slice(0, sp).string
        rest = rest.dropFirst(sp + 1)
        if rest.hasPrefix("from ") {
            rest = rest.dropFirst(5)
            if let (name, ip, end) = hostAndAddress(rest) {
                r.clientName = name.isEmpty ? nil : name
                r.clientIP = ip
                rest = rest.dropFirst(end)
                if rest.hasPrefix(":") && rest.count > 1 && rest[1] &- 48 < 10 {
                    var k = 1
                    while k < rest.count && rest[k] &- 48 < 10 { k += 1 }
                    rest = rest.dropFirst(k)
                }
            }
            if rest.hasPrefix(": ") { rest = rest.dropFirst(2) }
        }
        // `550 5.7.1 text`
        if rest.count >= 4 && rest[0] &- 48 < 10 && rest[1] &- 48 < 10 && rest[2] &- 48 < 10 && rest[3] == 0x20 {
            r.code = rest.prefix(3).string
            rest = rest.dropFirst(4)
            if let sp2 = rest.firstIndex(of: 0x20), sp2 >= 5, rest[1] == UInt8(ascii: "."), rest[0] &- 48 < 10 {
                r.dsn = rest.prefix(sp2).string
                rest = rest.dropFirst(sp2 + 1)
            }
        }
        // Cleanup's milter replies carry the enhanced status without the SMTP code: `5.7.1 text`.
        if r.dsn == nil, rest.count >= 6, rest[0] &- 48 < 10, rest[1] == UInt8(ascii: "."),
            let sp3 = rest.firstIndex(of: 0x20), sp3 <= 9
        {
            r.dsn = rest.prefix(sp3).string
            rest = rest.dropFirst(sp3 + 1)
        }
        r.reason = shortened(rest)
        if queueID != nil && (r.stage == "END-OF-MESSAGE" || r.stage == "DATA" || kind == .discard) {
            r.dropsMessage = true
        }
        return r
    }

    /// `unknown[203.0.113.5]: SASL LOGIN authentication failed: authentication failure, sasl_username=bob`
    private static func authFailure(_ m: ByteSlice) -> PostfixEvent? {
        guard let (name, ip, end) = hostAndAddress(m), m.hasPrefix(": SASL ", at: end) else { return nil }
        let rest = m.dropFirst(end + 7)
        guard let failed = rest.firstIndex(of: " authentication failed") else { return nil }
        let mechanism = rest.prefix(failed).string
        var reason = rest.dropFirst(failed + 22)
        if reason.hasPrefix(":") { reason = reason.dropFirst(1) }
        reason = reason.trimmed
        var login: String? = nil
        if let u = reason.lastIndex(of: "sasl_username=") {
            login = reason.dropFirst(u + 14).trimmed.string
            var cut = u
            while cut > 0 && (reason[cut - 1] == 0x20 || reason[cut - 1] == UInt8(ascii: ",")) { cut -= 1 }
            reason = reason.prefix(cut)
        }
        return .authFailure(
            clientName: name, clientIP: ip, mechanism: mechanism.isEmpty ? nil : mechanism,
            reason: shortened(reason), login: login)
    }

    // MARK: lines without a queue ID

    private static func withoutQueueID(daemon: ByteSlice, message m: ByteSlice) -> PostfixParseResult {
        if isQuietDaemon(daemon) { return .skipped }
        // Only the prefixes that start with the message's first byte are compared (most lines match the first), each
        // against its literal in place: an array of them was built and walked for every line.
        let known: Bool
        switch m.isEmpty ? 0 : m[0] {
        case UInt8(ascii: "A"): known = m.hasPrefix("Anonymous TLS")
        case UInt8(ascii: "P"): known = m.hasPrefix("Peer ")
        case UInt8(ascii: "R"): known = m.hasPrefix("Reject")
        case UInt8(ascii: "S"):
            known =
                m.hasPrefix("SSL_accept error") || m.hasPrefix("SSL_connect error") || m.hasPrefix("SMTPUTF8")
                || m.hasPrefix("SASL authentication failed")
        case UInt8(ascii: "T"): known = m.hasPrefix("Trusted TLS") || m.hasPrefix("TLS SNI")
        case UInt8(ascii: "U"): known = m.hasPrefix("Untrusted TLS") || m.hasPrefix("Untrusted")
        case UInt8(ascii: "V"): known = m.hasPrefix("Verified TLS")
        case UInt8(ascii: "X"): known = m.hasPrefix("XCLIENT")
        case UInt8(ascii: "c"):
            known =
                m.hasPrefix("connect from") || m.hasPrefix("connect to ") || m.hasPrefix("certificate verification")
                || m.hasPrefix("client certificate") || m.hasPrefix("cannot") || m.hasPrefix("close ")
        case UInt8(ascii: "d"):
            known = m.hasPrefix("disconnect from") || m.hasPrefix("dict_") || m.hasPrefix("discarding EHLO")
        case UInt8(ascii: "e"): known = m.hasPrefix("ehlo ")
        case UInt8(ascii: "h"): known = m.hasPrefix("host ")
        case UInt8(ascii: "i"):
            known =
                m.hasPrefix("improper command pipelining") || m.hasPrefix("initializing") || m.hasPrefix("ignoring")
        case UInt8(ascii: "l"): known = m.hasPrefix("lost connection") || m.hasPrefix("last message repeated")
        case UInt8(ascii: "m"): known = m.hasPrefix("mail_queue_enter") || m.hasPrefix("message repeated")
        case UInt8(ascii: "n"): known = m.hasPrefix("network_biff")
        case UInt8(ascii: "o"): known = m.hasPrefix("open ")
        case UInt8(ascii: "p"): known = m.hasPrefix("proxy")
        case UInt8(ascii: "r"): known = m.hasPrefix("reject: ")
        case UInt8(ascii: "s"):
            known =
                m.hasPrefix("setting up TLS") || m.hasPrefix("starting") || m.hasPrefix("server certificate")
                || m.hasPrefix("sender non-delivery")
        case UInt8(ascii: "t"):
            known =
                m.hasPrefix("timeout after") || m.hasPrefix("too many errors") || m.hasPrefix("table ")
                || m.hasPrefix("tls_")
        case UInt8(ascii: "u"): known = m.hasPrefix("unknown") || m.hasPrefix("using ")
        case UInt8(ascii: "x"): known = m.hasPrefix("xforward")
        default: known = false
        }
        if known { return .skipped }
        // Postfix logs every mail transaction under a queue ID (or NOQUEUE); a line without one that names no
        // address is a diagnostic (verbose `-v` output, process notes). One that does name an address has a queue
        // ID this parser did not recognise.
        if m.firstIndex(of: "to=<") == nil && m.firstIndex(of: "from=<") == nil && m.firstIndex(of: "client=") == nil {
            return .skipped
        }
        return .unparsed("postfix/\(daemon.string): unknown message")
    }

    // MARK: pieces

    /// A queue ID followed by `: `: short (upper-case hex) or long (`enable_long_queue_ids`: base-52 digits without
    /// vowels, so English words such as `statistics:` never match).
    private static func queueIDPrefix(_ m: ByteSlice) -> (PostfixQueueID, ByteSlice)? {
        guard let colon = m.firstIndex(of: UInt8(ascii: ":")), colon >= 5, colon <= 24,
            colon + 1 < m.count, m[colon + 1] == 0x20
        else { return nil }
        let id = m.prefix(colon)
        guard isQueueID(id) else { return nil }
        return (PostfixQueueID(id), m.dropFirst(colon + 2))
    }

    package static func isQueueID(_ id: ByteSlice) -> Bool {
        guard id.count >= 5, id.count <= 24 else { return false }
        if id.count >= 8, let answer = isQueueIDByWords(id) { return answer }
        // The classes of every byte or'ed together, and the digits counted: one table load per byte.
        var seen: UInt8 = 0
        var digits = 0
        let table = queueIDClasses
        for i in 0..<id.count {
            let k = table[Int(id[i])]
            seen |= k
            digits &+= Int(k & QueueIDClass.digit)
        }
        guard seen & QueueIDClass.other == 0 else { return false }
        // Short IDs are upper-case hex; long IDs (10+ characters) mix digits and letters, normally without vowels.
        return seen & QueueIDClass.notHex == 0 || (id.count >= 10 && (seen & QueueIDClass.vowel == 0 || digits > 0))
    }

    /// `isQueueID` for 8 bytes or more, eight bytes at a time (the last word overlapping the one before): the same
    /// classes as the table's, as masks of the bytes' top bits (`ByteSlice.alnumBytes`). nil when the answer turns
    /// on vowels (10 or more letters without a digit, not all hex), which the table then settles.
    private static func isQueueIDByWords(_ id: ByteSlice) -> Bool? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawPointer(id.base)
        var alnum = high
        var hex = high
        var digits: UInt64 = 0
        var i = 0
        while true {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: min(i, id.count - 8), as: UInt64.self))
            let x = w & ~high
            let digit = (x &+ 0x50 &* ones) & ~(x &+ 0x46 &* ones) & high & ~w
            // `A`–`F`: from 0x41 (x + 0x3F) up to 0x46 (x + 0x39).
            let upperHex = (x &+ 0x3F &* ones) & ~(x &+ 0x39 &* ones) & high & ~w
            alnum &= ByteSlice.alnumBytes(w)
            hex &= digit | upperHex
            digits |= digit
            i += 8
            if i >= id.count { break }
        }
        guard alnum == high else { return false }
        if hex == high { return true }
        guard id.count >= 10 else { return false }
        return digits != 0 ? true : nil
    }

    /// Bits of `queueIDClasses`.
    private enum QueueIDClass {
        static let digit: UInt8 = 1
        /// Neither a digit nor `A`–`F`.
        static let notHex: UInt8 = 2
        static let vowel: UInt8 = 4
        /// Neither a digit nor an ASCII letter.
        static let other: UInt8 = 8
    }

    /// The `QueueIDClass` bits of each byte value.
    nonisolated(unsafe) private static let queueIDClasses: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for c in 0..<256 {
            let b = UInt8(c)
            let l = b | 0x20
            var k: UInt8 = 0
            if b &- 48 < 10 {
                k = QueueIDClass.digit
            } else if l >= UInt8(ascii: "a") && l <= UInt8(ascii: "z") {
                if !(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F")) { k |= QueueIDClass.notHex }
                if "aeiou".utf8.contains(l) { k |= QueueIDClass.vowel }
            } else {
                k = QueueIDClass.other | QueueIDClass.notHex
            }
            table[c] = k
        }
        return UnsafePointer(table)
    }()

    /// `name[address]` at the start of `m`: the name, the address, and the index after `]`.
    private static func hostAndAddress(_ m: ByteSlice, _ strings: StringCache? = nil) -> (String, String, Int)? {
        guard let open = m.firstIndex(of: UInt8(ascii: "[")),
            let close = m.firstIndex(of: UInt8(ascii: "]"), from: open)
        else { return nil }
        // The name must not contain spaces (it would then be free text, not a host).
        if let sp = m.firstIndex(of: 0x20), sp < open { return nil }
        return (m.prefix(open).string(strings), m.slice(open + 1, close).string(strings), close + 1)
    }

    /// An address value starting at `from`: `<a@b>` (up to the `>` followed by `,`, space or the end)
    /// or a bare `a@b` up to the next `,`. Returns the address and the index after it.
    private static func addressValue(_ m: ByteSlice, from: Int, _ strings: StringCache?) -> (String, Int)? {
        guard from <= m.count else { return nil }
        if from < m.count && m[from] == UInt8(ascii: "<") {
            var search = from + 1
            while let close = m.firstIndex(of: UInt8(ascii: ">"), from: search) {
                if close + 1 == m.count || m[close + 1] == UInt8(ascii: ",") || m[close + 1] == 0x20 {
                    return (m.slice(from + 1, close).string(strings), close + 1)
                }
                search = close + 1
            }
            return nil
        }
        let end = m.firstIndex(of: UInt8(ascii: ","), from: from) ?? m.count
        return (m.slice(from, end).string(strings), end)
    }

    /// The address after `key` (which ends in `<`) inside `from=<…> to=<…> proto=… helo=<…>`.
    private static func keyedAddress(_ kv: ByteSlice, _ key: StaticString) -> String? {
        var search = 0
        while let at = kv.firstIndex(of: key, from: search) {
            // The key must start the text or follow a space (`to=<` also occurs inside `orig_to=<`).
            if at == 0 || kv[at - 1] == 0x20 || kv[at - 1] == UInt8(ascii: ",") {
                let start = at + key.utf8CodeUnitCount
                var close = kv.firstIndex(of: UInt8(ascii: ">"), from: start) ?? kv.count
                // An address may contain `>`; the value ends at a `>` before a space, `,`, `:` or the end.
                while close + 1 < kv.count, ![0x20, UInt8(ascii: ","), UInt8(ascii: ":")].contains(kv[close + 1]),
                    let next = kv.firstIndex(of: UInt8(ascii: ">"), from: close + 1)
                {
                    close = next
                }
                return kv.slice(start, close).string
            }
            search = at + 1
        }
        return nil
    }

    /// `<a@b>` → `a@b`; anything else unchanged.
    private static func unbracket(_ s: ByteSlice) -> ByteSlice {
        if s.count >= 2 && s[0] == UInt8(ascii: "<") && s[s.count - 1] == UInt8(ascii: ">") {
            return s.slice(1, s.count - 1)
        }
        return s
    }

    /// Reply and reason texts are kept to 512 bytes (cut at a UTF-8 boundary).
    private static func shortened(_ s: ByteSlice, _ strings: StringCache? = nil) -> String {
        guard s.count > 512 else { return s.string(strings) }
        var n = 512
        while n > 0 && s[n] & 0xC0 == 0x80 { n -= 1 }
        return s.prefix(n).string(strings)
    }
}
