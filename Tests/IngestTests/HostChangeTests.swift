import Testing

@testable import Ingest

/// The relay name a line is stored under when Postfix and syslog Exim lines of different hosts interleave.
@Suite struct HostChangeTests {
    /// A Postfix line of the host an Exim line named just before is stored under that host, not under the host of
    /// the Postfix line before the Exim one.
    @Test func postfixLineAfterEximLineOfItsHost() throws {
        let w = try IncrementalIngestTests.Workspace()
        try w.write(
            "mail.log",
            [
                "Nov  9 00:02:48 mxa postfix/qmgr[1500]: 4NmB1q0Bt7z9vKp: from=<alice@shop1.example>, size=2345, nrcpt=1 (queue active)",
                "Nov  9 00:02:49 mxb exim[99]: 1tAbCd-0005vi-00 Completed",
                "Nov  9 00:02:50 mxb postfix/smtpd[2101]: 4NmC2B0Xyz: client=mail.shop1.example[192.0.2.10]",
                "Nov  9 00:02:50 mxb postfix/qmgr[1501]: 4NmC2B0Xyz: from=<bob@b.example>, size=100, nrcpt=1 (queue active)",
                "Nov  9 00:02:51 mxb postfix/smtp[2120]: 4NmC2B0Xyz: to=<c@dest.example>, relay=mx.dest.example[203.0.113.9]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
                "Nov  9 00:02:52 mxb postfix/qmgr[1501]: 4NmC2B0Xyz: removed",
            ][...])
        try w.ingest(["mail.log"])
        let rows = try w.dump()
        #expect(rows.contains { $0.hasPrefix("mxb 4NmC2B0Xyz ") }, "\(rows)")
        #expect(!rows.contains { $0.hasPrefix("mxa 4NmC2B0Xyz ") }, "\(rows)")
    }
}
