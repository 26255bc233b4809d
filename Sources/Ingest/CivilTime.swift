import Foundation

/// Calendar arithmetic without Foundation's `Calendar` on the hot path.
package enum CivilTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    @inline(__always) package static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Seconds since the epoch of a wall-clock time read as UTC.
    @inline(__always) package static func epoch(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    ) -> Int64 {
        days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Whether the date exists (February 30th does not).
    package static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return day <= (month == 2 && leap ? 29 : lengths[month - 1])
    }
}

/// Turns local wall-clock times into UTC instants for one time zone, caching the offset per hour.
package struct ZoneConverter {
    package let timeZone: TimeZone
    private var cachedHour: Int64 = .min
    private var cachedOffset: Int64 = 0

    package init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// The UTC instant of a wall-clock time in this zone. In the repeated hour of a DST change the earlier
    /// instant is taken; in the skipped hour, the offset in force before the change.
    package mutating func utc(fromLocal local: Int64) -> Int64 {
        let hour = local >= 0 ? local / 3600 : (local - 3599) / 3600
        if hour != cachedHour {
            // The offset at (local - offset) is the answer; two rounds settle it around a transition.
            var offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(hour * 3600))))
            offset = Int64(
                timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(hour * 3600 - offset))))
            cachedHour = hour
            cachedOffset = offset
        }
        return local - cachedOffset
    }
}
