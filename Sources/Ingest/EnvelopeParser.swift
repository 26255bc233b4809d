import Foundation
import Store

/// Which stamp a line carried.
package enum StampStyle: String, Sendable {
    /// `Nov  9 00:02:48 host prog[pid]: …` (RFC 3164; no year, local time).
    case classic
    /// `2026-11-09T00:02:48.123456+01:00 host prog[pid]: …` (rsyslog's default since Debian 12).
    case rfc3339
    /// `<22>1 2026-11-09T00:02:48.123Z host prog 123 - - …`
    case rfc5424
    /// Exim's own `2026-11-09 00:02:48[.123] [+0100] [[pid]] …` (no host, no program).
    case exim
}

/// The syslog wrapper of one log line: when, where, which program, and the program's own text.
package struct Envelope: Sendable {
    /// Seconds since the Unix epoch, UTC.
    package var time: Int64
    package var style: StampStyle
    /// The syslog host name; nil for Exim's own log format.
    package var host: ByteSlice?
    /// The syslog tag without the pid (`postfix/smtpd`, `exim4`); nil for Exim's own log format.
    package var program: ByteSlice?
    /// The process id, from `prog[pid]` or Exim's `+pid` selector.
    package var pid: ByteSlice?
    /// The program's own text after `: `.
    package var message: ByteSlice
}

/// Why a line's envelope could not be read.
package enum EnvelopeError: String, Error, Sendable {
    case unknownStamp = "no syslog or Exim time stamp"
    case impossibleDate = "impossible date"
    case missingHost = "no host or program after the stamp"
    /// Another program's own log format found in a mail log (PHP/Roundcube `[20-Oct-2020 14:56:10 +0100]: …`).
    case foreignFormat = "another program's log format"
}

/// Reads the envelope of each line of one file: the stamp (inferring the year of classic stamps, rolling over
/// at New Year), the host, the program and the pid.
///
/// Classic stamps carry no year and no zone; they are read in `timeZone`. The year of the first classic stamp is
/// `pinnedYear` if given, else the latest year that puts the stamp no later than one day after `reference`
/// (the file's modification time), so a file written in January that starts in December gets last year.
package struct EnvelopeParser {
    private var zone: ZoneConverter
    private let reference: Int64
    private var year: Int?
    private var lastMonth = 0
    /// The minute of the last classic stamp read, when it had the usual layout (`Nov  9 00:02:SS`): its first 13
    /// bytes and the instant of its second 0. Most lines repeat the minute of the line before them, and comparing
    /// 13 bytes and reading two digits costs much less than reading a date. (`ZoneConverter` takes one offset for
    /// each local hour, so the seconds add to the instant as they do to the wall clock.)
    private var lastMinute: (head: (UInt64, UInt64), time: Int64)?
    /// The last classic stamp read in full (up to its clock's end) and its instant: a line repeating it gets the same
    /// instant even when its minute is not reusable (a line placed in the year before, out of order, whose next
    /// line of another second is placed in the current year).
    private var lastStamp: (head: (UInt64, UInt64), time: Int64)?
    /// The same for Exim's stamp, to the minute: its first 16 bytes (`2026-11-09 00:02`, two words) and the wall
    /// clock time of that minute, already checked. Most lines repeat the minute of the line before them.
    private var lastEximMinute: (head: (UInt64, UInt64), wall: Int64)?

    package init(timeZone: TimeZone, pinnedYear: Int? = nil, reference: Int64) {
        self.zone = ZoneConverter(timeZone: timeZone)
        self.reference = reference
        self.year = pinnedYear
    }

    /// The month named by the first three bytes of `s` (`Jan` … `Dec`, as syslog writes them), or nil. A switch
    /// on the packed bytes: a dictionary lookup hashed them with SipHash on every new stamp.
    @inline(__always) private static func month(_ s: ByteSlice) -> Int? {
        func packed(_ name: StaticString) -> UInt32 {
            let u = name.utf8Start
            return UInt32(u[0]) << 16 | UInt32(u[1]) << 8 | UInt32(u[2])
        }
        let key = UInt32(s[0]) << 16 | UInt32(s[1]) << 8 | UInt32(s[2])
        switch key {
        case packed("Jan"): return 1
        case packed("Feb"): return 2
        case packed("Mar"): return 3
        case packed("Apr"): return 4
        case packed("May"): return 5
        case packed("Jun"): return 6
        case packed("Jul"): return 7
        case packed("Aug"): return 8
        case packed("Sep"): return 9
        case packed("Oct"): return 10
        case packed("Nov"): return 11
        case packed("Dec"): return 12
        default: return nil
        }
    }

    /// Parses the envelope of `line` (without its line end).
    package mutating func parse(_ line: ByteSlice) -> Result<Envelope, EnvelopeError> {
        var s = line
        // An optional `<PRI>` as written by some relays and by RFC 5424 senders.
        if s.count > 3 && s[0] == UInt8(ascii: "<") {
            var i = 1
            while i < s.count && i < 5 && isDigit(s[i]) { i += 1 }
            if i < s.count && s[i] == UInt8(ascii: ">") && i > 1 {
                s = s.dropFirst(i + 1)
                if s.count > 2 && s[0] == UInt8(ascii: "1") && s[1] == 0x20 {
                    return parseRFC5424(s.dropFirst(2))
                }
            }
        }
        guard s.count >= 16 else { return .failure(.unknownStamp) }
        if s[0] == UInt8(ascii: "["), s.count > 28, s[3] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"),
            digits(s, 8, 4) != nil, clock(s, 13) != nil
        {
            return .failure(.foreignFormat)
        }
        if isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == UInt8(ascii: "-") {
            if s[10] == UInt8(ascii: "T") { return parseRFC3339Line(s) }
            if s[10] == 0x20 { return parseExim(s) }
            return .failure(.unknownStamp)
        }
        return parseClassic(s)
    }

    // MARK: classic `Nov  9 00:02:48 host prog[pid]: msg`

    private mutating func parseClassic(_ s: ByteSlice) -> Result<Envelope, EnvelopeError> {
        if s[15] == 0x20 {
            if let last = lastMinute, Self.head(s) == last.head, let sec = digits(s, 13, 2), sec < 61 {
                return hostAndProgram(s.dropFirst(16), time: last.time + Int64(min(sec, 59)), style: .classic)
            }
            if let last = lastStamp, Self.stamp(s) == last.head {
                return hostAndProgram(s.dropFirst(16), time: last.time, style: .classic)
            }
        }
        guard let month = Self.month(s), s[3] == 0x20 else { return .failure(.unknownStamp) }
        var i = 4
        var day = 0
        if s[i] == 0x20 { i += 1 }
        while i < s.count && isDigit(s[i]) && i < 7 {
            day = day * 10 + Int(s[i] - 48)
            i += 1
        }
        guard i + 9 <= s.count, s[i] == 0x20, let (h, m, sec) = clock(s, i + 1) else { return .failure(.unknownStamp) }
        let clockAt = i + 1
        i += 9
        // Postfix's own maillog_file and some syslog daemons add a fraction.
        if i < s.count && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.count && isDigit(s[i]) { i += 1 }
        }
        guard i < s.count, s[i] == 0x20 else { return .failure(.unknownStamp) }
        let y = inferYear(month: month, day: day)
        guard CivilTime.isValid(year: y, month: month, day: day), h < 24, m < 60, sec < 61 else {
            return .failure(.impossibleDate)
        }
        let local = CivilTime.epoch(year: y, month: month, day: day, hour: h, minute: m, second: 0)
        let minute = zone.utc(fromLocal: local)
        let time = minute + Int64(min(sec, 59))
        // The minute is reusable when the clock starts at byte 7 (`Nov  9 `, `Nov 19 `: the next line's seconds are
        // then at 13) and the line got the current year (the next line of this month then gets it too).
        lastMinute = clockAt == 7 && y == year ? (Self.head(s), minute) : nil
        // The stamp when it ends at 15 bytes (no fraction): the next line then repeats all of it or differs.
        lastStamp = i == 15 ? (Self.stamp(s), time) : nil
        return hostAndProgram(s.dropFirst(i + 1), time: time, style: .classic)
    }

    /// The first 16 bytes of `s` (at least 16 long) as two words.
    @inline(__always) private static func head16(_ s: ByteSlice) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(s.base)
        return (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// The first 15 bytes of `s` (at least 16 long) as two overlapping words: bytes 0–7 and 7–14.
    @inline(__always) private static func stamp(_ s: ByteSlice) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(s.base)
        return (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 7, as: UInt64.self))
    }

    /// The first 13 bytes of `s` (at least 16 long) as two overlapping words: bytes 0–7 and 5–12.
    @inline(__always) private static func head(_ s: ByteSlice) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(s.base)
        return (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 5, as: UInt64.self))
    }

    private mutating func inferYear(month: Int, day: Int) -> Int {
        if let y = year {
            // New Year: December followed by January (allow some disorder within a half year).
            if month < lastMonth && lastMonth - month >= 6 {
                year = y + 1
            } else if month > lastMonth && month - lastMonth >= 6 && lastMonth != 0 {
                // A line from before New Year after one from January (out of order across files): last year.
                lastMonth = month
                return y - 1
            }
            lastMonth = month
            return year!
        }
        let ref = CivilDate.components(reference + 86_400)
        var y = ref.year
        if month > ref.month || (month == ref.month && day > ref.day) { y -= 1 }
        year = y
        lastMonth = month
        return y
    }

    // MARK: RFC 3339 `2026-11-09T00:02:48.123456+01:00 host prog[pid]: msg`

    private mutating func parseRFC3339Line(_ s: ByteSlice) -> Result<Envelope, EnvelopeError> {
        switch rfc3339(s) {
        case .failure(let e): return .failure(e)
        case .success(let (t, end)):
            guard end < s.count, s[end] == 0x20 else { return .failure(.unknownStamp) }
            return hostAndProgram(s.dropFirst(end + 1), time: t, style: .rfc3339)
        }
    }

    /// Parses an RFC 3339 stamp at the start of `s`; returns the UTC instant and the index after it.
    private mutating func rfc3339(_ s: ByteSlice) -> Result<(Int64, Int), EnvelopeError> {
        guard s.count >= 19, let y = digits(s, 0, 4), let mo = digits(s, 5, 2), let d = digits(s, 8, 2),
            s[7] == UInt8(ascii: "-"), let (h, m, sec) = clock(s, 11)
        else { return .failure(.unknownStamp) }
        guard CivilTime.isValid(year: y, month: mo, day: d), h < 24, m < 60, sec < 61 else {
            return .failure(.impossibleDate)
        }
        var i = 19
        if i < s.count && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.count && isDigit(s[i]) { i += 1 }
        }
        let wall = CivilTime.epoch(year: y, month: mo, day: d, hour: h, minute: m, second: min(sec, 59))
        guard i < s.count else { return .failure(.unknownStamp) }
        let c = s[i]
        if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") { return .success((wall, i + 1)) }
        if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            guard i + 6 <= s.count, let oh = digits(s, i + 1, 2), s[i + 3] == UInt8(ascii: ":"),
                let om = digits(s, i + 4, 2)
            else { return .failure(.unknownStamp) }
            // RFC 3339 §5.6: time-hour 00–23, time-minute 00–59.
            guard oh < 24 && om < 60 else { return .failure(.impossibleDate) }
            let offset = Int64(oh * 3600 + om * 60) * (c == UInt8(ascii: "+") ? 1 : -1)
            return .success((wall - offset, i + 6))
        }
        // No zone: read as local time in the configured zone.
        return .success((zone.utc(fromLocal: wall), i))
    }

    // MARK: RFC 5424 `<PRI>1 STAMP HOST APP PROCID MSGID [SD] MSG`

    private mutating func parseRFC5424(_ s: ByteSlice) -> Result<Envelope, EnvelopeError> {
        switch rfc3339(s) {
        case .failure(let e): return .failure(e)
        case .success(let (t, end)):
            var fields: [ByteSlice] = []
            var i = end + 1
            while fields.count < 4 {
                guard i < s.count, let sp = s.firstIndex(of: 0x20, from: i) else { return .failure(.missingHost) }
                fields.append(s.slice(i, sp))
                i = sp + 1
            }
            // Structured data: `-` or one or more `[id k="v" …]` elements.
            if i < s.count && s[i] == UInt8(ascii: "[") {
                var inQuote = false
                var depth = 0
                while i < s.count {
                    let c = s[i]
                    if inQuote {
                        if c == UInt8(ascii: "\\") {
                            i += 1
                        } else if c == UInt8(ascii: "\"") {
                            inQuote = false
                        }
                    } else if c == UInt8(ascii: "\"") {
                        inQuote = true
                    } else if c == UInt8(ascii: "[") {
                        depth += 1
                    } else if c == UInt8(ascii: "]") {
                        depth -= 1
                    } else if c == 0x20 && depth == 0 {
                        break
                    }
                    i += 1
                }
                i += 1
            } else {
                i += 2  // "- "
            }
            var message = s.dropFirst(min(i, s.count))
            // A UTF-8 byte-order mark may open the message.
            if message.hasPrefix("\u{FEFF}") { message = message.dropFirst(3) }
            let nil5424 = { (f: ByteSlice) -> ByteSlice? in f.equals("-") ? nil : f }
            return .success(
                Envelope(
                    time: t, style: .rfc5424, host: nil5424(fields[0]), program: nil5424(fields[1]),
                    pid: nil5424(fields[2]), message: message))
        }
    }

    // MARK: Exim `2026-11-09 00:02:48[.123] [+0100] [[pid]] msg`

    private mutating func parseExim(_ s: ByteSlice) -> Result<Envelope, EnvelopeError> {
        let wall: Int64
        if let last = lastEximMinute, s.count >= 19, Self.head16(s) == last.head, s[16] == UInt8(ascii: ":"),
            let sec = digits(s, 17, 2), sec < 61
        {
            wall = last.wall + Int64(min(sec, 59))
        } else {
            guard let y = digits(s, 0, 4), let mo = digits(s, 5, 2), let d = digits(s, 8, 2),
                s[7] == UInt8(ascii: "-"), let (h, m, sec) = clock(s, 11)
            else { return .failure(.unknownStamp) }
            guard CivilTime.isValid(year: y, month: mo, day: d), h < 24, m < 60, sec < 61 else {
                return .failure(.impossibleDate)
            }
            let minute = CivilTime.epoch(year: y, month: mo, day: d, hour: h, minute: m, second: 0)
            lastEximMinute = (Self.head16(s), minute)
            wall = minute + Int64(min(sec, 59))
        }
        var i = 19
        if i < s.count && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.count && isDigit(s[i]) { i += 1 }
        }
        var time: Int64? = nil
        // `+0100` / `-0500` after the stamp (log_timezone).
        if i + 6 <= s.count && s[i] == 0x20 && (s[i + 1] == UInt8(ascii: "+") || s[i + 1] == UInt8(ascii: "-")),
            let oh = digits(s, i + 2, 2), let om = digits(s, i + 4, 2),
            i + 6 == s.count || s[i + 6] == 0x20
        {
            let offset = Int64(oh * 3600 + om * 60) * (s[i + 1] == UInt8(ascii: "+") ? 1 : -1)
            time = wall - offset
            i += 6
        }
        guard i < s.count, s[i] == 0x20 else { return .failure(.unknownStamp) }
        i += 1
        // Some syslog daemons write this stamp too: `2016-04-01 11:08:00 host exim[8003]: …`.
        if time == nil, let sp = s.firstIndex(of: 0x20, from: i), sp > i,
            s.hasPrefix("exim", at: sp + 1) || s.hasPrefix("postfix", at: sp + 1),
            let colon = s.firstIndex(of: ": ", from: sp + 1),
            s.slice(sp + 1, colon).firstIndex(of: 0x20) == nil
        {
            return hostAndProgram(s.dropFirst(i), time: zone.utc(fromLocal: wall), style: .exim)
        }
        var pid: ByteSlice? = nil
        // `[1234]` from the +pid selector (digits only: `[192.0.2.1] …` is text; Exim's test suite writes `[p1234]`).
        if i < s.count && s[i] == UInt8(ascii: "["), let close = s.firstIndex(of: UInt8(ascii: "]"), from: i),
            close > i + 1, close + 1 < s.count, s[close + 1] == 0x20,
            (i + 1..<close).allSatisfy({ s[$0] &- 48 < 10 || ($0 == i + 1 && s[$0] == UInt8(ascii: "p")) })
        {
            pid = s.slice(i + 1, close)
            i = close + 2
        }
        let t = time ?? zone.utc(fromLocal: wall)
        return .success(Envelope(time: t, style: .exim, host: nil, program: nil, pid: pid, message: s.dropFirst(i)))
    }

    // MARK: host and tag

    /// Reads `host prog[pid]: message` after the stamp.
    private func hostAndProgram(_ s: ByteSlice, time: Int64, style: StampStyle) -> Result<Envelope, EnvelopeError> {
        // Short scans, word by word in place: a call to `memchr` costs more than the host name's few words.
        guard let sp = s.firstIndex(of: 0x20, 0x20, 0x20), sp > 0 else { return .failure(.missingHost) }
        let host = s.slice(0, sp)
        let rest = s.dropFirst(sp + 1)
        // The tag ends at ": " (or "[pid]: "); a bare "host message" line has no tag.
        if let i = rest.firstIndex(of: UInt8(ascii: "["), UInt8(ascii: ":"), 0x20) {
            let c = rest[i]
            if c == UInt8(ascii: "["),
                let close = rest.firstIndex(of: UInt8(ascii: "]"), UInt8(ascii: "]"), UInt8(ascii: "]"), from: i)
            {
                let program = rest.slice(0, i)
                let pid = rest.slice(i + 1, close)
                var j = close + 1
                if j < rest.count && rest[j] == UInt8(ascii: ":") { j += 1 }
                if j < rest.count && rest[j] == 0x20 { j += 1 }
                return .success(
                    Envelope(
                        time: time, style: style, host: host, program: program, pid: pid, message: rest.dropFirst(j)))
            }
            if c == UInt8(ascii: ":") {
                let program = rest.slice(0, i)
                var j = i + 1
                if j < rest.count && rest[j] == 0x20 { j += 1 }
                return .success(
                    Envelope(
                        time: time, style: style, host: host, program: program, pid: nil, message: rest.dropFirst(j))
                )
            }
        }
        return .success(Envelope(time: time, style: style, host: host, program: nil, pid: nil, message: rest))
    }

    // MARK: digits

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

    @inline(__always) private func digits(_ s: ByteSlice, _ at: Int, _ n: Int) -> Int? {
        guard at + n <= s.count else { return nil }
        var v = 0
        for k in at..<(at + n) {
            let d = s[k] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    /// `HH:MM:SS` at `at`.
    @inline(__always) private func clock(_ s: ByteSlice, _ at: Int) -> (Int, Int, Int)? {
        guard at + 8 <= s.count, s[at + 2] == UInt8(ascii: ":"), s[at + 5] == UInt8(ascii: ":"),
            let h = digits(s, at, 2), let m = digits(s, at + 3, 2), let sec = digits(s, at + 6, 2)
        else { return nil }
        return (h, m, sec)
    }
}
