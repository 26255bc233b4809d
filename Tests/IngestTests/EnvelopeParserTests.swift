import Foundation
import Store
import Testing

@testable import Ingest

@Suite struct EnvelopeParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var line: String
        var time: String
        var style: StampStyle
        var host: String?
        var program: String?
        var pid: String?
        var message: String
        var testDescription: String { line }
    }

    static let utc = TimeZone(identifier: "UTC")!

    @Test(arguments: [
        Case(
            line: "Nov  9 00:02:48 relay1 postfix/smtpd[123]: connect from x[192.0.2.1]",
            time: "2026-11-09T00:02:48Z", style: .classic, host: "relay1", program: "postfix/smtpd", pid: "123",
            message: "connect from x[192.0.2.1]"),
        Case(
            line: "Nov 19 10:02:48 relay1 postfix/submission/smtpd[9]: x", time: "2026-11-19T10:02:48Z",
            style: .classic, host: "relay1", program: "postfix/submission/smtpd", pid: "9", message: "x"),
        Case(
            line: "Nov 09 00:02:48.123456 relay1 postfix-out/qmgr[1]: y", time: "2026-11-09T00:02:48Z",
            style: .classic, host: "relay1", program: "postfix-out/qmgr", pid: "1", message: "y"),
        Case(
            line: "2026-11-09T00:02:48.123456+01:00 relay2 postfix/10025/smtpd[77]: z", time: "2026-11-08T23:02:48Z",
            style: .rfc3339, host: "relay2", program: "postfix/10025/smtpd", pid: "77", message: "z"),
        Case(
            line: "2026-11-09T00:02:48Z relay2 postfix/qmgr: no pid", time: "2026-11-09T00:02:48Z", style: .rfc3339,
            host: "relay2", program: "postfix/qmgr", pid: nil, message: "no pid"),
        Case(
            line: "2026-11-09T00:02:48-05:30 h p[1]: m", time: "2026-11-09T05:32:48Z", style: .rfc3339, host: "h",
            program: "p", pid: "1", message: "m"),
        Case(
            line: "<22>1 2026-11-09T00:02:48.5Z relay3 postfix/smtp 3121 - - 5C3D: to=<a@b.example>",
            time: "2026-11-09T00:02:48Z", style: .rfc5424, host: "relay3", program: "postfix/smtp", pid: "3121",
            message: "5C3D: to=<a@b.example>"),
        Case(
            line: "<22>1 2026-11-09T00:02:48Z relay3 postfix/qmgr 1 ID47 [a b=\"c]\\\" d\"][e] text here",
            time: "2026-11-09T00:02:48Z", style: .rfc5424, host: "relay3", program: "postfix/qmgr", pid: "1",
            message: "text here"),
        Case(
            line: "<30>Nov  9 00:02:48 relay1 postfix/pickup[5]: w", time: "2026-11-09T00:02:48Z", style: .classic,
            host: "relay1", program: "postfix/pickup", pid: "5", message: "w"),
        Case(
            line: "2026-11-09 00:02:48 1tAbCd-000000005vi-0000 <= a@b.example", time: "2026-11-09T00:02:48Z",
            style: .exim, host: nil, program: nil, pid: nil, message: "1tAbCd-000000005vi-0000 <= a@b.example"),
        Case(
            line: "2026-11-09 00:02:48.123 +0100 [4321] 1tAbCd-0005vi-00 Completed", time: "2026-11-08T23:02:48Z",
            style: .exim, host: nil, program: nil, pid: "4321", message: "1tAbCd-0005vi-00 Completed"),
        Case(
            line: "Nov  9 00:02:48 relay1 exim[99]: 1tAbCd-0005vi-00 Completed", time: "2026-11-09T00:02:48Z",
            style: .classic, host: "relay1", program: "exim", pid: "99", message: "1tAbCd-0005vi-00 Completed"),
    ])
    func parses(_ c: Case) throws {
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: 2026, reference: 0)
        let e = try ByteSlice.with(c.line) { try p.parse($0).get() }
        #expect(CivilDate.iso8601(e.time) == c.time)
        #expect(e.style == c.style)
        #expect(e.host?.string == c.host)
        #expect(e.program?.string == c.program)
        #expect(e.pid?.string == c.pid)
        #expect(e.message.string == c.message)
    }

    @Test(arguments: [
        ("", EnvelopeError.unknownStamp),
        ("hello world, this is not a log line", .unknownStamp),
        ("Nov 31 00:02:48 relay1 postfix/qmgr[1]: removed", .impossibleDate),
        ("Feb 29 00:02:48 relay1 postfix/qmgr[1]: removed", .impossibleDate),  // 2026 is not a leap year
        ("Nov  9 25:02:48 relay1 postfix/qmgr[1]: removed", .impossibleDate),
        ("2026-13-09T00:02:48Z relay1 postfix/qmgr[1]: removed", .impossibleDate),
        ("Nov  9 00:02:48 ", .missingHost),
        ("2026-11-09 00:02:48", .unknownStamp),
    ])
    func rejects(_ line: String, _ error: EnvelopeError) {
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: 2026, reference: 0)
        let r = ByteSlice.with(line) { p.parse($0) }
        #expect(throws: error) { try r.get() }
    }

    /// Classic stamps have no year: the first is placed no later than a day after the file's time, and the year
    /// rolls over at New Year.
    @Test func yearIsInferredAndRollsOverAtNewYear() throws {
        let reference = CivilTime.epoch(year: 2027, month: 1, day: 3, hour: 12, minute: 0, second: 0)
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: nil, reference: reference)
        let lines = [
            "Dec 30 23:59:58 h postfix/qmgr[1]: a", "Dec 31 23:59:59 h postfix/qmgr[1]: b",
            "Jan  1 00:00:01 h postfix/qmgr[1]: c", "Jan  3 08:00:00 h postfix/qmgr[1]: d",
        ]
        let times = try lines.map { line in try ByteSlice.with(line) { try p.parse($0).get().time } }
        #expect(
            times.map(CivilDate.iso8601) == [
                "2026-12-30T23:59:58Z", "2026-12-31T23:59:59Z", "2027-01-01T00:00:01Z", "2027-01-03T08:00:00Z",
            ])
    }

    @Test func pinnedYearAppliesToTheFirstLine() throws {
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: 2019, reference: 0)
        let t = try ByteSlice.with("Dec 31 23:00:00 h postfix/qmgr[1]: a") { try p.parse($0).get().time }
        #expect(CivilDate.iso8601(t) == "2019-12-31T23:00:00Z")
        let u = try ByteSlice.with("Jan  1 01:00:00 h postfix/qmgr[1]: a") { try p.parse($0).get().time }
        #expect(CivilDate.iso8601(u) == "2020-01-01T01:00:00Z")
    }

    /// Classic stamps are local time in `--timezone`, across a daylight-saving change.
    @Test func classicStampsAreReadInTheGivenZone() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        var p = EnvelopeParser(timeZone: berlin, pinnedYear: 2026, reference: 0)
        let summer = try ByteSlice.with("Jul  1 12:00:00 h postfix/qmgr[1]: a") { try p.parse($0).get().time }
        let winter = try ByteSlice.with("Nov  1 12:00:00 h postfix/qmgr[1]: a") { try p.parse($0).get().time }
        #expect(CivilDate.iso8601(summer) == "2026-07-01T10:00:00Z")
        #expect(CivilDate.iso8601(winter) == "2026-11-01T11:00:00Z")
    }

    /// Exim stamps of the minute of the line before are read from its remembered minute: each line still gets its
    /// own second, and a bad second or another minute is read in full.
    @Test func eximStampsOfTheSameMinute() {
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: 2026, reference: 0)
        let lines = [
            "2026-11-09 00:02:48 1tAbCd-0005vi-00 Completed", "2026-11-09 00:02:59 1tAbCd-0005vi-00 Completed",
            "2026-11-09 00:02:60 1tAbCd-0005vi-00 Completed", "2026-11-09 00:02:61 1tAbCd-0005vi-00 Completed",
            "2026-11-09 00:02:5x 1tAbCd-0005vi-00 Completed", "2026-11-09 00:02-59 1tAbCd-0005vi-00 Completed",
            "2026-11-10 00:02:07 1tAbCd-0005vi-00 Completed", "2026-11-10 00:02:08.5 +0100 1tAbCd-0005vi-00 Completed",
            "2026-11-10 00:03:00 1tAbCd-0005vi-00 Completed", "2026-11-10 00:03:01",
        ]
        let times = lines.map { line in
            ByteSlice.with(line) { s -> String in
                switch p.parse(s) {
                case .success(let e): return CivilDate.iso8601(e.time)
                case .failure(let error): return error.rawValue
                }
            }
        }
        #expect(
            times == [
                "2026-11-09T00:02:48Z", "2026-11-09T00:02:59Z", "2026-11-09T00:02:59Z", "impossible date",
                "no syslog or Exim time stamp", "no syslog or Exim time stamp", "2026-11-10T00:02:07Z",
                "2026-11-09T23:02:08Z", "2026-11-10T00:03:00Z", "no syslog or Exim time stamp",
            ])
    }

    /// Classic stamps of the minute of the line before are read from its remembered minute, and a repeated stamp
    /// from the remembered stamp: the times are those of reading each line in full, also around a line placed in
    /// the year before (out of order).
    @Test func classicStampsOfTheSameMinute() {
        var p = EnvelopeParser(timeZone: Self.utc, pinnedYear: 2026, reference: 0)
        let stamps = [
            "Jan  5 10:00:01", "Jan  5 10:00:30", "Jan  5 10:00:60", "Dec 31 23:59:58", "Dec 31 23:59:58",
            "Dec 31 23:59:59", "Dec 31 23:59:59.5", "Jan  5 10:01:00", "Jan  5 10:01:61", "Jan  5 10:01:0x",
            "Jan 5 10:01:02", "Jan  5 10:01:03",
        ]
        let times = stamps.map { stamp in
            ByteSlice.with(stamp + " h postfix/qmgr[1]: a") { s -> String in
                switch p.parse(s) {
                case .success(let e): return CivilDate.iso8601(e.time)
                case .failure(let error): return error.rawValue
                }
            }
        }
        #expect(
            times == [
                "2026-01-05T10:00:01Z", "2026-01-05T10:00:30Z", "2026-01-05T10:00:59Z", "2025-12-31T23:59:58Z",
                "2025-12-31T23:59:58Z", "2026-12-31T23:59:59Z", "2026-12-31T23:59:59Z", "2027-01-05T10:01:00Z",
                "impossible date", "no syslog or Exim time stamp", "2027-01-05T10:01:02Z", "2027-01-05T10:01:03Z",
            ])
    }
}
