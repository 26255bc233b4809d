/// Everything one RFC 5965 abuse report says, as plain values taken from the log; `FeedbackReport.build` turns it into
/// the bytes of the message. Any string here may come from a log and be hostile (CR, LF, NUL, non-ASCII, very long):
/// the builder decides what can be written safely, never this value.
package struct AbuseReport: Sendable, Equatable {
    /// One line of part 1: `Account: sasl:alice@shop1.example`.
    package struct Detail: Sendable, Equatable {
        package var label: String
        package var value: String

        package init(_ label: String, _ value: String) {
            self.label = label
            self.value = value
        }
    }

    /// What the relay knew of the client, for the `Received:` field rebuilt in part 3.
    package struct Trace: Sendable, Equatable {
        package var clientName: String?
        package var clientIP: String?
        /// The relay that logged it.
        package var relay: String?
        /// The Postfix queue ID or Exim message ID.
        package var queueID: String?

        package init(clientName: String?, clientIP: String?, relay: String?, queueID: String?) {
            self.clientName = clientName
            self.clientIP = clientIP
            self.relay = relay
            self.queueID = queueID
        }
    }

    /// The report's own header fields: `From:` and `To:` must be safe plain addresses (the configuration checks
    /// them); `messageID` without angle brackets.
    package var from: String
    package var to: String
    package var date: Int64
    package var messageID: String
    /// `Reporting-MTA: dns; <host>`.
    package var reportingMTA: String
    /// `User-Agent:`, `relaysum/<version>`.
    package var userAgent: String

    /// Part 1: one sentence saying what happened, then labelled details.
    package var summary: String
    package var details: [Detail]
    /// The report's Subject when the log did not give the original one.
    package var fallbackSubject: String

    /// Part 2: the envelope sender (empty for the null sender `<>`; nil when unknown), the recipients (all of them;
    /// the builder writes at most `maxRecipients`), when the relay received it, the client address, and how many
    /// messages this report stands for.
    package var originalMailFrom: String?
    package var originalRecipients: [String]
    /// Recipients in all, when more were counted than are listed (`nrcpt=`).
    package var totalRecipients: Int
    package var maxRecipients: Int
    package var arrivalDate: Int64?
    package var sourceIP: String?
    package var incidents: Int

    /// Part 3: the header fields the log knows.
    package var originalMessageID: String?
    package var originalSubject: String?
    package var originalFrom: String?
    package var trace: Trace?

    package init(
        from: String, to: String, date: Int64, messageID: String, reportingMTA: String, userAgent: String,
        summary: String, details: [Detail], fallbackSubject: String, originalMailFrom: String?,
        originalRecipients: [String], totalRecipients: Int, maxRecipients: Int, arrivalDate: Int64?, sourceIP: String?,
        incidents: Int, originalMessageID: String?, originalSubject: String?, originalFrom: String?, trace: Trace?
    ) {
        self.from = from
        self.to = to
        self.date = date
        self.messageID = messageID
        self.reportingMTA = reportingMTA
        self.userAgent = userAgent
        self.summary = summary
        self.details = details
        self.fallbackSubject = fallbackSubject
        self.originalMailFrom = originalMailFrom
        self.originalRecipients = originalRecipients
        self.totalRecipients = totalRecipients
        self.maxRecipients = maxRecipients
        self.arrivalDate = arrivalDate
        self.sourceIP = sourceIP
        self.incidents = incidents
        self.originalMessageID = originalMessageID
        self.originalSubject = originalSubject
        self.originalFrom = originalFrom
        self.trace = trace
    }
}
