/// The thresholds of `relaysum anomalies`, section `[anomalies]` of the configuration file. Every value has a
/// documented default; `contrib/relaysum.toml` lists them with their meaning.
public struct AnomalyThresholds: Sendable, Equatable {
    /// Days of an account's own history before the period that make its baseline (`baseline_days`).
    public var baselineDays = 28
    /// The quantile of the account's hourly recipients (all hours of the baseline, quiet ones too) that is its
    /// normal busy hour (`quantile`).
    public var quantile = 0.99
    /// Volume: an hour with at least this many recipients (`volume_minimum`) ...
    public var volumeMinimum: Int64 = 50
    /// ... and at least this multiple of the account's quantile hour (`volume_factor`).
    public var volumeFactor = 4.0
    /// Failures: bounced plus deferred recipients (less the rest of the relay's deferral share in that hour, so a
    /// delivery outage is nobody's fault) reach this share of the window's recipients (`failure_share`) ...
    public var failureShare = 0.25
    /// ... and at least this many recipients failed (`failure_minimum`) ...
    public var failureMinimum: Int64 = 10
    /// ... and the share is this far above the account's own baseline share (`failure_margin`).
    public var failureMargin = 0.15
    /// Spread: distinct recipient domains in an hour at least this many (`spread_minimum`) and this multiple of
    /// the account's quantile hour (`spread_factor`).
    public var spreadMinimum: Int64 = 20
    public var spreadFactor = 4.0
    /// New network: client addresses of one account in one hour at least this many, and more than its baseline
    /// maximum, count as a new-network signal (`clients_minimum`).
    public var clientsMinimum: Int64 = 4
    /// Failed logins of one login within `auth_lookback_hours` before a successful one that count as a burst
    /// (`auth_failure_minimum`).
    public var authFailureMinimum: Int64 = 10
    public var authLookbackHours = 3
    /// An account with fewer active hours than this in its baseline is new: its volume is judged against the whole
    /// relay and its networks and sender addresses are not "new" (`history_minimum_hours`).
    public var historyMinimumHours = 8
    /// ... or whose first activity in the baseline is fewer days before than this is new as well: a day or two of
    /// history is no normal (`history_minimum_days`).
    public var historyMinimumDays = 3
    /// `compromised` when failures and a new network come together with at least this many recipients in the
    /// window (`compromise_minimum`).
    public var compromiseMinimum: Int64 = 30

    public init() {}
}
