import Foundation

/// Reads `--since`/`--until` values: an ISO 8601 date or date-time, or a span back from now (`30m`, `24h`, `7d`, `2w`).
package enum TimeBound {
    package struct Invalid: Error, CustomStringConvertible {
        package var value: String
        package var description: String {
            "invalid time '\(value)': expected an ISO 8601 date or date-time (2026-11-09, 2026-11-09T14:30, "
                + "2026-11-09T14:30:00Z) or a span back from now (30m, 24h, 7d, 2w)"
        }
    }

    /// Seconds since the epoch (UTC) of `text`; dates and times without a zone are read in `timeZone`.
    package static func parse(_ text: String, now: Int64, timeZone: TimeZone) throws -> Int64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let unit = t.last, let n = Int64(t.dropLast()), n >= 0, n < 100_000 {
            let seconds: Int64? =
                switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86_400
                case "w": 7 * 86_400
                default: nil
                }
            if let seconds { return now - n * seconds }
        }
        let u = Array(t.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= u.count else { return nil }
            var v = 0
            for b in u[from..<(from + len)] {
                guard b >= 48 && b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard u.count >= 10, let y = num(0, 4), u[4] == 45, let mo = num(5, 2), u[7] == 45, let d = num(8, 2),
            (1...12).contains(mo), d >= 1, d <= 31
        else { throw Invalid(value: text) }
        var h = 0
        var mi = 0
        var s = 0
        var i = 10
        if i < u.count {
            guard u[i] == UInt8(ascii: "T") || u[i] == UInt8(ascii: " "), let hh = num(i + 1, 2), i + 3 < u.count,
                u[i + 3] == 58, let mm = num(i + 4, 2), hh < 24, mm < 60
            else { throw Invalid(value: text) }
            h = hh
            mi = mm
            i += 6
            if i < u.count && u[i] == 58 {
                guard let ss = num(i + 1, 2), ss < 61 else { throw Invalid(value: text) }
                s = min(ss, 59)
                i += 3
                if i < u.count && u[i] == UInt8(ascii: ".") {
                    i += 1
                    while i < u.count && u[i] >= 48 && u[i] <= 57 { i += 1 }
                }
            }
        }
        let wall = days(y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + s)
        if i == u.count {
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall)))
            return wall - Int64(offset)
        }
        if u[i] == UInt8(ascii: "Z") && i + 1 == u.count { return wall }
        if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign: Int64 = u[i] == UInt8(ascii: "+") ? 1 : -1
            if let oh = num(i + 1, 2) {
                var om = 0
                var j = i + 3
                if j < u.count && u[j] == 58 { j += 1 }
                if j < u.count {
                    guard let m = num(j, 2) else { throw Invalid(value: text) }
                    om = m
                    j += 2
                }
                if j == u.count { return wall - sign * Int64(oh * 3600 + om * 60) }
            }
        }
        throw Invalid(value: text)
    }

    private static func days(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }
}
