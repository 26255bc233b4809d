import Foundation
import Store
import Testing

/// Writes the database `Benchmarks/report-bench.sh` times reports on: `RELAYSUM_BENCH_MESSAGES` (default 10 million)
/// synthetic messages of a billing month, through `RelayStore.write` as an ingest would (batches, open messages
/// rewritten later), so the aggregates are the ones ingest keeps. Runs only when `RELAYSUM_BENCH_DB` names the file.
///
/// The traffic: 4 relays, 5,000 customers with Zipf-like activity (70 % SASL logins roaming over up to 4 client
/// addresses, 25 % IP-authorised, 5 % local), 1–6 sender addresses each (some on subdomains, some on foreign
/// domains), 1–40 recipients a message (2.8 on average) over 20,000 recipient domains, 3 % rejected attempts and
/// 1 % failed logins per message.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RELAYSUM_BENCH_DB"] != nil, "RELAYSUM_BENCH_DB not set"))
struct ReportBenchmarkDatabase {
    struct Customer {
        var account: String
        var senders: [String]
        var clientIPs: [String]
        var host: String
    }

    @Test func synthesise() throws {
        let env = ProcessInfo.processInfo.environment
        let path = try #require(env["RELAYSUM_BENCH_DB"])
        let total = Int(env["RELAYSUM_BENCH_MESSAGES"] ?? "") ?? 10_000_000
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try RelayStore(path: path)
        var rng = SeededGenerator(seed: 2026)

        let hosts = ["relay1.example", "relay2.example", "relay3.example", "relay4.example"]
        var customers: [Customer] = []
        for c in 0..<5000 {
            let domain = c % 10 == 0 ? "cust\(c).co.uk" : "cust\(c).example"
            let kind = Int.random(in: 0..<100, using: &rng)
            var senders = (0..<Int.random(in: 1...6, using: &rng)).map { i in
                ["info", "news", "billing", "alice", "bob", "noreply"][i] + "@" + domain
            }
            if c % 7 == 0 { senders.append("newsletter@mail.\(domain)") }
            if c % 33 == 0 { senders.append("ceo@partner\(c % 50).example") }
            let ip = { (n: Int) in "198.51.\(n / 250 % 250).\(n % 250 + 1)" }
            let account: String
            var ips: [String]
            if kind < 70 {
                account = "sasl:" + senders[0]
                ips = (0..<Int.random(in: 1...4, using: &rng)).map { _ in ip(Int.random(in: 0..<60_000, using: &rng)) }
            } else if kind < 95 {
                ips = [ip(100_000 + c)]
                account = "ip:" + ips[0]
            } else {
                account = "local:\(1000 + c)"
                ips = []
            }
            customers.append(Customer(account: account, senders: senders, clientIPs: ips, host: hosts[c % hosts.count]))
        }
        // Zipf-like activity (s = 1.1) over customers and over recipient domains.
        func cumulative(_ n: Int) -> [Double] {
            var sum = 0.0
            return (1...n).map { i in
                sum += 1 / pow(Double(i), 1.1)
                return sum
            }
        }
        let customerWeights = cumulative(customers.count)
        let domainWeights = cumulative(20_000)
        func pick(_ weights: [Double]) -> Int {
            let x = Double.random(in: 0..<weights.last!, using: &rng)
            var lo = 0
            var hi = weights.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if weights[mid] < x { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        let start = utc("2026-10-01T00:00:00Z")
        let month: Int64 = 31 * 86_400
        let batchSize = 20_000
        var open: [MessageRecord] = []
        var rowID: Int64 = 1
        var written = 0
        var recipientRows = 0
        let began = Date()
        while written < total {
            var batch = WriteBatch()
            // Messages left open by the previous batch end now: rewritten with their final outcomes.
            for var m in open {
                m.recipients = m.recipients.map { r in
                    var r = r
                    r.outcome = r.outcome == .deferred ? .delivered : r.outcome
                    return r
                }
                m.completedAt = m.receivedAt + 600
                batch.messages.append(MessageWrite(record: m, replaces: true))
            }
            open = []
            for _ in 0..<min(batchSize, total - written) {
                let c = customers[pick(customerWeights)]
                let at = start + Int64(written) * month / Int64(total) + Int64.random(in: 0..<60, using: &rng)
                let n =
                    Int.random(in: 0..<100, using: &rng) == 0
                    ? 40 : [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 8].randomElement(using: &rng)!
                var recipients: [RecipientRecord] = []
                for i in 0..<n {
                    let d = pick(domainWeights)
                    let roll = Int.random(in: 0..<100, using: &rng)
                    recipients.append(
                        RecipientRecord(
                            address: "u\(i)x\(Int.random(in: 0..<500, using: &rng))@dest\(d).example",
                            outcome: roll < 93 ? .delivered : roll < 97 ? .deferred : .bounced))
                }
                let m = MessageRecord(
                    rowID: rowID, host: c.host, mta: .postfix, queueID: String(rowID, radix: 16, uppercase: true),
                    origin: c.clientIPs.isEmpty ? .local : .smtp, account: c.account,
                    clientIP: c.clientIPs.randomElement(using: &rng),
                    sender: c.senders.randomElement(using: &rng)!, size: Int64.random(in: 800...120_000, using: &rng),
                    announcedRecipients: n, receivedAt: at, completedAt: at + 2, recipients: recipients)
                rowID += 1
                written += 1
                recipientRows += n
                batch.messages.append(MessageWrite(record: m, replaces: false))
                if Int.random(in: 0..<100, using: &rng) == 0 { open.append(m) }
                if Int.random(in: 0..<100, using: &rng) < 3 {
                    batch.rejects.append(
                        RejectRecord(
                            host: c.host, mta: .postfix, at: at, kind: .reject, stage: "RCPT",
                            clientIP: "203.0.113.\(Int.random(in: 1...254, using: &rng))", sender: m.sender,
                            recipient: "x@dest\(pick(domainWeights)).example", code: "554", dsn: "5.7.1",
                            reason: "Relay access denied"))
                }
                if Int.random(in: 0..<100, using: &rng) == 0 {
                    batch.authFailures.append(
                        AuthFailureRecord(
                            host: c.host, mta: .postfix, at: at,
                            clientIP: "198.18.0.\(Int.random(in: 1...254, using: &rng))",
                            login: c.senders[0], mechanism: "LOGIN", reason: "authentication failure"))
                }
            }
            try store.write(batch)
        }
        var last = WriteBatch()
        last.messages = open.map { MessageWrite(record: $0, replaces: true) }
        try store.write(last)
        let seconds = Date().timeIntervalSince(began)
        let summary: [String: Any] = [
            "messages": written, "recipient_rows": recipientRows, "seconds": seconds,
            "messages_per_second": Double(written) / seconds,
            "database_bytes": (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0,
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        try json.write(to: URL(fileURLWithPath: path + ".json"))
        print("synthesised: \(String(decoding: json, as: UTF8.self))")
    }
}
