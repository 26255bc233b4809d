import Foundation
import Testing

@testable import Ingest

/// The public expectation files of other Postfix parsers (`../shared/corpus/postfix/*-expectations.jsonl`): the
/// fields relaysum extracts must agree with theirs on every line of those kinds.
@Suite(.enabled(if: TestPaths.corpusPresent, "../shared/corpus is absent: expectation tests skipped"))
struct PostfixExpectationTests {
    /// What relaysum extracted from one line, under the expectation files' field meanings.
    struct Extracted {
        var fields: [String: String] = [:]
    }

    static func extract(daemon: String, body: String) -> Extracted? {
        let result = ByteSlice.with(daemon) { d in
            ByteSlice.with(body) { PostfixLineParser.parse(daemon: d, message: $0) }
        }
        guard case .event(let e) = result else { return nil }
        var x = Extracted()
        switch e {
        case .client(let q, let c):
            x.fields = ["qid": q.string, "client_ip": c.ip]
            if let u = c.saslUsername { x.fields["sasl_username"] = u }
            if let m = c.saslMethod { x.fields["sasl_method"] = m }
        case .pickup(let q, let uid, let sender, _): x.fields = ["qid": q.string, "uid": uid, "from": sender]
        case .messageID(let q, let id): x.fields = ["qid": q.string, "message-id": id]
        case .queued(let q, let s, let size, let n):
            x.fields = ["qid": q.string, "from": s]
            if let size { x.fields["size"] = String(size) }
            if let n { x.fields["nrcpt"] = String(n) }
        case .expired(let q, let s): x.fields = ["qid": q.string, "status": "expired", "from": s]
        case .removed(let q): x.fields = ["qid": q.string]
        case .delivery(let q, let d):
            x.fields = ["qid": q.string, "to": d.to, "status": d.status.rawValue]
            if let o = d.origTo { x.fields["orig_to"] = o }
            if let r = d.relay { x.fields["relay"] = r }
            if let dsn = d.dsn { x.fields["dsn"] = dsn }
        case .notification(let q, let n): x.fields = ["qid": q.string, "bounce_qid": n]
        case .reject(let r):
            x.fields = ["qid": r.queueID ?? "NOQUEUE"]
            if let ip = r.clientIP { x.fields["client_ip"] = ip }
            if let s = r.sender { x.fields["from"] = s }
            if let t = r.recipient { x.fields["to"] = t }
        case .authFailure(_, let ip, _, _, let login):
            x.fields = ["client_ip": ip]
            if let login { x.fields["sasl_username"] = login }
        }
        return x
    }

    /// `to=<a>, relay=b, dsn=c,` → ["to": "a", "relay": "b", "dsn": "c"] (the grok files' keyvalue_data).
    static func keyValues(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            var v = String(part[part.index(after: eq)...])
            if v.hasPrefix("<") && v.hasSuffix(">") { v = String(v.dropFirst().dropLast()) }
            out[String(part[..<eq])] = v
        }
        return out
    }

    static func records(_ name: String) throws -> [[String: Any]] {
        let url = TestPaths.corpus.appendingPathComponent("postfix/\(name)")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func grokExpectations() throws {
        let daemons = [
            "SMTPD": "smtpd", "SMTP": "smtp", "QMGR": "qmgr", "CLEANUP": "cleanup", "BOUNCE": "bounce",
            "PICKUP": "pickup", "LOCAL": "local", "LMTP": "lmtp", "PIPE": "pipe", "ERROR": "error",
            "VIRTUAL": "virtual", "DISCARD": "discard", "RELAY": "relay",
        ]
        var checked = 0
        for rec in try Self.records("grok-expectations.jsonl") {
            guard let pattern = rec["pattern"] as? String, let line = rec["line"] as? String,
                let fields = rec["fields"] as? [String: String]
            else { continue }
            let key = pattern.replacingOccurrences(of: "^%{POSTFIX_", with: "").replacingOccurrences(of: "}$", with: "")
            guard let daemon = daemons[key] else { continue }
            guard let x = Self.extract(daemon: daemon, body: line) else { continue }
            var expected: [String: String] = [:]
            if let q = fields["postfix_queueid"] { expected["qid"] = q }
            if let ip = fields["postfix_client_ip"] { expected["client_ip"] = ip }
            if let id = fields["postfix_message-id"] { expected["message-id"] = id }
            if let s = fields["postfix_status"] { expected["status"] = s }
            if let b = fields["postfix_bounce_queueid"] { expected["bounce_qid"] = b }
            if let kv = fields["postfix_keyvalue_data"] {
                let pairs = Self.keyValues(kv)
                for k in ["to", "orig_to", "relay", "dsn", "from", "size", "nrcpt", "uid", "sasl_username"] {
                    if let v = pairs[k] { expected[k] = v }
                }
                if let c = pairs["client"], let open = c.firstIndex(of: "["), let close = c.lastIndex(of: "]") {
                    expected["client_ip"] = String(c[c.index(after: open)..<close])
                }
            }
            for (k, v) in expected where x.fields[k] != nil || ["qid", "to", "status", "from"].contains(k) {
                #expect(x.fields[k] == v, "\(k) of \(line)")
            }
            checked += 1
        }
        print("grok expectations: \(checked) lines of stored kinds checked")
        #expect(checked >= 40)
    }

    @Test func msimersonExpectations() throws {
        var checked = 0
        for rec in try Self.records("msimerson-expectations.jsonl") {
            guard let line = rec["line"] as? String, let fields = rec["fields"] as? [String: String] else { continue }
            let daemon: String
            let body: String
            if (rec["kind"] as? String) == "syslog-line" {
                guard let prog = fields["prog"], prog.hasPrefix("postfix"), let r = line.range(of: "]: ") else {
                    continue
                }
                daemon = String(prog.split(separator: "/").last!)
                body = String(line[r.upperBound...])
            } else {
                guard let prog = rec["program"] as? String, prog.hasPrefix("postfix/") else { continue }
                daemon = String(prog.split(separator: "/").last!)
                body = line
            }
            guard let x = Self.extract(daemon: daemon, body: body) else { continue }
            for k in ["qid", "to", "orig_to", "relay", "dsn", "from", "size", "nrcpt", "message-id", "sasl_username"] {
                if let v = fields[k] { #expect(x.fields[k] == v, "\(k) of \(line)") }
            }
            if let status = fields["status"], let first = status.split(separator: " ").first {
                // msimerson reports `status=sent (forwarded as …)` as "forwarded": Postfix's status word is `sent`.
                let word = first == "forwarded" ? "sent" : first.trimmingCharacters(in: .punctuationCharacters)
                #expect(x.fields["status"] == word, "status of \(line)")
            }
            if let client = fields["client"], let open = client.firstIndex(of: "[") {
                let ip = client[client.index(after: open)...].prefix { $0 != "]" }
                #expect(x.fields["client_ip"] == String(ip), "client of \(line)")
            }
            checked += 1
        }
        print("msimerson expectations: \(checked) lines of stored kinds checked")
        #expect(checked >= 25)
    }
}
