import Foundation
import Store
import Testing

@testable import Ingest

/// Feeds log text through the envelope parser and an Exim correlator, as the ingest does, without a database.
struct EximFeed {
    static let defaultHost = "mx1.example"

    let correlator: EximCorrelator
    var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: nil, reference: 0)
    var verdicts: [LineVerdict] = []
    /// Why each skipped line was skipped (empty for the others), as the parser and correlator saw it.
    var skipReasons: [String] = []

    init(rowIDs: RowIDAllocator = RowIDAllocator(next: 1)) {
        correlator = EximCorrelator(rowIDs: rowIDs)
    }

    init(text: String, file: String = "mainlog") {
        self.init()
        feed(text, file: file)
    }

    mutating func feed(_ text: String, file: String = "mainlog") {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            let position = SourcePosition(file: file, line: i + 1)
            let (verdict, reason) = ByteSlice.with(String(line)) { bytes -> (LineVerdict, String) in
                switch envelopes.parse(bytes) {
                case .failure:
                    let verdict = correlator.consumeUnstamped(bytes, host: Self.defaultHost, position: position)
                    return (verdict, verdict == .skipped ? "reject-log header" : "")
                case .success(let env):
                    let verdict = correlator.consume(
                        env, host: env.host?.string ?? Self.defaultHost, position: position)
                    guard verdict == .skipped else { return (verdict, "") }
                    if let program = env.program, !program.hasPrefix("exim") { return (verdict, "other program") }
                    switch EximLineParser.parse(env.message) {
                    case .skipped(let why): return (verdict, why.rawValue)
                    case .event(.delivery), .event(.completed), .event(.removed):
                        return (verdict, "message not seen")
                    default: return (verdict, "duplicate")
                    }
                }
            }
            verdicts.append(verdict)
            skipReasons.append(reason)
        }
    }

    var unparsed: [String] {
        verdicts.compactMap {
            if case .unparsed(let kind) = $0 { return kind }
            return nil
        }
    }

    /// `verdicts parsed=N skipped=N unparsed=N`, then one line per unparsed kind.
    var summary: String {
        let parsed = verdicts.filter { $0 == .parsed }.count
        let skipped = verdicts.filter { $0 == .skipped }.count
        var kinds: [String: Int] = [:]
        for k in unparsed { kinds[k, default: 0] += 1 }
        var reasons: [String: Int] = [:]
        for r in skipReasons where !r.isEmpty { reasons[r, default: 0] += 1 }
        var s = "verdicts parsed=\(parsed) skipped=\(skipped) unparsed=\(unparsed.count)\n"
        for (k, n) in reasons.sorted(by: { $0.key < $1.key }) { s += "  skipped \(n) \(k)\n" }
        for (k, n) in kinds.sorted(by: { $0.key < $1.key }) { s += "  unparsed \(n) \(k)\n" }
        return s
    }
}

/// Paths inside the package and beside it.
enum EximTestPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Fixtures/logs/exim")
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/exim")

    static var corpusPresent: Bool { FileManager.default.fileExists(atPath: corpus.path) }

    static var fixtureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return names.filter { $0.hasSuffix(".log") }.sorted()
    }
}

/// The Exim main-log and reject-log parser and correlator.
struct EximParserTests {
    static func parse(_ text: String) -> EximParseResult {
        ByteSlice.with(text) { EximLineParser.parse($0) }
    }

    static func id(_ text: String) -> EximMessageID { EximMessageID(text)! }

    // MARK: Arrivals

    struct ArrivalCase: Sendable, CustomTestStringConvertible {
        let line: String
        let expected: EximArrival
        var testDescription: String { String(line.prefix(60)) }
    }

    static let arrivals: [ArrivalCase] = [
        ArrivalCase(
            line: "1vHcQa-000000001Ab-0001 <= alice@shop1.example H=(laptop) [192.0.2.10]:50312 I=[198.51.100.1]:587 "
                + "P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:alice@shop1.example S=2345 "
                + "id=abc@shop1.example",
            expected: EximArrival(
                messageID: id("1vHcQa-000000001Ab-0001"), sender: "alice@shop1.example",
                host: EximHost(helo: "laptop", ip: "192.0.2.10", port: "50312"), protocolName: "esmtpsa",
                authenticator: "dovecot_plain", authenticatedID: "alice@shop1.example", size: 2345,
                headerMessageID: "abc@shop1.example")),
        ArrivalCase(
            line: "1jmFYj-00039V-QX <= news@shop2.example H=web1.shop2.example (helo.shop2.example) [2001:db8::7] "
                + "U=ident P=esmtp S=10240 id=<n1@shop2.example> T=\"Hello \\\"you\\\" for all\" for a@x.example "
                + "b@y.example",
            expected: EximArrival(
                messageID: id("1jmFYj-00039V-QX"), sender: "news@shop2.example",
                host: EximHost(name: "web1.shop2.example", helo: "helo.shop2.example", ip: "2001:db8::7"),
                user: "ident", protocolName: "esmtp", size: 10240, headerMessageID: "n1@shop2.example",
                recipients: ["a@x.example", "b@y.example"])),
        ArrivalCase(
            line: "1vHcQc-000000001Ad-0003 <= www-data@web3.example U=www-data P=local S=812",
            expected: EximArrival(
                messageID: id("1vHcQc-000000001Ad-0003"), sender: "www-data@web3.example", user: "www-data",
                protocolName: "local", size: 812)),
        ArrivalCase(
            line: "1jmFas-0004f6-EB <= <> R=1jmFYj-00039V-QX U=Debian-exim P=local S=8656",
            expected: EximArrival(
                messageID: id("1jmFas-0004f6-EB"), sender: "", user: "Debian-exim", protocolName: "local", size: 8656,
                bounceOf: "1jmFYj-00039V-QX")),
        ArrivalCase(
            line: "1vHcQg-000000001Ah-0007 <= \"john smith\"@shop3.example H=(pc) [192.0.2.9] P=esmtpa "
                + "A=plain:\"john \\\"js\\\" smith\" S=1000",
            expected: EximArrival(
                messageID: id("1vHcQg-000000001Ah-0007"), sender: "\"john smith\"@shop3.example",
                host: EximHost(helo: "pc", ip: "192.0.2.9"), protocolName: "esmtpa",
                authenticator: "plain", authenticatedID: "john \"js\" smith", size: 1000)),
        ArrivalCase(
            line: "1vHcQh-000000001Ai-0008 (= spam@bad.example H=(bad) [198.51.100.66] P=esmtp S=700",
            expected: EximArrival(
                messageID: id("1vHcQh-000000001Ai-0008"), sender: "spam@bad.example",
                host: EximHost(helo: "bad", ip: "198.51.100.66"), protocolName: "esmtp", size: 700)),
        ArrivalCase(
            line: "10HmaX-0005vi-00 <= CALLER@myhost.test.ex U=CALLER P=local-smtp S=sss",
            expected: EximArrival(
                messageID: id("10HmaX-0005vi-00"), sender: "CALLER@myhost.test.ex", user: "CALLER",
                protocolName: "local-smtp")),
        ArrivalCase(
            line: "1vHcQi-000000001Aj-0009 <= big@shop4.example H=(x) [ip4.ip4.ip4.ip4]:PORT_D P=esmtpa A=cram_md5 "
                + "S=99999999999999999999",
            expected: EximArrival(
                messageID: id("1vHcQi-000000001Aj-0009"), sender: "big@shop4.example",
                host: EximHost(helo: "x", ip: "ip4.ip4.ip4.ip4", port: "PORT_D"), protocolName: "esmtpa",
                authenticator: "cram_md5")),
    ]

    @Test(arguments: arrivals)
    func arrival(_ c: ArrivalCase) {
        #expect(Self.parse(c.line) == .event(.arrival(c.expected)))
    }

    // MARK: Deliveries

    struct DeliveryCase: Sendable, CustomTestStringConvertible {
        let line: String
        let expected: EximDelivery
        var testDescription: String { String(line.prefix(60)) }
    }

    static let m = id("1vHdAa-000000002Ab-0001")

    static let deliveries: [DeliveryCase] = [
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 => r1@dest.example R=dnslookup T=remote_smtp H=mx.dest.example "
                + "[203.0.113.9]:25 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 Ok: queued as A1\" "
                + "QT=1s DT=0.4s",
            expected: EximDelivery(
                messageID: m, flag: .delivered, address: "r1@dest.example", relay: "mx.dest.example[203.0.113.9]:25",
                reply: "250 2.0.0 Ok: queued as A1", dsn: "2.0.0")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 -> b@alias.example (team@shop2.example) <all@shop2.example> "
                + "F=<list@shop2.example> P=<list@shop2.example> R=aliases T=remote_smtp S=2410 H=mx.alias.example "
                + "[2001:db8::60] C=\"250 OK\"",
            expected: EximDelivery(
                messageID: m, flag: .additional, address: "b@alias.example", originalAddress: "all@shop2.example",
                relay: "mx.alias.example[2001:db8::60]", reply: "250 OK", sender: "list@shop2.example")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 >> c@cut.example R=dnslookup T=remote_smtp H=mx.cut.example "
                + "[203.0.113.61] C=\"250 2.0.0 queued\"",
            expected: EximDelivery(
                messageID: m, flag: .cutthrough, address: "c@cut.example", relay: "mx.cut.example[203.0.113.61]",
                reply: "250 2.0.0 queued", dsn: "2.0.0")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 *> CALLER <CALLER@myhost.ex> R=localuser T=local_delivery",
            expected: EximDelivery(
                messageID: m, flag: .suppressed, address: "CALLER", originalAddress: "CALLER@myhost.ex",
                relay: "local_delivery")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 ** r5@full.example R=dnslookup T=remote_smtp H=mx.full.example "
                + "[203.0.113.30]: SMTP error from remote mail server after RCPT TO:<r5@full.example>: 552 5.2.2 Full",
            expected: EximDelivery(
                messageID: m, flag: .failed, address: "r5@full.example", relay: "mx.full.example[203.0.113.30]",
                reply: "SMTP error from remote mail server after RCPT TO:<r5@full.example>: 552 5.2.2 Full",
                dsn: "5.2.2")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 ** r6@nowhere.example: Unrouteable address",
            expected: EximDelivery(
                messageID: m, flag: .failed, address: "r6@nowhere.example", reply: "Unrouteable address")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 ** e@old.example <o@shop.example> R=dnslookup T=remote_smtp: SMTP error "
                + "from remote mail server after RCPT TO:<e@old.example>: host mx.old.example [203.0.113.63]: "
                + "550 #5.1.0 Address rejected",
            expected: EximDelivery(
                messageID: m, flag: .failed, address: "e@old.example", originalAddress: "o@shop.example",
                relay: "mx.old.example[203.0.113.63]",
                reply: "SMTP error from remote mail server after RCPT TO:<e@old.example>: host mx.old.example "
                    + "[203.0.113.63]: 550 #5.1.0 Address rejected", dsn: "5.1.0")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 == r3@slow.example R=dnslookup T=remote_smtp defer (-44) H=mx.slow.example "
                + "[203.0.113.20]: SMTP error from remote mail server after RCPT TO:<r3@slow.example>: 451 4.7.1 Grey",
            expected: EximDelivery(
                messageID: m, flag: .deferred, address: "r3@slow.example", relay: "mx.slow.example[203.0.113.20]",
                reply: "SMTP error from remote mail server after RCPT TO:<r3@slow.example>: 451 4.7.1 Grey",
                dsn: "4.7.1")),
        DeliveryCase(
            line:
                "1vHdAa-000000002Ab-0001 == r4@down.example R=dnslookup T=remote_smtp defer (111): Connection refused",
            expected: EximDelivery(
                messageID: m, flag: .deferred, address: "r4@down.example", relay: "remote_smtp",
                reply: "Connection refused")),
        DeliveryCase(
            line: "1vHdAa-000000002Ab-0001 ** userx@test.ex F=<CALLER@test.ex> R=smartuser T=lmtp H=127.0.0.1 "
                + "[127.0.0.1] : SMTP error from remote mail server after RCPT TO:<userx@test.ex>: 550 Receiver BAD",
            expected: EximDelivery(
                messageID: m, flag: .failed, address: "userx@test.ex", relay: "127.0.0.1[127.0.0.1]",
                reply: "SMTP error from remote mail server after RCPT TO:<userx@test.ex>: 550 Receiver BAD",
                sender: "CALLER@test.ex")),
    ]

    @Test(arguments: deliveries)
    func delivery(_ c: DeliveryCase) {
        #expect(Self.parse(c.line) == .event(.delivery(c.expected)))
    }

    @Test func deliveryReplyIsShortenedAtACharacterBoundary() throws {
        let text = String(repeating: "é", count: 400)  // 800 bytes
        guard case .event(.delivery(let d)) = Self.parse("1vHdAa-000000002Ab-0001 ** a@b.example: \(text)") else {
            Issue.record("not a delivery")
            return
        }
        let reply = try #require(d.reply)
        #expect(reply.utf8.count == 512)
        #expect(reply == String(repeating: "é", count: 256))
    }

    // MARK: Rejections and auth failures

    struct RejectionCase: Sendable, CustomTestStringConvertible {
        let line: String
        let expected: EximRejection
        var testDescription: String { String(line.prefix(60)) }
    }

    static let rejections: [RejectionCase] = [
        RejectionCase(
            line: "H=(laptop) [192.0.2.10]:50000 I=[198.51.100.1]:25 F=<alice@shop1.example> rejected RCPT "
                + "<x@elsewhere.example>: relay not permitted",
            expected: EximRejection(
                kind: .reject, stage: "RCPT", host: EximHost(helo: "laptop", ip: "192.0.2.10", port: "50000"),
                sender: "alice@shop1.example", recipient: "x@elsewhere.example", reason: "relay not permitted")),
        RejectionCase(
            line: "H=(yakult.example) [203.0.113.80]:3755 I=[198.51.100.1]:25 F=spammer@list.example rejected RCPT "
                + "dir@elsewhere.example: relay not permitted",
            expected: EximRejection(
                kind: .reject, stage: "RCPT", host: EximHost(helo: "yakult.example", ip: "203.0.113.80", port: "3755"),
                sender: "spammer@list.example", recipient: "dir@elsewhere.example", reason: "relay not permitted")),
        RejectionCase(
            line: "H=mx.grey.example [203.0.113.81] F=<> temporarily rejected RCPT <bob@shop1.example>: greylisted",
            expected: EximRejection(
                kind: .reject, stage: "RCPT", temporary: true,
                host: EximHost(name: "mx.grey.example", ip: "203.0.113.81"), sender: "", recipient: "bob@shop1.example",
                reason: "greylisted")),
        RejectionCase(
            line: "H=[203.0.113.82] rejected connection in \"connect\" ACL",
            expected: EximRejection(
                kind: .reject, stage: "CONNECT", host: EximHost(ip: "203.0.113.82"), reason: "rejected CONNECT")),
        RejectionCase(
            line: "rejected MAIL FROM:<big@shop2.example> H=(srv) [192.0.2.21]: message too big: size=60000000 "
                + "max=52428800",
            expected: EximRejection(
                kind: .reject, stage: "MAIL", host: EximHost(helo: "srv", ip: "192.0.2.21"),
                sender: "big@shop2.example", reason: "message too big: size=60000000 max=52428800")),
        RejectionCase(
            line: "1vHeBa-000000003Ab-0001 rejected from <huge@shop2.example> U=CALLER: message too big: read=101 "
                + "max=100",
            expected: EximRejection(
                messageID: id("1vHeBa-000000003Ab-0001"), kind: .reject, stage: "DATA", sender: "huge@shop2.example",
                reason: "message too big: read=101 max=100")),
        RejectionCase(
            line: "1vHeBb-000000003Ac-0002 H=(laptop) [192.0.2.10] F=<alice@shop1.example> "
                + "A=dovecot_plain:alice@shop1.example rejected after DATA: virus found",
            expected: EximRejection(
                messageID: id("1vHeBb-000000003Ac-0002"), kind: .contentReject, stage: "END-OF-MESSAGE",
                host: EximHost(helo: "laptop", ip: "192.0.2.10"), login: "alice@shop1.example",
                sender: "alice@shop1.example", reason: "virus found")),
        RejectionCase(
            line: "1j5IBw-00064P-De F=toyaedypo@evowpmy.example H=x.example (evowpmy.example) [203.0.113.109] "
                + "P=smtp rejected by local_scan(): Rejected",
            expected: EximRejection(
                messageID: id("1j5IBw-00064P-De"), kind: .contentReject, stage: "END-OF-MESSAGE",
                host: EximHost(name: "x.example", helo: "evowpmy.example", ip: "203.0.113.109"),
                sender: "toyaedypo@evowpmy.example", reason: "Rejected")),
        RejectionCase(
            line: "H=(x) [192.0.2.12] F=<x@shop9.example> RCPT <trap@shop1.example>: discarded by RCPT ACL: trap",
            expected: EximRejection(
                kind: .discard, stage: "RCPT", host: EximHost(helo: "x", ip: "192.0.2.12"), sender: "x@shop9.example",
                recipient: "trap@shop1.example", reason: "discarded by RCPT ACL: trap")),
        RejectionCase(
            line: "rejected EHLO from [203.0.113.84]: syntactically invalid argument(s): !@#$",
            expected: EximRejection(
                kind: .reject, stage: "EHLO", host: EximHost(ip: "203.0.113.84"),
                reason: "syntactically invalid argument(s): !@#$")),
        RejectionCase(
            line: "10HmaY-0005vi-00 F=<userx@test1> rejected by non-SMTP ACL: don't like sender userx@test1",
            expected: EximRejection(
                messageID: id("10HmaY-0005vi-00"), kind: .reject, stage: "non-SMTP", sender: "userx@test1",
                reason: "don't like sender userx@test1")),
    ]

    @Test(arguments: rejections)
    func rejection(_ c: RejectionCase) {
        #expect(Self.parse(c.line) == .event(.rejection(c.expected)))
    }

    struct AuthFailureCase: Sendable, CustomTestStringConvertible {
        let line: String
        let expected: EximAuthFailure
        var testDescription: String { String(line.prefix(60)) }
    }

    static let authFailures: [AuthFailureCase] = [
        AuthFailureCase(
            line: "dovecot_login authenticator failed for ([192.0.2.5]) [192.0.2.4]:55379: 535 Incorrect "
                + "authentication data (set_id=info@shop1.example)",
            expected: EximAuthFailure(
                authenticator: "dovecot_login", host: EximHost(helo: "[192.0.2.5]", ip: "192.0.2.4", port: "55379"),
                login: "info@shop1.example", reason: "535 Incorrect authentication data")),
        AuthFailureCase(
            line: "login authenticator failed for dsl-4.isp.example [192.0.2.13]: 535 Incorrect authentication data "
                + "(set_id=user)",
            expected: EximAuthFailure(
                authenticator: "login", host: EximHost(name: "dsl-4.isp.example", ip: "192.0.2.13"), login: "user",
                reason: "535 Incorrect authentication data")),
        AuthFailureCase(
            line: "login authenticator failed for (ylmf-pc) [203.0.113.86]: 535 Incorrect authentication data",
            expected: EximAuthFailure(
                authenticator: "login", host: EximHost(helo: "ylmf-pc", ip: "203.0.113.86"),
                reason: "535 Incorrect authentication data")),
        AuthFailureCase(
            line: "plain authenticator failed for H=(pc) [2001:db8::99] U=CALLER: 535 Incorrect authentication data "
                + "(set_id=eve)",
            expected: EximAuthFailure(
                authenticator: "plain", host: EximHost(helo: "pc", ip: "2001:db8::99"), login: "eve",
                reason: "535 Incorrect authentication data")),
    ]

    @Test(arguments: authFailures)
    func authFailure(_ c: AuthFailureCase) {
        #expect(Self.parse(c.line) == .event(.authFailure(c.expected)))
    }

    // MARK: Skipped and unparsed lines

    struct VerdictCase: Sendable, CustomTestStringConvertible {
        let line: String
        let expected: EximParseResult
        var testDescription: String { String(line.prefix(60)) }
    }

    static let verdicts: [VerdictCase] = [
        VerdictCase(line: "1vHdAa-000000002Ab-0001 Completed", expected: .event(.completed(m))),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 Completed QT=6s", expected: .event(.completed(m))),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 removed by root", expected: .event(.removed(m))),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 Frozen (delivery error message)", expected: .skipped(.frozen)),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 Message is frozen", expected: .skipped(.frozen)),
        VerdictCase(
            line: "1vHdAa-000000002Ab-0001 no immediate delivery: load average 12.50", expected: .skipped(.queueNote)),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 retry time not reached", expected: .skipped(.queueNote)),
        VerdictCase(
            line: "1vHdAa-000000002Ab-0001 H=mx.down.example [203.0.113.40] Connection refused",
            expected: .skipped(.messageNote)),
        VerdictCase(line: "1vHdAa-000000002Ab-0001 my own logwrite text", expected: .skipped(.messageNote)),
        VerdictCase(
            line: "1vHdAa-000000002Ab-0001 plain authenticator failed H=smart.example [203.0.113.7] 535 No",
            expected: .skipped(.clientAuthFailure)),
        VerdictCase(
            line: "SMTP connection from (pc) [192.0.2.11]:40000 I=[198.51.100.1]:25 (TCP/IP connection count = 1)",
            expected: .skipped(.connection)),
        VerdictCase(line: "no host name found for IP address 192.0.2.11", expected: .skipped(.hostLookup)),
        VerdictCase(
            line: "SMTP protocol error in \"AUTH LOGIN\" H=(User) [192.0.2.29]:4816 I=[198.51.100.1]:25 no",
            expected: .skipped(.protocolError)),
        VerdictCase(
            line: "unexpected disconnection while reading SMTP command from (pc) [192.0.2.11]:40001",
            expected: .skipped(.protocolError)),
        VerdictCase(
            line: "TLS error on connection from (pc) [192.0.2.11]:40002 (SSL_accept): unsupported protocol",
            expected: .skipped(.tls)),
        VerdictCase(line: "Start queue run: pid=1240", expected: .skipped(.daemon)),
        VerdictCase(line: "End queue run: pid=1240", expected: .skipped(.daemon)),
        VerdictCase(
            line: "exim 4.97 daemon started: pid=1234, -q30m, listening for SMTP on [198.51.100.1]:25",
            expected: .skipped(.daemon)),
        VerdictCase(
            line: "H=(pc) [192.0.2.11] sender verify fail for <bounce@bad.example>: Unrouteable address",
            expected: .skipped(.aclNote)),
        VerdictCase(
            line: "H=([192.0.2.163]) [192.0.2.168] Warning: unknown recipient a@shop1.example from x@bad.example",
            expected: .skipped(.aclNote)),
        VerdictCase(line: "remote         [127.0.0.3]:10001", expected: .skipped(.freeText)),
        VerdictCase(line: "[2/3] rest of a long line", expected: .skipped(.syslogContinuation)),
        // Invalid and hostile input.
        VerdictCase(line: "1vHiFa-000000006Ab-0001 <=", expected: .unparsed("exim: arrival without sender")),
        VerdictCase(line: "1vHiFa-000000006Ab-0001 =>", expected: .unparsed("exim: delivery without address")),
        VerdictCase(line: "1vHiFa-000000006Ab-0001 **  ", expected: .unparsed("exim: delivery without address")),
        VerdictCase(line: "1vHiFa-000000006Ab-0001", expected: .unparsed("exim: message ID alone")),
        VerdictCase(line: "1vHiFa-0005vi-0000 <= a@b.example", expected: .unparsed("exim: malformed message ID")),
        VerdictCase(line: "H=[", expected: .unparsed("exim: session line")),
        VerdictCase(line: "H=(x) [192.0.2.1] rejected", expected: .unparsed("exim: session line")),
        VerdictCase(line: "x authenticator failed for", expected: .unparsed("exim: authenticator line")),
        VerdictCase(line: "", expected: .unparsed("exim: empty line")),
    ]

    @Test(arguments: verdicts)
    func verdict(_ c: VerdictCase) {
        #expect(Self.parse(c.line) == c.expected)
    }

    @Test func hostileSizeIsDroppedButTheArrivalKept() {
        guard case .event(.arrival(let a)) = Self.parse("1vHiFb-000000006Ac-0002 <= a@b.example S=99999999999999999999")
        else {
            Issue.record("not an arrival")
            return
        }
        #expect(a.size == nil)
        #expect(a.sender == "a@b.example")
    }

    @Test func truncatedLinesNeverCrash() {
        let lines =
            Self.arrivals.map(\.line) + Self.deliveries.map(\.line) + Self.rejections.map(\.line)
            + Self.authFailures.map(\.line)
        for line in lines {
            let bytes = Array(line.utf8)
            for n in 0...bytes.count {
                let cut = String(decoding: bytes[0..<n], as: UTF8.self)
                _ = Self.parse(cut)
            }
        }
    }

    // MARK: Message IDs and helpers

    @Test(arguments: ["1jmFYj-00039V-QX", "10HmaX-000000005vi-0000", "1vHcQa-000000001Ab-000A"])
    func messageIDRoundTrips(_ text: String) throws {
        let id = try #require(EximMessageID(text))
        #expect(id.description == text)
        let data = try JSONEncoder().encode([id])
        #expect(try JSONDecoder().decode([EximMessageID].self, from: data) == [id])
    }

    @Test(arguments: [
        "1jmFYj-00039V-Q", "1jmFYj-00039V-QXa", "1jmFYj_00039V-QX", "1jmFYj-00039V-Q!", "1jmFYj-000000039V-QX",
        "1jmFYj-00000000039V-QXab", "",
    ])
    func invalidMessageIDs(_ text: String) {
        #expect(EximMessageID(text) == nil)
    }

    @Test(
        arguments: [
            ("250 2.0.0 Ok: queued", "2.0.0"), ("550 5.1.1 <a@b>: unknown", "5.1.1"), ("550 #5.1.0 rejected", "5.1.0"),
            ("451 4.7.1 Greylisted", "4.7.1"), ("host [203.0.113.5]: 550 no", nil), ("421 try later", nil),
            ("5.7.1.2 not a code", nil),
        ] as [(String, String?)])
    func enhancedStatus(_ text: String, _ expected: String?) {
        #expect(ByteSlice.with(text) { EximLineParser.enhancedStatus($0) } == expected)
    }

    @Test(arguments: [
        ("Envelope-from: <a@b.example>", true), ("Envelope-to: <a@b.example>", true), ("    <c@d.example>", true),
        ("P Received: from [192.0.2.10]", true), ("I Message-Id: <v1@shop1.example>", true),
        ("  Subject: invoice", true), ("\tby relay.example", true), ("*** truncated ***", true),
        ("garbage without a stamp", false), ("2026-11-09 16:00:1", false), ("X no colon here", false),
    ])
    func rejectLogHeaderLines(_ line: String, _ expected: Bool) {
        #expect(ByteSlice.with(line) { EximLineParser.isRejectLogHeader($0) } == expected)
    }

    // MARK: Envelopes of Exim lines

    struct StampCase: Sendable, CustomTestStringConvertible {
        let line: String
        let time: String
        let pid: String?
        let host: String?
        var testDescription: String { line }
    }

    static let stamps: [StampCase] = [
        StampCase(
            line: "2026-11-09 00:02:48 1vHcQa-000000001Ab-0001 Completed", time: "2026-11-09T00:02:48Z",
            pid: nil, host: nil),
        StampCase(
            line: "2026-11-09 00:02:48.123 1vHcQa-000000001Ab-0001 Completed", time: "2026-11-09T00:02:48Z",
            pid: nil, host: nil),
        StampCase(
            line: "2026-11-09 00:02:48 +0100 1vHcQa-000000001Ab-0001 Completed", time: "2026-11-08T23:02:48Z",
            pid: nil, host: nil),
        StampCase(
            line: "2026-11-09 00:02:48 -0500 [77] 1vHcQa-000000001Ab-0001 Completed",
            time: "2026-11-09T05:02:48Z", pid: "77", host: nil),
        StampCase(
            line: "2026-11-09 00:02:48.123 +0100 [4711] 1vHcQa-000000001Ab-0001 Completed",
            time: "2026-11-08T23:02:48Z", pid: "4711", host: nil),
        StampCase(
            line: "2026-11-09 00:02:48 [4711] 1vHcQa-000000001Ab-0001 Completed", time: "2026-11-09T00:02:48Z",
            pid: "4711", host: nil),
        StampCase(
            line: "2026-11-09T00:02:48.5+01:00 mx2 exim[12]: 2026-11-09 00:02:48 1vHcQa-000000001Ab-0001 "
                + "Completed", time: "2026-11-08T23:02:48Z", pid: "12", host: "mx2"),
        StampCase(
            line: "2026-11-09T00:02:48Z mx2 exim4[12]: [1/1] 1vHcQa-000000001Ab-0001 Completed",
            time: "2026-11-09T00:02:48Z", pid: "12", host: "mx2"),
    ]

    /// The envelope reads every Exim stamp variant, and the parser finds the message line behind it.
    @Test(arguments: stamps)
    func eximStamp(_ c: StampCase) throws {
        var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: nil, reference: 0)
        try ByteSlice.with(c.line) { bytes in
            let env = try envelopes.parse(bytes).get()
            #expect(CivilDate.iso8601(env.time) == c.time)
            #expect(env.pid?.string == c.pid)
            #expect(env.host?.string == c.host)
            #expect(EximLineParser.parse(env.message) == .event(.completed(Self.id("1vHcQa-000000001Ab-0001"))))
        }
    }

    @Test func classicSyslogLine() throws {
        var envelopes = EnvelopeParser(timeZone: TimeZone(identifier: "UTC")!, pinnedYear: 2026, reference: 0)
        try ByteSlice.with("Nov  9 00:02:48 mx3 exim[1234]: 1vHcQa-000000001Ab-0001 => a@b.example R=r T=t") {
            let env = try envelopes.parse($0).get()
            #expect(env.program?.string == "exim")
            #expect(CivilDate.iso8601(env.time) == "2026-11-09T00:02:48Z")
            guard case .event(.delivery(let d)) = EximLineParser.parse(env.message) else {
                Issue.record("not a delivery")
                return
            }
            #expect(d.address == "a@b.example")
        }
    }

    // MARK: Correlation across flushes and runs

    /// 2026-11-09 at `hour:minute:second` UTC.
    static func at(_ hour: Int, _ minute: Int, _ second: Int) -> Int64 {
        CivilTime.epoch(year: 2026, month: 11, day: 9, hour: hour, minute: minute, second: second)
    }

    static let a = "1vHdAa-000000002Ab-0001"
    static let b = "1vHdAb-000000002Ac-0002"

    @Test func openMessagesAreRewrittenAndContinueInTheNextRun() throws {
        var first = EximFeed(rowIDs: RowIDAllocator(next: 100))
        first.feed(
            """
            2026-11-09 09:00:00 \(Self.a) <= alice@shop1.example H=(l) [192.0.2.10] P=esmtpsa A=plain:alice S=10
            2026-11-09 09:00:01 \(Self.a) == r@slow.example R=dnslookup T=remote_smtp defer (-44): 451 4.7.1 later
            2026-11-09 09:00:02 \(Self.b) <= bob@shop3.example U=bob P=local S=5
            2026-11-09 09:00:03 \(Self.b) => x@dest.example R=dnslookup T=remote_smtp
            2026-11-09 09:00:03 \(Self.b) Completed
            """)
        let out1 = first.correlator.flush()
        #expect(out1.messages.map(\.record.queueID) == [Self.a, Self.b])
        #expect(out1.messages.map(\.replaces) == [false, false])
        #expect(out1.messages.map(\.record.rowID) == [100, 101])
        #expect(out1.messages.map(\.record.completedAt) == [nil, Self.at(9, 0, 3)])
        #expect(out1.openStates.map(\.id) == [OpenStateKey(mta: .exim, host: "mx1.example", key: Self.a)])
        #expect(out1.openStates.map(\.lastSeen) == [Self.at(9, 0, 1)])
        #expect(out1.closedStates.isEmpty)
        // Only what changed since the last flush is written again.
        #expect(first.correlator.flush().isEmpty)
        first.feed("2026-11-09 09:05:00 \(Self.a) == r@slow.example R=dnslookup T=remote_smtp defer (-44): 451 again")
        let out2 = first.correlator.flush()
        #expect(out2.messages.map(\.replaces) == [true])
        #expect(out2.messages.map(\.record.rowID) == [100])
        #expect(out2.messages.first?.record.recipients.map(\.attempts) == [2])
        #expect(out2.openStates.count == 1)

        // The next run restores the saved state and finishes the message.
        var second = EximFeed(rowIDs: RowIDAllocator(next: 200))
        try second.correlator.restore(out2.openStates)
        #expect(second.correlator.openMessageCount == 1)
        second.feed(
            """
            2026-11-09 09:20:00 \(Self.a) => r@slow.example R=dnslookup T=remote_smtp H=mx.slow.example [203.0.113.20]
            2026-11-09 09:20:00 \(Self.a) Completed
            """)
        #expect(second.verdicts == [.parsed, .parsed])
        let out3 = second.correlator.flush()
        let record = try #require(out3.messages.first?.record)
        #expect(out3.messages.map(\.replaces) == [true])
        #expect(record.rowID == 100)
        #expect(record.account == "sasl:alice")
        #expect(record.recipients.map(\.outcome) == [.delivered])
        #expect(record.recipients.map(\.attempts) == [3])
        #expect(record.completedAt == Self.at(9, 20, 0))
        #expect(out3.openStates.isEmpty)
        #expect(out3.closedStates == [OpenStateKey(mta: .exim, host: "mx1.example", key: Self.a)])
        #expect(second.correlator.openMessageCount == 0)
    }

    /// A list message's recipients are found through a hash index; two addresses a sender chose to share its hash
    /// (this pair does; found by inverting the unkeyed hash) stay two recipients with their own outcomes.
    @Test func recipientsSharingAnIndexHashStayApart() throws {
        var lines = [
            "2026-11-09 01:01:50 \(Self.a) <= sender@origin.example H=(pc) [198.51.100.216] P=esmtpsa A=plain:u1 S=1000"
        ]
        for n in 1...16 {
            lines.append(
                "2026-11-09 01:01:52 \(Self.a) => filler\(n)@dest.example R=dnslookup T=remote_smtp H=mx.dest.example")
        }
        let (good, bad) = ("aliceaaabxaaad_a@victim.example", "tquwfygj*^5b`^*c@victim.example")
        lines += [
            "2026-11-09 01:01:53 \(Self.a) => \(good) R=dnslookup T=remote_smtp H=mx.victim.example [203.0.113.9]",
            "2026-11-09 01:01:53 \(Self.a) ** \(bad) R=dnslookup T=remote_smtp H=mx.victim.example [203.0.113.9]: "
                + "SMTP error from remote mail server after RCPT TO:<\(bad)>: 550 5.1.1 User unknown",
            "2026-11-09 01:01:54 \(Self.a) Completed",
        ]
        var feed = EximFeed()
        feed.feed(lines.joined(separator: "\n"))
        let record = try #require(feed.correlator.flush().messages.first?.record)
        #expect(record.recipients.count == 18)
        let victims = record.recipients.filter { $0.address.hasSuffix("@victim.example") }
        #expect(victims.map(\.address) == [good, bad])
        #expect(victims.map(\.outcome) == [.delivered, .bounced])
        #expect(victims.map(\.attempts) == [1, 1])
    }

    @Test func expiredMessagesAreWrittenOnceMoreAndForgotten() {
        var feed = EximFeed()
        feed.feed("2026-11-09 09:00:00 \(Self.a) <= alice@shop1.example H=(l) [192.0.2.10] P=esmtp S=10")
        let saved = feed.correlator.flush()
        #expect(saved.openStates.count == 1)
        #expect(feed.correlator.expire(lastSeenBefore: Self.at(9, 0, 0)) == 0)
        #expect(feed.correlator.expire(lastSeenBefore: Self.at(9, 0, 1)) == 1)
        let out = feed.correlator.flush()
        #expect(out.messages.map(\.replaces) == [true])
        #expect(out.messages.first?.record.completedAt == nil)
        #expect(out.closedStates == [OpenStateKey(mta: .exim, host: "mx1.example", key: Self.a)])
        // A late line for a forgotten message is not a message of its own.
        feed.feed("2026-11-09 12:00:00 \(Self.a) => late@dest.example R=dnslookup T=remote_smtp")
        #expect(feed.verdicts.last == .skipped)
        #expect(feed.correlator.flush().isEmpty)
    }

    @Test func restoringSomethingElseFails() {
        let correlator = EximCorrelator(rowIDs: RowIDAllocator(next: 1))
        let bad = OpenState(id: OpenStateKey(mta: .exim, host: "h", key: "k"), body: Data("{}".utf8), lastSeen: 0)
        #expect(throws: (any Error).self) { try correlator.restore([bad]) }
        // States of other MTAs are not ours to read.
        let postfix = OpenState(id: OpenStateKey(mta: .postfix, host: "h", key: "k"), body: Data(), lastSeen: 0)
        #expect(throws: Never.self) { try correlator.restore([postfix]) }
    }

    // MARK: Duplicates

    static let refusal = "2026-11-09 11:00:00 H=(pc) [192.0.2.11] F=<x@bad.example> rejected RCPT <a@shop1.example>: no"

    @Test(arguments: [
        ("mainlog", 2), ("/var/log/exim4/mainlog.1", 2), ("/var/log/exim4/rejectlog", 0), ("exim_rejectlog.2.gz", 0),
        ("/var/log/exim/rejectlog-20261109", 0), ("rejects.log", 2),
    ])
    func rejectLogRejectionsAreTheMainLogsCopies(_ file: String, _ kept: Int) {
        var feed = EximFeed()
        feed.feed(Self.refusal + "\n" + Self.refusal, file: file)
        #expect(feed.correlator.flush().rejects.count == kept)
        #expect(feed.unparsed.isEmpty)
    }

    @Test func syslogDuplicationIsCountedOnce() {
        let line = "2026-11-09T11:00:00+00:00 mx2 exim[42]: H=(pc) [192.0.2.11] F=<x@bad.example> rejected RCPT <a@b>"
        let other = line.replacingOccurrences(of: "exim[42]", with: "exim[43]")
        var feed = EximFeed()
        feed.feed([line, line, other, line].joined(separator: "\n"))
        #expect(feed.verdicts == [.parsed, .skipped, .parsed, .parsed])
        #expect(feed.correlator.flush().rejects.count == 3)
    }

    // MARK: Accounts

    @Test(
        arguments: [
            (
                "<= a@shop1.example H=(l) [192.0.2.10] P=esmtpsa A=dovecot_plain:a@shop1.example S=1", "smtp",
                "sasl:a@shop1.example"
            ),
            ("<= a@shop1.example H=mx.shop1.example [192.0.2.10] P=esmtp S=1", "smtp", "ip:192.0.2.10"),
            ("<= a@shop1.example H=(l) [192.0.2.10] P=esmtpa A=cram_md5 S=1", "smtp", "ip:192.0.2.10"),
            ("<= a@shop1.example U=www-data P=local S=1", "local", "local:www-data"),
            ("<= a@shop1.example U=root P=local-smtp S=1", "local", "local:root"),
            ("<= a@shop1.example U=root P=local-esmtpa A=plain:root S=1", "local", "sasl:root"),
            ("<= <> R=1vHdAa-000000002Ab-0001 U=Debian-exim P=local S=1", "generated", nil),
            ("<= <> H=mx.remote.example [203.0.113.50] P=esmtp S=1", "smtp", "ip:203.0.113.50"),
        ] as [(String, String, String?)])
    func account(_ text: String, _ origin: String, _ account: String?) throws {
        var feed = EximFeed()
        feed.feed("2026-11-09 09:00:00 \(Self.b) \(text)")
        let record = try #require(feed.correlator.flush().messages.first?.record)
        #expect(record.origin.rawValue == origin)
        #expect(record.account == account)
    }

    // MARK: Goldens

    @Test(arguments: EximTestPaths.fixtureNames)
    func golden(fixture: String) throws {
        let url = EximTestPaths.fixtures.appendingPathComponent(fixture)
        let text = try String(contentsOf: url, encoding: .utf8)
        var feed = EximFeed()
        feed.feed(text, file: fixture)
        let output = feed.correlator.flush()
        let actual = output.goldenText() + feed.summary
        let goldenURL = url.deletingPathExtension().appendingPathExtension("golden")
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
            try actual.write(to: goldenURL, atomically: true, encoding: .utf8)
            Issue.record("recorded \(goldenURL.lastPathComponent); run again without RECORD_SNAPSHOTS")
            return
        }
        let expected = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(actual == expected, "\(fixture): output differs from \(goldenURL.lastPathComponent)")
    }

    // MARK: Corpus

    @Test(.enabled(if: EximTestPaths.corpusPresent, "../shared/corpus/exim is absent: corpus test skipped"))
    func corpusIsClassified() throws {
        let dir = EximTestPaths.corpus
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".log") }
            .sorted()
        var total = 0
        var kinds: [String: Int] = [:]
        var unparsedLines: [String] = []
        for name in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            var feed = EximFeed()
            feed.feed(lines.joined(separator: "\n"), file: name)
            _ = feed.correlator.flush()
            total += feed.verdicts.count
            for (line, verdict) in zip(lines, feed.verdicts) {
                guard case .unparsed(let kind) = verdict else { continue }
                kinds[kind, default: 0] += 1
                unparsedLines.append("\(kind)\t\(name)\t\(line)")
            }
        }
        // EXIM_CORPUS_DUMP=/path writes every unparsed line there, for a closer look.
        if let path = ProcessInfo.processInfo.environment["EXIM_CORPUS_DUMP"] {
            try unparsedLines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let bad = kinds.values.reduce(0, +)
        let share = Double(total - bad) / Double(max(total, 1)) * 100
        print(String(format: "exim corpus: %d lines, %.2f %% classified (parsed or knowingly skipped)", total, share))
        for (k, n) in kinds.sorted(by: { $0.value > $1.value }).prefix(10) { print("  unparsed \(n) \(k)") }
        #expect(total > 18_000)
        #expect(share >= 99.0)
    }
}
