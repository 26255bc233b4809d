import Foundation
import Testing

@testable import Store

/// How a period splits into day buckets, hour buckets and rows.
@Suite struct TimePlanTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var since: String?
        var until: String?
        var spans: [Int64]
        /// `D from..to`, `H from..to` and `R from..to`, with `-` for unbounded.
        var plan: [String]
        /// Days whose buckets are stale.
        var stale: [String] = []
        var testDescription: String { label }
    }

    static let hourAndDay = [RelayStore.daySeconds, RelayStore.hourSeconds]

    @Test(arguments: [
        Case(label: "everything", since: nil, until: nil, spans: hourAndDay, plan: ["D -..-"]),
        Case(
            label: "whole days", since: "2026-11-01T00:00:00Z", until: "2026-11-03T00:00:00Z", spans: hourAndDay,
            plan: ["D 11-01T00:00..11-03T00:00"]),
        Case(
            label: "days, hours and minutes", since: "2026-11-01T09:17:30Z", until: "2026-11-03T17:43:00Z",
            spans: hourAndDay,
            plan: [
                "D 11-02T00:00..11-03T00:00", "H 11-01T10:00..11-02T00:00", "H 11-03T00:00..11-03T17:00",
                "R 11-01T09:17..11-01T10:00", "R 11-03T17:00..11-03T17:43",
            ]),
        Case(
            label: "hours within a day", since: "2026-11-01T09:17:00Z", until: "2026-11-01T17:43:00Z",
            spans: hourAndDay,
            plan: ["H 11-01T10:00..11-01T17:00", "R 11-01T09:17..11-01T10:00", "R 11-01T17:00..11-01T17:43"]),
        Case(
            label: "within an hour", since: "2026-11-01T09:17:00Z", until: "2026-11-01T09:43:00Z", spans: hourAndDay,
            plan: ["R 11-01T09:17..11-01T09:43"]),
        Case(
            label: "since only", since: "2026-11-01T09:17:00Z", until: nil, spans: hourAndDay,
            plan: ["D 11-02T00:00..-", "H 11-01T10:00..11-02T00:00", "R 11-01T09:17..11-01T10:00"]),
        Case(
            label: "until only, days only", since: nil, until: "2026-11-01T09:17:00Z", spans: [RelayStore.daySeconds],
            plan: ["D -..11-01T00:00", "R 11-01T00:00..11-01T09:17"]),
        Case(
            label: "backwards", since: "2026-11-02T00:00:00Z", until: "2026-11-01T00:00:00Z", spans: hourAndDay,
            plan: ["R 11-02T00:00..11-01T00:00"]),
        Case(label: "no aggregates", since: nil, until: "2026-11-01T00:00:00Z", spans: [], plan: ["R -..11-01T00:00"]),
        Case(
            label: "stale days inside, at the edge and outside", since: "2026-11-01T09:17:00Z",
            until: "2026-11-06T00:00:00Z", spans: [RelayStore.daySeconds],
            plan: [
                "D 11-02T00:00..11-03T00:00", "D 11-04T00:00..11-05T00:00", "R 11-01T09:17..11-02T00:00",
                "R 11-03T00:00..11-04T00:00", "R 11-05T00:00..11-06T00:00",
            ],
            stale: ["2026-10-30T00:00:00Z", "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-05T00:00:00Z"]),
        Case(
            label: "stale days, unbounded", since: nil, until: nil, spans: hourAndDay,
            plan: ["D -..11-03T00:00", "D 11-04T00:00..-", "R 11-03T00:00..11-04T00:00"],
            stale: ["2026-11-03T00:00:00Z"]),
        Case(
            label: "stale hours' day", since: "2026-11-01T09:17:00Z", until: "2026-11-01T17:43:00Z",
            spans: hourAndDay,
            plan: [
                "R 11-01T09:17..11-01T10:00", "R 11-01T17:00..11-01T17:43", "R 11-01T10:00..11-01T17:00",
            ],
            stale: ["2026-11-01T00:00:00Z"]),
    ])
    func split(_ c: Case) {
        func text(_ t: Int64?) -> String {
            guard let t else { return "-" }
            let s = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(t)))
            return String(s.dropFirst(5).prefix(11))
        }
        let plan = TimePlan(
            since: c.since.map(utc), until: c.until.map(utc), spans: c.spans, stale: c.stale.map(utc))
        let described =
            plan.buckets.map {
                "\($0.span == RelayStore.daySeconds ? "D" : "H") \(text($0.range.from))..\(text($0.range.to))"
            }
            + plan.rows.map { "R \(text($0.from))..\(text($0.to))" }
        #expect(described == c.plan)
    }
}
