import Foundation

/// Everything the configuration file sets; every value has a default, so no file at all is a valid configuration
/// (one that builds no abuse report: it names no abuse address). `contrib/relaysum.toml` documents each key.
public struct RelaysumConfiguration: Sendable, Equatable {
    /// Section `[report]`: who the reports come from and how many an account gets.
    public struct Report: Sendable, Equatable {
        /// The report's `From:` address (`from`); nil means `postmaster@<reporting_mta>`.
        public var from: String?
        /// The host named in `Reporting-MTA: dns; <host>` and in report Message-IDs (`reporting_mta`); nil means
        /// this machine's host name.
        public var reportingMTA: String?
        /// At most this many reports per account ... (`limit`) ...
        public var limit = 1
        /// ... within this many hours of the activity they report (`limit_hours`).
        public var limitHours = 24
        /// `Original-Rcpt-To` lines in one report at most (`max_recipients`); part 1 gives the total.
        public var maxRecipients = 50

        public init() {}
    }

    /// Section `[abuse]`: where the report about an account goes.
    public struct Abuse: Sendable, Equatable {
        /// The address when neither the account nor the sender domain has one (`default`).
        public var defaultAddress: String?
        /// By outgoing user (`[abuse.users]`): `"sasl:alice@shop1.example"`, or the bare login or client address.
        public var users: [String: String] = [:]
        /// By envelope sender domain (`[abuse.domains]`), lower-case; a domain also covers its subdomains.
        public var domains: [String: String] = [:]

        public init() {}
    }

    /// Section `[transport]`: how `arf send` mails reports.
    public struct Transport: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable, CaseIterable {
            case sendmail
            case smtp
        }
        public var kind = Kind.sendmail
        /// The sendmail-compatible program, run as `<path> -t -oi` without a shell (`sendmail_path`).
        public var sendmailPath = "/usr/sbin/sendmail"
        /// The smarthost (`host`, `port`).
        public var host: String?
        public var port = 587
        /// Require STARTTLS before AUTH and the message (`starttls`); false sends in the clear.
        public var starttls = true
        /// AUTH (PLAIN or LOGIN, as the server offers) with this user (`username`) and the first line of this file
        /// (`password_file`), so the secret stays out of the configuration file.
        public var username: String?
        public var passwordFile: String?
        /// CA certificates to verify the smarthost with (`ca_file`); nil means the system's.
        public var caFile: String?
        /// Give up on one message after this many seconds (`timeout_seconds`).
        public var timeoutSeconds = 60
        /// A report still not delivered this many hours after it was built is given up at its next failure
        /// (`give_up_after_hours`, as Postfix's `maximal_queue_lifetime`); 0 retries for ever.
        public var giveUpAfterHours = 120

        public init() {}
    }

    /// Section `[retention]`: how long stored rows are kept (for a later `prune`).
    public struct Retention: Sendable, Equatable {
        /// `older_than`, as written (`"90d"`), and in seconds; nil keeps everything.
        public var olderThan: String?
        public var olderThanSeconds: Int64?

        public init() {}
    }

    public var report = Report()
    public var abuse = Abuse()
    public var transport = Transport()
    public var anomalies = AnomalyThresholds()
    public var retention = Retention()
    /// The file these settings came from; nil for the built-in defaults.
    public var path: String?

    public init() {}

    /// The Reporting-MTA host: `reporting_mta`, else this machine's host name (if it is a valid one), else
    /// `localhost`.
    public var reportingHost: String {
        if let h = report.reportingMTA { return h }
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count) == 0 {
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if MailboxSyntax.isHostName(name) { return name }
        }
        return "localhost"
    }

    /// The report `From:` address: `from`, else `postmaster@<reporting host>`.
    public var reportFrom: String { report.from ?? "postmaster@\(reportingHost)" }

    /// Where a report about `account` (`sasl:alice`, `ip:192.0.2.1`) for mail from `senderDomain` goes: the account;
    /// then the domain of a login that is an address (`sasl:alice@shop1.example`: the customer is shop1.example's,
    /// whatever sender an intruder forged); then the sender domain; then the default; nil when none is configured.
    public func abuseAddress(account: String?, senderDomain: String?) -> String? {
        var loginDomain: String?
        if let account {
            if let a = abuse.users[account] { return a }
            if let colon = account.firstIndex(of: ":") {
                let login = String(account[account.index(after: colon)...])
                if let a = abuse.users[login] { return a }
                if account.hasPrefix("sasl:"), let at = login.lastIndex(of: "@") {
                    loginDomain = String(login[login.index(after: at)...])
                }
            }
        }
        // Each domain, then its parent domains: mail from `news.shop1.example` goes to `shop1.example`'s.
        for candidate in [loginDomain, senderDomain] {
            var domain = candidate?.lowercased()[...]
            while let d = domain, d.contains(".") {
                if let a = abuse.domains[String(d)] { return a }
                domain = d.firstIndex(of: ".").map { d[d.index(after: $0)...] }
            }
        }
        return abuse.defaultAddress
    }
}
