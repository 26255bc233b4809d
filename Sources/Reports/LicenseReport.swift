import Store

/// `relaysum license`: the distinct sending domains (envelope-sender domains of accepted messages) of a period, as
/// outgoing-relay licences count them: in total, and per outgoing user.
package struct LicenseReport: Sendable, Equatable {
    /// One sending domain over all accounts and relays.
    package struct DomainRow: Sendable, Equatable {
        package var domain: String
        package var messages: Int64
        package var accounts: Int64
        package var firstSeen: Int64
        package var lastSeen: Int64
    }

    /// One account's use of one domain.
    package struct AccountRow: Sendable, Equatable {
        package var account: String?
        package var domain: String
        package var messages: Int64
        package var firstSeen: Int64
        package var lastSeen: Int64
        /// The domain is neither the SASL login's domain nor related to it (a subdomain either way, or, with
        /// `--registrable`, the same registrable domain); nil when the account has no login domain to compare.
        package var outsideLoginDomain: Bool?
    }

    package static let domainColumns = ["domain", "messages", "accounts", "first_seen", "last_seen"]
    package static let accountColumns = [
        "account", "domain", "messages", "first_seen", "last_seen", "outside_login_domain",
    ]

    /// Sorted by domain.
    package var domains: [DomainRow]
    /// Sorted by account, then domain.
    package var accounts: [AccountRow]

    /// Folds the stored (account, domain) uses: with `suffixes`, each domain becomes its registrable domain and
    /// uses that fold together add up.
    package init(_ uses: [LicenseUse], suffixes: PublicSuffixList? = nil) {
        struct Pair: Hashable {
            var account: String?
            var domain: String
        }
        var fold: [String: String] = [:]
        func folded(_ d: String) -> String {
            guard let suffixes else { return d }
            if let f = fold[d] { return f }
            let f = suffixes.fold(d)
            fold[d] = f
            return f
        }
        var pairs: [Pair: AccountRow] = [:]
        for u in uses {
            let key = Pair(account: u.account, domain: folded(u.domain))
            if var row = pairs[key] {
                row.messages += u.messages
                row.firstSeen = min(row.firstSeen, u.firstSeen)
                row.lastSeen = max(row.lastSeen, u.lastSeen)
                pairs[key] = row
            } else {
                pairs[key] = AccountRow(
                    account: u.account, domain: key.domain, messages: u.messages, firstSeen: u.firstSeen,
                    lastSeen: u.lastSeen, outsideLoginDomain: nil)
            }
        }
        accounts = pairs.values.map { row in
            var row = row
            if let login = Self.loginDomain(row.account) {
                let own = suffixes != nil && folded(login) == row.domain
                row.outsideLoginDomain = !(own || Self.related(row.domain, login))
            }
            return row
        }.sorted { ($0.account ?? "", $0.domain) < ($1.account ?? "", $1.domain) }
        var byDomain: [String: DomainRow] = [:]
        for a in accounts {
            if var d = byDomain[a.domain] {
                d.messages += a.messages
                d.accounts += 1
                d.firstSeen = min(d.firstSeen, a.firstSeen)
                d.lastSeen = max(d.lastSeen, a.lastSeen)
                byDomain[a.domain] = d
            } else {
                byDomain[a.domain] = DomainRow(
                    domain: a.domain, messages: a.messages, accounts: 1, firstSeen: a.firstSeen, lastSeen: a.lastSeen)
            }
        }
        domains = byDomain.values.sorted { $0.domain < $1.domain }
    }

    /// The domain part of a `sasl:user@domain` account, lower-cased.
    static func loginDomain(_ account: String?) -> String? {
        guard let account, account.hasPrefix("sasl:") else { return nil }
        return MessageRecord.domain(of: String(account.dropFirst(5)))
    }

    /// Equal, or one a subdomain of the other.
    static func related(_ a: String, _ b: String) -> Bool {
        a == b || a.hasSuffix("." + b) || b.hasSuffix("." + a)
    }

    /// Accounts that send for a domain outside their login's.
    package var accountsOutsideLoginDomain: Int {
        Set(accounts.filter { $0.outsideLoginDomain == true }.map { $0.account ?? "" }).count
    }

    package func renderDomains(as format: OutputFormat) -> String {
        let rows: [[Cell]] = domains.map { d in
            [.text(d.domain), .number(d.messages), .number(d.accounts), .time(d.firstSeen), .time(d.lastSeen)]
        }
        var out = TableFormat(columns: Self.domainColumns).render(rows, as: format)
        if format == .table { out += "\(domains.count) distinct sending domain(s)\n" }
        return out
    }

    package func renderAccounts(as format: OutputFormat) -> String {
        let rows: [[Cell]] = accounts.map { a in
            [
                .text(a.account), .text(a.domain), .number(a.messages), .time(a.firstSeen), .time(a.lastSeen),
                .flag(a.outsideLoginDomain),
            ]
        }
        var out = TableFormat(columns: Self.accountColumns).render(rows, as: format)
        if format == .table {
            let n = Set(accounts.map { $0.account ?? "" }).count
            out +=
                "\(domains.count) distinct sending domain(s) over \(n) account(s); "
                + "\(accountsOutsideLoginDomain) account(s) send for domains outside their login's domain\n"
        }
        return out
    }
}
