import Foundation
import Testing

@testable import Config

/// The TOML configuration file: every section read, every problem named with its line and column, and where the
/// file is looked for.
@Suite struct ConfigurationTests {
    @Test func theCommentedExampleIsValidAndMeansWhatItSays() throws {
        let path = ARFPaths.packageRoot.appendingPathComponent("contrib/relaysum.toml").path
        let c = try RelaysumConfiguration.load(path: path)
        #expect(c.path == path)
        #expect(c.reportFrom == "abuse-reports@relay.example")
        #expect(c.reportingHost == "relay.example")
        #expect(c.report.limit == 1 && c.report.limitHours == 24 && c.report.maxRecipients == 50)
        #expect(c.abuse.defaultAddress == "abuse@hosting.example")
        #expect(
            c.abuse.users == ["sasl:alice@shop1.example": "abuse@shop1.example", "192.0.2.10": "noc@shop1.example"])
        #expect(c.abuse.domains == ["shop2.example": "abuse@shop2.example"])
        #expect(c.transport == RelaysumConfiguration.Transport())
        #expect(c.anomalies == AnomalyThresholds())
        #expect(c.retention == RelaysumConfiguration.Retention())
    }

    @Test func everySectionIsRead() throws {
        let text = """
            [report]
            from = "desk@relay.example"
            reporting_mta = "relay.example"
            limit = 3
            limit_hours = 12
            max_recipients = 10

            [abuse]
            default = "abuse@hosting.example"
            [abuse.users]
            "sasl:alice" = "a@shop1.example"
            [abuse.domains]
            "Shop2.Example" = "abuse@shop2.example"

            [transport]
            kind = "smtp"
            host = "smarthost.example"
            port = 465
            starttls = false
            username = "relay"
            password_file = "/etc/relaysum/pw"
            ca_file = "/etc/relaysum/ca.pem"
            timeout_seconds = 5
            give_up_after_hours = 48

            [anomalies]
            baseline_days = 14
            quantile = 0.95
            volume_minimum = 100
            volume_factor = 3
            failure_share = 0.5
            failure_minimum = 20
            failure_margin = 0.2
            spread_minimum = 30
            spread_factor = 2.5
            clients_minimum = 6
            auth_failure_minimum = 15
            auth_lookback_hours = 6
            history_minimum_hours = 12
            compromise_minimum = 40

            [retention]
            older_than = "90d"
            """
        let c = try RelaysumConfiguration.parse(text, file: "t.toml")
        #expect(c.report.from == "desk@relay.example" && c.report.limit == 3 && c.report.limitHours == 12)
        #expect(c.report.maxRecipients == 10)
        #expect(c.abuse.users == ["sasl:alice": "a@shop1.example"])
        #expect(c.abuse.domains == ["shop2.example": "abuse@shop2.example"])
        #expect(c.transport.kind == .smtp && c.transport.host == "smarthost.example" && c.transport.port == 465)
        #expect(
            !c.transport.starttls && c.transport.username == "relay" && c.transport.passwordFile == "/etc/relaysum/pw")
        #expect(c.transport.caFile == "/etc/relaysum/ca.pem" && c.transport.timeoutSeconds == 5)
        #expect(c.transport.giveUpAfterHours == 48)
        var a = AnomalyThresholds()
        a.baselineDays = 14
        a.quantile = 0.95
        a.volumeMinimum = 100
        a.volumeFactor = 3
        a.failureShare = 0.5
        a.failureMinimum = 20
        a.failureMargin = 0.2
        a.spreadMinimum = 30
        a.spreadFactor = 2.5
        a.clientsMinimum = 6
        a.authFailureMinimum = 15
        a.authLookbackHours = 6
        a.historyMinimumHours = 12
        a.compromiseMinimum = 40
        #expect(c.anomalies == a)
        #expect(c.retention.olderThan == "90d" && c.retention.olderThanSeconds == 90 * 86_400)
        // The printed settings read back as the same configuration.
        var back = try RelaysumConfiguration.parse(c.effectiveDescription, file: "back.toml")
        back.path = nil
        #expect(back == c)
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        var text: String
        var problems: [String]
        var testDescription: String { problems.first ?? "" }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "[report]\nlimt = 1\n", problems: ["c.toml:2:1: [report] limt is not a known key"]),
        Invalid(text: "\n[reprot]\nlimit = 1\n", problems: ["c.toml:2:1: [reprot] is not a known section"]),
        Invalid(
            text: "[report]\n  limit = \"one\"\n",
            problems: ["c.toml:2:3: [report] limit must be an integer, not a string"]
        ),
        Invalid(text: "[report]\nlimit = -1\n", problems: ["c.toml:2:1: [report] limit must be at least 0, not -1"]),
        Invalid(
            text: "[transport]\nstarttls = 1\n",
            problems: ["c.toml:2:1: [transport] starttls must be true or false, not an integer"]),
        Invalid(
            text: "[transport]\nkind = \"uucp\"\n",
            problems: ["c.toml:2:1: [transport] kind must be \"sendmail\" or \"smtp\", not \"uucp\""]),
        Invalid(
            text: "[transport]\nkind = \"smtp\"\n",
            problems: ["c.toml:1:1: [transport] host is required with kind = \"smtp\""]),
        Invalid(
            text: "[transport]\nusername = \"u\"\n",
            problems: ["c.toml:2:1: [transport] username needs password_file too"]),
        Invalid(
            text: "[abuse.users]\n\"sasl:x\" = \"not an address\"\n",
            problems: ["c.toml:2:1: [abuse.users] sasl:x must be a plain address such as abuse@example.net"]),
        Invalid(
            text: "[abuse]\ndefault = \"a\\r\\nBcc: b@x.example\"\n",
            problems: ["c.toml:2:1: [abuse] default must be a plain address such as abuse@example.net"]),
        Invalid(
            text: "[anomalies]\nquantile = 2\n", problems: ["c.toml:2:1: [anomalies] quantile must be from 0.0 to 1.0"]),
        Invalid(
            text: "[anomalies]\nbaseline = 28\n", problems: ["c.toml:2:1: [anomalies] baseline is not a known key"]),
        Invalid(
            text: "[retention]\nolder_than = \"3 months\"\n",
            problems: [
                "c.toml:2:1: [retention] older_than must be a number of hours, days or weeks such as \"90d\", not \"3 months\""
            ]),
        Invalid(text: "report = 1\n", problems: ["c.toml:1:1: [report] must be a table, not an integer"]),
        // Every problem at once, in line order (CRLF line ends count lines too).
        Invalid(
            text: "[report]\r\nfoo = 1\r\nlimit = \"x\"\r\n[bogus]\r\n",
            problems: [
                "c.toml:2:1: [report] foo is not a known key",
                "c.toml:3:1: [report] limit must be an integer, not a string",
                "c.toml:4:1: [bogus] is not a known section",
            ]),
    ]

    @Test(arguments: invalid)
    func problemsNameTheirLine(_ c: Invalid) {
        #expect(throws: ConfigurationError(c.problems.map { Self.problem($0) })) {
            try RelaysumConfiguration.parse(c.text, file: "c.toml")
        }
    }

    static func problem(_ s: String) -> ConfigurationError.Problem {
        // "c.toml:L:C: message"
        let parts = s.split(separator: ":", maxSplits: 3)
        return .init(
            file: String(parts[0]), line: Int(parts[1]), column: Int(parts[2]), message: String(parts[3].dropFirst()))
    }

    @Test func aSyntaxErrorNamesItsLineAndColumn() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try RelaysumConfiguration.parse("[report]\nlimit = = 1\n", file: "c.toml")
        }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].line == 2 && error.problems[0].column != nil)
        #expect(error.description.hasPrefix("c.toml:2:"))
    }

    @Test func lookupOrder() throws {
        let dir = try ScratchDirectory("lookup")
        defer { dir.cleanUp() }
        let explicit = dir.path("explicit.toml")
        let env = dir.path("env.toml")
        let system = dir.path("system.toml")
        try "[report]\nlimit = 1\n".write(toFile: explicit, atomically: true, encoding: .utf8)
        try "[report]\nlimit = 2\n".write(toFile: env, atomically: true, encoding: .utf8)
        try "[report]\nlimit = 3\n".write(toFile: system, atomically: true, encoding: .utf8)
        let vars = ["RELAYSUM_CONFIG": env]
        #expect(
            try RelaysumConfiguration.resolve(explicit: explicit, environment: vars, systemPath: system).report.limit
                == 1)
        #expect(
            try RelaysumConfiguration.resolve(explicit: nil, environment: vars, systemPath: system).report.limit == 2)
        #expect(
            try RelaysumConfiguration.resolve(explicit: nil, environment: [:], systemPath: system).report.limit == 3)
        let none = try RelaysumConfiguration.resolve(
            explicit: nil, environment: [:], systemPath: dir.path("absent.toml"))
        #expect(none == RelaysumConfiguration())
        // A named file that is missing is an error, not the defaults.
        #expect(throws: ConfigurationError.self) {
            try RelaysumConfiguration.resolve(explicit: dir.path("missing.toml"), environment: [:], systemPath: system)
        }
    }
}
