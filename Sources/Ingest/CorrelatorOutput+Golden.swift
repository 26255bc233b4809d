import Store

extension CorrelatorOutput {
    /// A readable, stable text of the records, one per line, for golden-file tests and `--debug` output.
    ///
    /// Messages are listed by queue ID and receive time; open snapshots and state keys are left out (they are
    /// covered by the incremental tests).
    package func goldenText() -> String {
        var lines: [String] = []
        let sorted = messages.map(\.record).sorted {
            ($0.receivedAt, $0.host, $0.queueID) < ($1.receivedAt, $1.host, $1.queueID)
        }
        for m in sorted {
            var l = "message \(m.host) \(m.queueID) at=\(CivilDate.iso8601(m.receivedAt)) origin=\(m.origin.rawValue)"
            l += " account=\(m.account ?? "-") from=<\(m.sender)>"
            l += " size=\(m.size.map(String.init) ?? "-") nrcpt=\(m.announcedRecipients.map(String.init) ?? "-")"
            l += " client=\(m.clientName ?? "-")[\(m.clientIP ?? "-")] msgid=\(m.messageID ?? "-")"
            l += " done=\(m.completedAt.map(CivilDate.iso8601) ?? "open")"
            lines.append(l)
            for r in m.recipients.sorted(by: { $0.address < $1.address }) {
                var rl = "  rcpt <\(r.address)>"
                if let o = r.originalAddress { rl += " orig=<\(o)>" }
                rl += " \(r.outcome.rawValue) attempts=\(r.attempts) dsn=\(r.dsn ?? "-") relay=\(r.relay ?? "-")"
                lines.append(rl)
            }
        }
        for r in rejects.sorted(by: { ($0.at, $0.reason) < ($1.at, $1.reason) }) {
            var l = "reject \(r.host) at=\(CivilDate.iso8601(r.at)) kind=\(r.kind.rawValue) stage=\(r.stage ?? "-")"
            l += " client=\(r.clientName ?? "-")[\(r.clientIP ?? "-")] login=\(r.login ?? "-")"
            l += " from=<\(r.sender ?? "-")> to=<\(r.recipient ?? "-")> code=\(r.code ?? "-") dsn=\(r.dsn ?? "-")"
            l += " reason=\(r.reason)"
            lines.append(l)
        }
        for a in authFailures.sorted(by: { ($0.at, $0.clientIP ?? "") < ($1.at, $1.clientIP ?? "") }) {
            var l =
                "authfail \(a.host) at=\(CivilDate.iso8601(a.at)) client=\(a.clientName ?? "-")[\(a.clientIP ?? "-")]"
            l += " login=\(a.login ?? "-") mechanism=\(a.mechanism ?? "-") reason=\(a.reason)"
            lines.append(l)
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}
