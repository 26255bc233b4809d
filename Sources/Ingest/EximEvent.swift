import Store

/// An Exim message ID: `1jmFYj-00039V-QX` (Exim ≤ 4.96) or `1jmFYj-000000039V-QXab` (4.97 and later), held in
/// three machine words so that looking one up costs no allocation.
package struct EximMessageID: Hashable, Sendable, Codable, CustomStringConvertible {
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0

    /// Reads an ID filling all of `s`; nil unless it has the old (6-6-2) or new (6-11-4) shape of base-62 digits.
    package init?(_ s: ByteSlice) {
        let n = s.count
        guard n == 16 || n == 23, s[6] == UInt8(ascii: "-"), s[n - (n == 16 ? 3 : 5)] == UInt8(ascii: "-") else {
            return nil
        }
        // Little-endian words of the bytes, zero-padded: `description` reads them back.
        let raw = UnsafeRawPointer(s.base)
        let a = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        let b = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        // Every byte but the dashes a base-62 digit, eight at a time: the dashes are byte 6 of the first word and,
        // in the old shape, byte 5 of the second (13); in the new shape the second word has none and the last
        // (bytes 15–22) has one at byte 3 (18).
        let high: UInt64 = 0x8080_8080_8080_8080
        if n == 16 {
            guard ByteSlice.alnumBytes(a) | 0x0080_0000_0000_0000 == high,
                ByteSlice.alnumBytes(b) | 0x0000_8000_0000_0000 == high
            else { return nil }
            w0 = a
            w1 = b
        } else {
            let c = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 15, as: UInt64.self))
            guard ByteSlice.alnumBytes(a) | 0x0080_0000_0000_0000 == high, ByteSlice.alnumBytes(b) == high,
                ByteSlice.alnumBytes(c) | 0x0000_0000_8000_0000 == high
            else { return nil }
            w0 = a
            w1 = b
            w2 = c >> 8
        }
    }

    package init?(_ text: String) {
        guard let id = ByteSlice.with(text, { EximMessageID($0) }) else { return nil }
        self = id
    }

    package var description: String {
        let n = w2 == 0 ? 16 : 23
        return withUnsafeBytes(of: (w0.littleEndian, w1.littleEndian, w2.littleEndian)) { bytes in
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<n]), as: UTF8.self)
        }
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.w0 == b.w0 && a.w1 == b.w1 && a.w2 == b.w2
    }

    /// One word mixed from the three: the hasher then runs once instead of three times.
    package var hashWord: UInt64 {
        w0 &* 0x9E37_79B9_7F4A_7C15 ^ w1 &* 0xC2B2_AE3D_27D4_EB4F ^ w2
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(hashWord)
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = EximMessageID(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not an Exim message ID"))
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

// The events below have no initializers of their own: with one (`self.x = x` for each field), the optimizer made
// each event by copying the finished value (a retain of each string) and destroying the original (a release of
// each), 350 instructions per delivery line; the memberwise initializers move the fields in.

/// The client as Exim's `H=` field shows it: `H=name (helo) [ip]:port`, any part may be missing.
package struct EximHost: Sendable, Equatable {
    /// The verified host name (`H=mx.example.net …`); nil when only the HELO name is shown (`H=(helo) [ip]`).
    package var name: String?
    package var helo: String?
    package var ip: String?
    package var port: String?
}

/// A `<=` line (or `(=`, an accepted message the client was told was rejected by `control = fakereject`).
package struct EximArrival: Sendable, Equatable {
    package var messageID: EximMessageID
    /// The envelope sender as logged; `""` for the null sender `<>`.
    package var sender: String
    package var host: EximHost?
    /// `U=`: the local user (local submission) or the RFC 1413 ident of an SMTP client.
    package var user: String?
    /// `P=`: `smtp`, `esmtpsa`, `local`, `local-smtp`, …
    package var protocolName: String?
    /// `A=`: the authenticator's name and, when logged, the authenticated id.
    package var authenticator: String?
    package var authenticatedID: String?
    /// `S=`; nil when absent or not a number (the test suite's `S=sss`, an overflowing value).
    package var size: Int64?
    /// `id=`: the `Message-ID:` header without angle brackets.
    package var headerMessageID: String?
    /// `R=`: the message whose failure this bounce reports (a bounce generated by the relay).
    package var bounceOf: String?
    /// `for a@x b@y` (`+received_recipients`); nil when not logged or cut off.
    package var recipients: [String]?
}

/// One recipient's result in one delivery attempt: `=>`, `->`, `>>`, `*>`, `**` or `==`.
package struct EximDelivery: Sendable, Equatable {
    package enum Flag: String, Sendable {
        /// `=>` the first address of a delivery.
        case delivered = "=>"
        /// `->` a further address of the same delivery.
        case additional = "->"
        /// `>>` cutthrough delivery (relayed while the client was still connected).
        case cutthrough = ">>"
        /// `*>` delivery suppressed by `-N`.
        case suppressed = "*>"
        /// `**` failed: the address bounced.
        case failed = "**"
        /// `==` deferred: a temporary problem.
        case deferred = "=="
    }

    package var messageID: EximMessageID
    package var flag: Flag
    /// The address as logged (after routing: a rewritten address, or a bare local part for local users).
    package var address: String
    /// The address the message was sent to, shown in `<…>` when routing changed it.
    package var originalAddress: String?
    /// The next hop: `name[ip]:port` from `H=`, else the transport name from `T=`.
    package var relay: String?
    /// `C="…"` (`+smtp_confirmation`) on deliveries, the error text on failures and deferrals; at most 512 bytes.
    package var reply: String?
    /// An enhanced status code (`5.1.1`) found in the reply, if any.
    package var dsn: String?
    /// `F=<…>` (`+sender_on_delivery`).
    package var sender: String?

    /// The recipient outcome this line reports. `*>` counts as delivered: with `-N` Exim "behaves as if it had
    /// successfully" delivered (Exim spec, command line option `-N`) and never tries the address again.
    package var outcome: RecipientOutcome {
        switch flag {
        case .delivered, .additional, .cutthrough, .suppressed: return .delivered
        case .failed: return .bounced
        case .deferred: return .deferred
        }
    }
}

/// A refusal Exim logged: `rejected RCPT`, `rejected MAIL`, `rejected after DATA`, `rejected connection`, an
/// over-size message, a recipient discarded by an ACL.
package struct EximRejection: Sendable, Equatable {
    /// Set when the refusal happened after DATA (the message had an ID but was never accepted).
    package var messageID: EximMessageID?
    package var kind: RejectKind
    /// `CONNECT`, `HELO`, `EHLO`, `MAIL`, `RCPT`, `DATA`, `END-OF-MESSAGE`, `non-SMTP`, `VRFY`, …
    package var stage: String
    /// `temporarily rejected` (a 4xx reply).
    package var temporary = false
    package var host: EximHost?
    /// The authenticated id (`A=authenticator:id`) when the line shows it.
    package var login: String?
    /// `F=<…>` or the address of `rejected MAIL <…>`; `""` for `<>`.
    package var sender: String?
    package var recipient: String?
    /// The text after the colon, or the refusal itself when Exim gave no reason.
    package var reason: String
}

/// `dovecot_login authenticator failed for name (helo) [ip]:port: 535 Incorrect authentication data (set_id=bob)`
package struct EximAuthFailure: Sendable, Equatable {
    /// The authenticator's name in the configuration (`dovecot_login`, `plain`, …).
    package var authenticator: String
    package var host: EximHost?
    /// `set_id=`: the login tried.
    package var login: String?
    package var reason: String
}

/// What one Exim main-log or reject-log line says.
package enum EximEvent: Sendable, Equatable {
    case arrival(EximArrival)
    case delivery(EximDelivery)
    /// `ID Completed`: every recipient has had its final result and the message left the queue.
    case completed(EximMessageID)
    /// `ID removed by root` (`exim -Mrm`): the message left the queue without a `Completed` line; recipients keep
    /// their last results.
    case removed(EximMessageID)
    case rejection(EximRejection)
    case authFailure(EximAuthFailure)
}

/// Why a line was knowingly skipped (it carries nothing relaysum stores).
package enum EximSkip: String, Sendable, Equatable {
    /// `SMTP connection from …`, `… closed by QUIT`, `no MAIL in SMTP connection`, `refused connection`, …
    case connection
    /// `SMTP protocol error`, `SMTP syntax error`, `SMTP call … dropped`, `unexpected disconnection`, timeouts.
    case protocolError = "protocol error"
    /// `TLS error on connection`, `SSL verify error`, certificate and DANE notes.
    case tls
    /// `no host name found for IP address`, `no IP address found for host`.
    case hostLookup = "host lookup"
    /// `Start queue run`, `End queue run`, daemon start, signals, configuration notes.
    case daemon
    /// ACL notes: `sender verify fail`, `Warning: …`, `logwrite` output, scanner results.
    case aclNote = "acl note"
    /// `Frozen`, `Unfrozen`, `Message is frozen`: the message stays queued with its recipients' last results.
    case frozen
    /// `no immediate delivery`, `retry time not reached`, `Spool file is locked`, queue-runner notes.
    case queueNote = "queue note"
    /// Other notes about a message (`H=host [ip] Connection refused`, `removed by`, `cancelled by`, DKIM,
    /// spam and malware scans, events, `logwrite` text): its outcomes come on their own `==`/`**`/`=>` lines.
    case messageNote = "message note"
    /// Our relay failing to authenticate to the next hop (`ID plain authenticator failed H=…`).
    case clientAuthFailure = "client auth failure"
    /// A reject-log header dump (`Envelope-from:`, `P Received: …`, continuation lines).
    case rejectLogHeader = "reject-log header"
    /// A line without a message ID in none of Exim's own shapes: `logwrite` text from the operator's ACLs and
    /// event handlers, configuration complaints.
    case freeText = "free text"
    /// Parts 2…n of a syslog message Exim split at 870 bytes or at line ends (`[2/3] …`).
    case syslogContinuation = "syslog continuation"
}

/// The outcome of parsing one Exim line.
package enum EximParseResult: Sendable, Equatable {
    case event(EximEvent)
    case skipped(EximSkip)
    /// Not understood; the kind names the line's shape, e.g. `exim: message line`.
    case unparsed(String)
}
