/// The MTA-neutral rows relaysum stores. Both the Postfix and the Exim correlators produce these values;
/// everything downstream (summaries, licence counts, anomalies, ARF) reads only these.

/// Which MTA wrote the lines a record came from.
package enum MTA: String, Codable, Sendable, CaseIterable {
    case postfix
    case exim
}

/// How a message entered the relay.
package enum MessageOrigin: String, Codable, Sendable {
    /// Received over SMTP (Postfix `smtpd … client=`, Exim `<=` with `H=`).
    case smtp
    /// Submitted locally (Postfix `pickup … uid=`, Exim `<=` with `U=` and no host).
    case local
    /// A bounce or notice the relay generated itself (Postfix `bounce … notification`, Exim `<= <>` with `R=`);
    /// counted apart, never charged to a sender.
    case generated
    /// The log did not show how it arrived (its first lines are in a file not ingested).
    case unknown
}

/// The final state of one recipient at the end of the ingested logs (SPEC: recipient outcome).
package enum RecipientOutcome: String, Codable, Sendable {
    case delivered
    case deferred
    case bounced
    /// Accepted, no delivery attempt logged yet.
    case pending
}

/// One recipient of a message, with its final outcome however often it was retried.
///
/// Its initializer is made by the compiler (`attempts` is declared first so that the one below is not its
/// duplicate): a written one builds the record in a temporary and copies it out, a retain and a release of every
/// string per record (~350 instructions per new recipient in the correlators, which call it across modules).
package struct RecipientRecord: Codable, Sendable, Equatable {
    /// Number of delivery attempts logged for this recipient.
    package var attempts: Int
    /// The final recipient address as logged (Postfix `to=`, Exim the address after `=>`).
    package var address: String
    /// The original recipient when an alias or forward rewrote it (Postfix `orig_to=`, Exim `<orig>`).
    package var originalAddress: String?
    package var outcome: RecipientOutcome
    /// Enhanced status code of the last attempt (`dsn=`), if logged.
    package var dsn: String?
    /// The next hop of the last attempt (`relay=`, Exim `H=`/`T=`).
    package var relay: String?
    /// The reply text of the last attempt, shortened to at most 512 bytes.
    package var reply: String?
    /// Time of the last attempt, seconds since the Unix epoch (UTC).
    package var lastAttemptAt: Int64?
}

extension RecipientRecord {
    package init(
        address: String, originalAddress: String? = nil, outcome: RecipientOutcome, dsn: String? = nil,
        relay: String? = nil, reply: String? = nil, lastAttemptAt: Int64? = nil, attempts: Int = 0
    ) {
        self.init(
            attempts: attempts, address: address, originalAddress: originalAddress, outcome: outcome, dsn: dsn,
            relay: relay, reply: reply, lastAttemptAt: lastAttemptAt)
    }
}

/// One message accepted by the relay (SPEC: message), with its recipients.
///
/// Its initializer is made by the compiler, as `RecipientRecord`'s is (`rowID` is declared last for that).
package struct MessageRecord: Codable, Sendable, Equatable {
    /// The relay that logged it (`--host`, else the syslog host name).
    package var host: String
    package var mta: MTA
    /// Postfix queue ID or Exim message ID.
    package var queueID: String
    /// The `Message-ID:` header, without angle brackets, if logged.
    package var messageID: String?
    package var origin: MessageOrigin
    /// `sasl:<login>`, `ip:<client address>` or `local:<uid or user>` (SPEC: outgoing user); nil when unknown.
    package var account: String?
    package var clientIP: String?
    package var clientName: String?
    package var saslMethod: String?
    /// The envelope sender as logged; the empty string is the null sender `<>`.
    package var sender: String
    /// Logged size in bytes (`size=`, `S=`).
    package var size: Int64?
    /// The number of recipients the MTA announced (`nrcpt=`), if logged.
    package var announcedRecipients: Int?
    /// When the relay received it: seconds since the Unix epoch (UTC).
    package var receivedAt: Int64
    /// When its last line (`removed`, `Completed`) was logged; nil while it is still queued.
    package var completedAt: Int64?
    package var recipients: [RecipientRecord]
    /// The store's row id once the record has been written (an open message is written and later rewritten).
    package var rowID: Int64?
}

extension MessageRecord {
    package init(
        rowID: Int64? = nil, host: String, mta: MTA, queueID: String, messageID: String? = nil,
        origin: MessageOrigin, account: String? = nil, clientIP: String? = nil, clientName: String? = nil,
        saslMethod: String? = nil, sender: String, size: Int64? = nil, announcedRecipients: Int? = nil,
        receivedAt: Int64, completedAt: Int64? = nil, recipients: [RecipientRecord] = []
    ) {
        self.init(
            host: host, mta: mta, queueID: queueID, messageID: messageID, origin: origin, account: account,
            clientIP: clientIP, clientName: clientName, saslMethod: saslMethod, sender: sender, size: size,
            announcedRecipients: announcedRecipients, receivedAt: receivedAt, completedAt: completedAt,
            recipients: recipients, rowID: rowID)
    }

    /// The domain part of the sender, lower-cased; nil for the null sender or a bare local part.
    package var senderDomain: String? { Self.domain(of: sender) }

    /// Recipients counted for this message: the distinct recipients seen, or the announced number if larger.
    package var recipientCount: Int { max(recipients.count, announcedRecipients ?? 0) }

    /// The lower-cased part after the last `@`, or nil. Works on UTF-8 bytes: it runs for every stored address.
    package static func domain(of address: String) -> String? {
        var address = address
        return address.withUTF8 { bytes -> String? in
            guard let (domain, lower) = domainPart(of: bytes) else { return nil }
            let text = String(decoding: domain, as: UTF8.self)
            return lower ? text.lowercased() : text
        }
    }

    /// The bytes of the domain part of an address (after its last `@`; nil when there is none or it is empty), and
    /// whether lowering them changes them (an ASCII capital or a non-ASCII byte). `domain(of:)` and the store's
    /// write path (which binds or numbers a domain per recipient without a `String` when it is already lower case).
    @inline(__always) static func domainPart(
        of address: UnsafeBufferPointer<UInt8>
    ) -> (bytes: UnsafeBufferPointer<UInt8>, lower: Bool)? {
        guard let at = address.lastIndex(of: UInt8(ascii: "@")), at + 1 < address.count else { return nil }
        let domain = UnsafeBufferPointer(rebasing: address[(at + 1)...])
        // A plain loop: `contains(where:)` called its closure per byte here.
        for b in domain where (b >= 0x41 && b <= 0x5A) || b >= 0x80 { return (domain, true) }
        return (domain, false)
    }
}

/// What kind of refusal a rejected attempt was.
package enum RejectKind: String, Codable, Sendable {
    /// Refused by the SMTP server's own restrictions (Postfix `NOQUEUE: reject:`, Exim `rejected RCPT`/`MAIL`).
    case reject
    /// Refused by a milter or content scan after DATA (Postfix `milter-reject:`, Exim `rejected after DATA`).
    case contentReject = "content-reject"
    /// Refused by a header or body check in cleanup (Postfix `cleanup … reject:`).
    case checkReject = "check-reject"
    /// Accepted from the client but silently dropped (Postfix `discard:`).
    case discard
}

/// An attempt refused before a message existed (SPEC: rejected attempt).
package struct RejectRecord: Codable, Sendable, Equatable {
    package var host: String
    package var mta: MTA
    package var at: Int64
    package var kind: RejectKind
    /// The SMTP stage (`RCPT`, `DATA`, `END-OF-MESSAGE`, `MAIL`, `CONNECT`, …).
    package var stage: String?
    /// The queue ID the refusal was logged under, if any (`NOQUEUE` is stored as nil).
    package var queueID: String?
    package var clientIP: String?
    package var clientName: String?
    /// The SASL login of the session, when the log shows it.
    package var login: String?
    package var sender: String?
    package var recipient: String?
    /// The SMTP reply code (`550`) and enhanced status (`5.7.1`).
    package var code: String?
    package var dsn: String?
    /// The reason text as logged, shortened to at most 512 bytes.
    package var reason: String
    package var helo: String?

    package init(
        host: String, mta: MTA, at: Int64, kind: RejectKind, stage: String? = nil, queueID: String? = nil,
        clientIP: String? = nil, clientName: String? = nil, login: String? = nil, sender: String? = nil,
        recipient: String? = nil, code: String? = nil, dsn: String? = nil, reason: String, helo: String? = nil
    ) {
        self.host = host
        self.mta = mta
        self.at = at
        self.kind = kind
        self.stage = stage
        self.queueID = queueID
        self.clientIP = clientIP
        self.clientName = clientName
        self.login = login
        self.sender = sender
        self.recipient = recipient
        self.code = code
        self.dsn = dsn
        self.reason = reason
        self.helo = helo
    }
}

/// A failed SMTP AUTH attempt (Postfix `SASL LOGIN authentication failed`, Exim `authenticator failed`).
package struct AuthFailureRecord: Codable, Sendable, Equatable {
    package var host: String
    package var mta: MTA
    package var at: Int64
    package var clientIP: String?
    package var clientName: String?
    /// The login tried, when the log shows it (Postfix ≥ 3.x `sasl_username=`, Exim `(set_id=…)`).
    package var login: String?
    package var mechanism: String?
    package var reason: String

    package init(
        host: String, mta: MTA, at: Int64, clientIP: String? = nil, clientName: String? = nil,
        login: String? = nil, mechanism: String? = nil, reason: String
    ) {
        self.host = host
        self.mta = mta
        self.at = at
        self.clientIP = clientIP
        self.clientName = clientName
        self.login = login
        self.mechanism = mechanism
        self.reason = reason
    }
}

/// One message row to write: a new row, or a rewrite of a row written earlier while the message was open.
package struct MessageWrite: Sendable {
    package var record: MessageRecord
    /// The row was written before (as an open message) and its recipients must be replaced.
    package var replaces: Bool

    package init(record: MessageRecord, replaces: Bool) {
        self.record = record
        self.replaces = replaces
    }
}
