import Foundation
import Store

/// `relaysum report --html`: one self-contained HTML page (inline CSS, inline SVG drawn here, no script, no
/// external resource) with the relay's traffic over a period, its outcomes, the top accounts and sending domains,
/// and the windows `anomalies` flagged, highlighted on the timelines. Every number drawn is also in a table.
///
/// Everything that comes from a log (accounts, addresses, domains, reasons) is attacker-controlled: it goes through
/// `escape` before it reaches the page.
package enum HTMLReport {
    /// What the page shows.
    package struct Content: Sendable {
        /// [start, end) in whole hours.
        package var period: Range<Int64>
        /// Bins of `binSeconds` covering the period, empty ones included, for the traffic timeline.
        package var timeline: [TrafficBin]
        package var timelineSeconds: Int64
        /// Bins of `outcomeSeconds` for the stacked outcomes.
        package var outcomes: [TrafficBin]
        package var outcomeSeconds: Int64
        package var topAccounts: [SummaryRow]
        package var topDomains: [SummaryRow]
        package var findings: [AnomalyFindingRecord]
        package var generatedAt: Int64
        package var databaseName: String

        package init(
            period: Range<Int64>, timeline: [TrafficBin], timelineSeconds: Int64, outcomes: [TrafficBin],
            outcomeSeconds: Int64, topAccounts: [SummaryRow], topDomains: [SummaryRow],
            findings: [AnomalyFindingRecord], generatedAt: Int64, databaseName: String
        ) {
            self.period = period
            self.timeline = timeline
            self.timelineSeconds = timelineSeconds
            self.outcomes = outcomes
            self.outcomeSeconds = outcomeSeconds
            self.topAccounts = topAccounts
            self.topDomains = topDomains
            self.findings = findings
            self.generatedAt = generatedAt
            self.databaseName = databaseName
        }
    }

    /// Periods up to this long are drawn by the hour on the timeline (longer ones by the day).
    static let hourlyTimelineLimit: Int64 = 62 * 86_400
    /// Periods up to this long show the outcomes by the hour (longer ones by the day).
    static let hourlyOutcomeLimit: Int64 = 4 * 86_400

    /// Reads what the page shows for [since, until) (rounded out to whole hours; open ends: the stored messages).
    /// Nil when the database has no message.
    package static func gather(
        store: RelayStore, since: Int64?, until: Int64?, top: Int, now: Int64
    ) throws -> Content? {
        let h = RelayStore.hourSeconds
        let d = RelayStore.daySeconds
        guard let range = try store.messageTimeRange() else { return nil }
        let start = (since ?? range.lowerBound) / h * h
        let end = max(start + h, ((until ?? (range.upperBound + 1)) + h - 1) / h * h)
        let length = end - start
        let hourly = length <= hourlyTimelineLimit ? try store.hourlyTraffic(from: start, to: end) : []
        let daily =
            length <= hourlyTimelineLimit
            ? fold(hourly, into: d) : try store.dailyTraffic(from: floorDay(start), to: end)
        let timelineSeconds = length <= hourlyTimelineLimit ? h : d
        let outcomeSeconds = length <= hourlyOutcomeLimit ? h : d
        let filter = MessageFilter(since: start, until: end)
        return Content(
            period: start..<end,
            timeline: filled(timelineSeconds == h ? hourly : daily, seconds: timelineSeconds, period: start..<end),
            timelineSeconds: timelineSeconds,
            outcomes: filled(outcomeSeconds == h ? hourly : daily, seconds: outcomeSeconds, period: start..<end),
            outcomeSeconds: outcomeSeconds,
            topAccounts: try store.summary(
                SummaryRequest(grouping: .account, filter: filter, sort: .messages, top: top)
            ).map(\.row),
            topDomains: try store.summary(
                SummaryRequest(grouping: .senderDomain, filter: filter, sort: .messages, top: top)
            ).map(\.row),
            findings: try store.findings(from: start, to: end),
            generatedAt: now,
            databaseName: URL(fileURLWithPath: store.path).lastPathComponent)
    }

    static func floorDay(_ t: Int64) -> Int64 {
        t - ((t % RelayStore.daySeconds) + RelayStore.daySeconds) % RelayStore.daySeconds
    }

    /// Bins summed into larger ones of `seconds`.
    static func fold(_ bins: [TrafficBin], into seconds: Int64) -> [TrafficBin] {
        var out: [TrafficBin] = []
        for b in bins {
            let start = b.start - ((b.start % seconds) + seconds) % seconds
            if out.last?.start != start { out.append(TrafficBin(start: start)) }
            out[out.count - 1].messages += b.messages
            out[out.count - 1].recipients += b.recipients
            out[out.count - 1].delivered += b.delivered
            out[out.count - 1].deferred += b.deferred
            out[out.count - 1].bounced += b.bounced
            out[out.count - 1].bytes += b.bytes
        }
        return out
    }

    /// One bin per `seconds` from the period's start (rounded down) to its end, empty where nothing was sent.
    static func filled(_ bins: [TrafficBin], seconds: Int64, period: Range<Int64>) -> [TrafficBin] {
        let first = period.lowerBound - ((period.lowerBound % seconds) + seconds) % seconds
        var byStart: [Int64: TrafficBin] = [:]
        for b in bins { byStart[b.start] = b }
        return stride(from: first, to: period.upperBound, by: Int(seconds)).map {
            byStart[$0] ?? TrafficBin(start: $0)
        }
    }

    // MARK: the page

    package static func render(_ c: Content) -> String {
        var totals = TrafficBin(start: c.period.lowerBound)
        for b in c.timeline {
            totals.messages += b.messages
            totals.recipients += b.recipients
            totals.delivered += b.delivered
            totals.deferred += b.deferred
            totals.bounced += b.bounced
            totals.bytes += b.bytes
        }
        let compromised = c.findings.filter { $0.verdict == "compromised" }.count
        let review = c.findings.count - compromised
        var p = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>relaysum report \(escape(day(c.period.lowerBound))) – \(escape(day(c.period.upperBound - 1)))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header>
            <h1>Relay report</h1>
            <p class="period">\(escape(stamp(c.period.lowerBound))) to \(escape(stamp(c.period.upperBound))) \
            · database \(escape(c.databaseName)) · made \(escape(stamp(c.generatedAt)))</p>
            </header>
            <section class="cards" aria-label="Totals">
            \(card("Messages", totals.messages))\(card("Recipients", totals.recipients))\
            \(card("Delivered", totals.delivered, "delivered"))\(card("Deferred", totals.deferred, "deferred"))\
            \(card("Bounced", totals.bounced, "bounced"))\
            \(card("Compromised windows", Int64(compromised), compromised > 0 ? "compromised" : nil))\
            \(card("Windows to review", Int64(review), review > 0 ? "review" : nil))
            </section>

            """
        let unit = c.timelineSeconds == RelayStore.hourSeconds ? "hour" : "day"
        p += """
            <section class="chart">
            <h2>Messages and recipients per \(unit)</h2>
            <p class="note">Accepted messages submitted by an account, by arrival (UTC); bounces the relay generated \
            are not counted. Shaded: windows <code>relaysum anomalies</code> flagged \
            (<span class="key compromised">compromised</span>, <span class="key review">review</span>), \
            numbered as in the list below.</p>
            \(legend([("messages", "Messages"), ("recipients", "Recipients")]))
            \(timelineChart(c))
            </section>

            """
        let outcomeUnit = c.outcomeSeconds == RelayStore.hourSeconds ? "hour" : "day"
        p += """
            <section class="chart">
            <h2>Recipient outcomes per \(outcomeUnit)</h2>
            <p class="note">Each recipient once, with its final state at the end of the ingested logs, under the \
            \(outcomeUnit) its message arrived.</p>
            \(legend([("delivered", "Delivered"), ("deferred", "Deferred"), ("bounced", "Bounced")]))
            \(outcomeChart(c))
            </section>

            """
        p += findingsSection(c)
        p += """
            \(topSection(id: "top-accounts", title: "Top accounts", keyName: "Account", rows: c.topAccounts))
            \(topSection(id: "top-domains", title: "Top sending domains", keyName: "Sender domain", rows: c.topDomains))

            """
        p += binTable(c)
        p += """
            <footer>Made by relaysum. Times are UTC. Numbers are defined \
            in the README (“Meaning of the numbers”).</footer>
            </body>
            </html>

            """
        return p
    }

    static let css = """
        :root { --ink: #1f2933; --muted: #616e7c; --grid: #e4e7eb; --messages: #2f6fb0; --recipients: #0f766e;
          --delivered: #3f9a5d; --deferred: #98a2b3; --bounced: #b45309; --compromised: #d62828; --review: #f2a007; }
        * { box-sizing: border-box; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
          color: var(--ink); margin: 0 auto; max-width: 1180px; padding: 24px 28px; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 2px; } h2 { font-size: 18px; margin: 0 0 4px; }
        .period, .note, footer { color: var(--muted); margin: 0 0 8px; }
        footer { margin-top: 28px; font-size: 12px; }
        code { font-size: 90%; }
        section { margin: 22px 0; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; }
        .card { border: 1px solid var(--grid); border-radius: 6px; padding: 8px 14px; min-width: 132px; }
        .card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
        .card span { color: var(--muted); font-size: 12px; }
        .card.compromised { border-color: var(--compromised); background: #fdecec; }
        .card.review { border-color: var(--review); background: #fef6e4; }
        .card.delivered b { color: var(--delivered); } .card.deferred b { color: #5c6778; }
        .card.bounced b { color: var(--bounced); }
        svg { display: block; width: 100%; height: auto; }
        svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
        svg .axis { stroke: #9aa5b1; stroke-width: 1; } svg .grid { stroke: var(--grid); stroke-width: 1; }
        svg .messages { fill: var(--messages); fill-opacity: .28; stroke: var(--messages); stroke-width: 1.2; }
        svg .recipients { fill: none; stroke: var(--recipients); stroke-width: 1.6; }
        svg .delivered { fill: var(--delivered); } svg .deferred { fill: var(--deferred); }
        svg .bounced { fill: var(--bounced); } svg .bar { fill: var(--messages); }
        svg .window.compromised { fill: var(--compromised); fill-opacity: .2; stroke: var(--compromised); }
        svg .window.review { fill: var(--review); fill-opacity: .14; stroke: var(--review); }
        svg .window { stroke-width: 1; stroke-opacity: .7; }
        svg text.window-label { font-weight: 700; fill: #8a5a00; }
        svg text.window-label.compromised { fill: #b91c1c; }
        svg text.value { fill: var(--ink); } svg text.label { fill: var(--ink); }
        .legend { display: flex; gap: 16px; margin: 4px 0 6px; font-size: 12px; color: var(--muted); }
        .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px;
          vertical-align: -2px; }
        .legend .messages { background: var(--messages); opacity: .6; } .legend .recipients { background: var(--recipients); }
        .legend .delivered { background: var(--delivered); } .legend .deferred { background: var(--deferred); }
        .legend .bounced { background: var(--bounced); }
        .key { font-weight: 600; padding: 0 4px; border-radius: 3px; }
        .key.compromised { background: #fbd5d5; color: #8f1414; } .key.review { background: #fdebc1; color: #7a4d00; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin-top: 8px; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--grid); vertical-align: top; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; }
        td.n, th.n { text-align: right; white-space: nowrap; }
        td.key-cell { overflow-wrap: anywhere; }
        tr.compromised td:first-child { border-left: 4px solid var(--compromised); }
        tr.review td:first-child { border-left: 4px solid var(--review); }
        .top svg { max-width: 760px; }
        td.when { white-space: nowrap; } #anomalies td.key-cell { min-width: 11em; }
        .none { color: var(--muted); font-style: italic; }
        details summary { cursor: pointer; color: var(--muted); }
        @media print {
          @page { size: A4 landscape; margin: 12mm; }
          body { max-width: none; padding: 0; font-size: 10pt; }
          * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          section, .chart, tr { break-inside: avoid; }
          details { display: block; } details > summary { display: none; }
        }
        """

    static func card(_ label: String, _ n: Int64, _ kind: String? = nil) -> String {
        "<div class=\"card\(kind.map { " " + $0 } ?? "")\"><b>\(number(n))</b><span>\(label)</span></div>"
    }

    static func legend(_ items: [(String, String)]) -> String {
        "<div class=\"legend\" aria-hidden=\"true\">"
            + items.map { "<span><i class=\"\($0.0)\"></i>\($0.1)</span>" }.joined() + "</div>"
    }

    // MARK: charts

    /// The plot area of a time chart.
    struct Frame {
        var width = 1120.0
        var height = 260.0
        var left = 60.0
        var right = 14.0
        var top = 32.0
        var bottom = 30.0
        var start: Int64
        var end: Int64
        var maxValue: Double

        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
        func x(_ t: Int64) -> Double { left + Double(t - start) / Double(max(end - start, 1)) * plotWidth }
        func y(_ v: Double) -> Double { top + plotHeight - v / max(maxValue, 1) * plotHeight }
    }

    static func timelineChart(_ c: Content) -> String {
        let maxValue = niceCeiling(Double(c.timeline.map { max($0.recipients, $0.messages) }.max() ?? 0))
        let f = Frame(start: c.period.lowerBound, end: c.period.upperBound, maxValue: maxValue)
        var s = svgOpen(id: "timeline", f, title: "Messages and recipients per bin, with flagged windows")
        s += axes(f)
        s += windows(c.findings, f, labelled: true)
        // Each bin drawn as a step across its width, so a lone busy hour reads as an hour.
        func steps(_ value: (TrafficBin) -> Int64) -> [(Double, Double)] {
            var pts: [(Double, Double)] = []
            for b in c.timeline {
                let v = f.y(Double(value(b)))
                pts.append((f.x(max(b.start, f.start)), v))
                pts.append((f.x(min(b.start + c.timelineSeconds, f.end)), v))
            }
            return pts
        }
        let m = steps(\.messages)
        if let first = m.first, let last = m.last {
            let base = f.y(0)
            s +=
                "<path class=\"messages\" d=\"M\(fmt(first.0)) \(fmt(base))"
                + m.map { " L\(fmt($0.0)) \(fmt($0.1))" }.joined() + " L\(fmt(last.0)) \(fmt(base)) Z\"/>\n"
        }
        let r = steps(\.recipients)
        if !r.isEmpty {
            s +=
                "<polyline class=\"recipients\" points=\""
                + r.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ") + "\"/>\n"
        }
        return s + "</svg>"
    }

    static func outcomeChart(_ c: Content) -> String {
        let maxValue = niceCeiling(Double(c.outcomes.map { $0.delivered + $0.deferred + $0.bounced }.max() ?? 0))
        let f = Frame(height: 220, start: c.period.lowerBound, end: c.period.upperBound, maxValue: maxValue)
        var s = svgOpen(id: "outcomes", f, title: "Delivered, deferred and bounced recipients, stacked")
        s += axes(f)
        s += windows(c.findings, f, labelled: false)
        for b in c.outcomes {
            let x0 = f.x(max(b.start, f.start))
            let x1 = f.x(min(b.start + c.outcomeSeconds, f.end))
            let w = max(x1 - x0 - (x1 - x0 > 4 ? 1 : 0), 0.5)
            var base = 0.0
            for (cls, v) in [("delivered", b.delivered), ("deferred", b.deferred), ("bounced", b.bounced)] where v > 0 {
                let yTop = f.y(base + Double(v))
                let yBottom = f.y(base)
                s +=
                    "<rect class=\"\(cls)\" x=\"\(fmt(x0))\" y=\"\(fmt(yTop))\" width=\"\(fmt(w))\" "
                    + "height=\"\(fmt(yBottom - yTop))\"><title>\(escape(stamp(b.start))): \(number(v)) \(cls)"
                    + "</title></rect>\n"
                base += Double(v)
            }
        }
        return s + "</svg>"
    }

    static func svgOpen(id: String, _ f: Frame, title: String) -> String {
        """
        <svg id="\(id)" viewBox="0 0 \(fmt(f.width)) \(fmt(f.height))" role="img" aria-labelledby="\(id)-title">
        <title id="\(id)-title">\(escape(title))</title>

        """
    }

    /// Grid lines with their values, and time ticks along the bottom.
    static func axes(_ f: Frame) -> String {
        var s = "<g class=\"axes\">\n"
        for i in 0...4 {
            let v = f.maxValue * Double(i) / 4
            let y = f.y(v)
            s +=
                "<line class=\"grid\" x1=\"\(fmt(f.left))\" x2=\"\(fmt(f.width - f.right))\" y1=\"\(fmt(y))\" "
                + "y2=\"\(fmt(y))\"/>"
            s += "<text x=\"\(fmt(f.left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(number(Int64(v)))</text>\n"
        }
        let base = f.y(0)
        s +=
            "<line class=\"axis\" x1=\"\(fmt(f.left))\" x2=\"\(fmt(f.width - f.right))\" y1=\"\(fmt(base))\" "
            + "y2=\"\(fmt(base))\"/>\n"
        let length = f.end - f.start
        let d = RelayStore.daySeconds
        let h = RelayStore.hourSeconds
        // About ten labels whatever the length.
        let step: Int64 =
            [h, 2 * h, 3 * h, 6 * h, 12 * h, d, 2 * d, 7 * d, 14 * d, 28 * d].first { length / $0 <= 12 }
            ?? 56 * d
        var t = f.start - ((f.start % step) + step) % step
        if t < f.start { t += step }
        while t <= f.end {
            let x = f.x(t)
            let midnight = t % d == 0
            s += "<line class=\"axis\" x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(base))\" y2=\"\(fmt(base + 4))\"/>"
            let label = step < d && !midnight ? clock(t) : day(t)
            // Labels at the very ends stay inside the picture.
            let anchor = x > f.width - f.right - 30 ? "end" : x < f.left + 30 ? "start" : "middle"
            s += "<text x=\"\(fmt(x))\" y=\"\(fmt(base + 17))\" text-anchor=\"\(anchor)\">\(escape(label))</text>\n"
            t += step
        }
        return s + "</g>\n"
    }

    /// The flagged windows as shaded bands across the plot, numbered in the order of the findings list. Review
    /// windows are drawn first, so a compromised one is never hidden under them; labels that would overlap go to a
    /// second row, or are left out (the list below has every window).
    static func windows(_ findings: [AnomalyFindingRecord], _ f: Frame, labelled: Bool) -> String {
        var s = ""
        var labels = ""
        let rows = 2
        let numbered = findings.enumerated().map { (number: $0.offset + 1, finding: $0.element) }
        let order =
            numbered.filter { $0.finding.verdict != "compromised" }
            + numbered.filter { $0.finding.verdict == "compromised" }
        // Compromised windows get their labels first.
        let labelOrder =
            numbered.filter { $0.finding.verdict == "compromised" }
            + numbered.filter { $0.finding.verdict != "compromised" }
        func span(_ w: AnomalyFindingRecord) -> (x: Double, width: Double)? {
            let a = max(w.windowStart, f.start)
            let b = min(w.windowEnd, f.end)
            guard a < b else { return nil }
            return (f.x(a), max(f.x(b) - f.x(a), 3))
        }
        for (number, w) in order {
            guard let (x0, width) = span(w) else { continue }
            let kind = w.verdict == "compromised" ? "compromised" : "review"
            s +=
                "<rect class=\"window \(kind)\" x=\"\(fmt(x0))\" y=\"\(fmt(f.top))\" width=\"\(fmt(width))\" "
                + "height=\"\(fmt(f.plotHeight))\"><title>#\(number) \(kind): \(escape(w.account)), "
                + "\(escape(stamp(w.windowStart))) to \(escape(stamp(w.windowEnd)))</title></rect>\n"
        }
        guard labelled else { return s }
        var placed: [(row: Int, from: Double, to: Double)] = []
        for (number, w) in labelOrder {
            guard let (x0, width) = span(w) else { continue }
            let centre = x0 + width / 2
            let half = Double(String(number).count) * 3.6 + 2
            guard
                let row = (0..<rows).first(where: { r in
                    !placed.contains { $0.row == r && $0.from < centre + half && centre - half < $0.to }
                })
            else { continue }
            placed.append((row, centre - half, centre + half))
            let kind = w.verdict == "compromised" ? "compromised" : "review"
            labels +=
                "<text class=\"window-label \(kind)\" x=\"\(fmt(centre))\" y=\"\(fmt(f.top - 5 - Double(row) * 12))\" "
                + "text-anchor=\"middle\">\(number)</text>\n"
        }
        return s + labels
    }

    // MARK: findings and top lists

    static func findingsSection(_ c: Content) -> String {
        var s = "<section id=\"anomalies\">\n<h2>Flagged windows</h2>\n"
        guard !c.findings.isEmpty else {
            return s + "<p class=\"none\">No window in this period was flagged by <code>relaysum anomalies</code> "
                + "(run it after ingest to judge new hours).</p>\n</section>\n"
        }
        s += """
            <table>
            <thead><tr><th>#</th><th>Verdict</th><th>Account</th><th>Window (UTC)</th><th class="n">Score</th>\
            <th class="n">Messages</th><th class="n">Recipients</th><th class="n">Failed</th><th>Reasons</th></tr></thead>
            <tbody>

            """
        for (i, w) in c.findings.enumerated() {
            let kind = w.verdict == "compromised" ? "compromised" : "review"
            s +=
                "<tr class=\"\(kind)\"><td>\(i + 1)</td><td><span class=\"key \(kind)\">\(kind)</span></td>"
                + "<td class=\"key-cell\">\(escape(w.account))</td>"
                + "<td class=\"when\">\(escape(stamp(w.windowStart)))<br>to \(escape(clockOrStamp(w.windowEnd, after: w.windowStart)))</td>"
                + "<td class=\"n\">\(String(format: "%.1f", w.score))</td><td class=\"n\">\(number(w.messages))</td>"
                + "<td class=\"n\">\(number(w.recipients))</td><td class=\"n\">\(number(w.failed))</td>"
                + "<td class=\"reasons\">\(escape(w.reasons))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n</section>\n"
    }

    static func topSection(id: String, title: String, keyName: String, rows: [SummaryRow]) -> String {
        var s = "<section class=\"top\">\n<h2>\(title)</h2>\n"
        guard !rows.isEmpty else { return s + "<p class=\"none\">No messages in this period.</p>\n</section>\n" }
        let rowHeight = 24.0
        let width = 760.0
        let labelWidth = 260.0
        let valueWidth = 64.0
        let height = rowHeight * Double(rows.count) + 6
        let maxValue = Double(rows.map(\.messages).max() ?? 1)
        s +=
            "<svg id=\"\(id)\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" role=\"img\" "
            + "aria-labelledby=\"\(id)-title\">\n<title id=\"\(id)-title\">\(title) by messages</title>\n"
        for (i, r) in rows.enumerated() {
            let y = Double(i) * rowHeight + 3
            let key = r.key ?? "(none)"
            let barWidth = max((width - labelWidth - valueWidth) * Double(r.messages) / max(maxValue, 1), 1)
            s +=
                "<g><title>\(escape(key)): \(number(r.messages)) messages, \(number(r.recipients)) recipients</title>"
                + "<text class=\"label\" x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 15))\" text-anchor=\"end\">"
                + "\(escape(truncated(key, 40)))</text>"
                + "<rect class=\"bar\" x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(barWidth))\" "
                + "height=\"\(fmt(rowHeight - 8))\" rx=\"2\"/>"
                + "<text class=\"value\" x=\"\(fmt(labelWidth + barWidth + 6))\" y=\"\(fmt(y + 15))\">"
                + "\(number(r.messages))</text></g>\n"
        }
        s +=
            "</svg>\n<table>\n<thead><tr><th>\(keyName)</th><th class=\"n\">Messages</th><th class=\"n\">Recipients</th>"
            + "<th class=\"n\">Delivered</th><th class=\"n\">Deferred</th><th class=\"n\">Bounced</th></tr></thead>\n<tbody>\n"
        for r in rows {
            s +=
                "<tr><td class=\"key-cell\">\(escape(r.key ?? "(none)"))</td><td class=\"n\">\(number(r.messages))</td>"
                + "<td class=\"n\">\(number(r.recipients))</td><td class=\"n\">\(number(r.delivered))</td>"
                + "<td class=\"n\">\(number(r.deferred))</td><td class=\"n\">\(number(r.bounced))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n</section>"
    }

    /// The timeline's numbers as a table (per day; per hour folded away below it when drawn by the hour).
    static func binTable(_ c: Content) -> String {
        func rows(_ bins: [TrafficBin], hourly: Bool) -> String {
            bins.map { b in
                "<tr><td>\(escape(hourly ? stamp(b.start) : day(b.start)))</td><td class=\"n\">\(number(b.messages))</td>"
                    + "<td class=\"n\">\(number(b.recipients))</td><td class=\"n\">\(number(b.delivered))</td>"
                    + "<td class=\"n\">\(number(b.deferred))</td><td class=\"n\">\(number(b.bounced))</td></tr>\n"
            }.joined()
        }
        let head = """
            <thead><tr><th>%@</th><th class="n">Messages</th><th class="n">Recipients</th><th class="n">Delivered</th>\
            <th class="n">Deferred</th><th class="n">Bounced</th></tr></thead>

            """
        let days =
            c.timelineSeconds == RelayStore.daySeconds ? c.timeline : fold(c.timeline, into: RelayStore.daySeconds)
        var s =
            "<section id=\"numbers\">\n<h2>The numbers per day</h2>\n<table>\n"
            + head.replacingOccurrences(of: "%@", with: "Day (UTC)") + "<tbody>\n" + rows(days, hourly: false)
            + "</tbody>\n</table>\n"
        if c.timelineSeconds == RelayStore.hourSeconds {
            let busy = c.timeline.filter { $0.messages > 0 || $0.recipients > 0 }
            s +=
                "<details>\n<summary>Per hour (\(busy.count) hours with traffic)</summary>\n<table>\n"
                + head.replacingOccurrences(of: "%@", with: "Hour (UTC)") + "<tbody>\n" + rows(busy, hourly: true)
                + "</tbody>\n</table>\n</details>\n"
        }
        return s + "</section>\n"
    }

    // MARK: text

    /// Text made safe for HTML element content and quoted attribute values.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters have no business in the page (and some are invalid in XML, which SVG is).
            case _ where ch.value < 0x20 && ch != "\t" && ch != "\n": out += "\u{FFFD}"
            case "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func truncated(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }

    /// 1234567 as "1,234,567".
    static func number(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int64(r)) : String(format: "%.1f", r)
    }

    /// The smallest 1, 2 or 5 × 10ⁿ (or 4, for four grid steps) at or above `v`; at least 4.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 4 else { return 4 }
        var p = 1.0
        while p * 10 <= v { p *= 10 }
        for m in [1.0, 2.0, 4.0, 5.0, 8.0, 10.0] where m * p >= v { return m * p }
        return 10 * p
    }

    private static let utc = TimeZone(identifier: "UTC")!

    private static func parts(_ t: Int64) -> DateComponents {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utc
        return cal.dateComponents([.year, .month, .day, .hour, .minute], from: Date(timeIntervalSince1970: Double(t)))
    }

    /// `2026-11-09 14:00 UTC`.
    static func stamp(_ t: Int64) -> String {
        let p = parts(t)
        return String(
            format: "%04d-%02d-%02d %02d:%02d UTC", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0)
    }

    /// `2026-11-09`.
    static func day(_ t: Int64) -> String {
        let p = parts(t)
        return String(format: "%04d-%02d-%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0)
    }

    /// `14:00`.
    static func clock(_ t: Int64) -> String {
        let p = parts(t)
        return String(format: "%02d:%02d", p.hour ?? 0, p.minute ?? 0)
    }

    /// The end of a window: just the clock when on the day it started (or at the following midnight).
    static func clockOrStamp(_ t: Int64, after start: Int64) -> String {
        floorDay(t) == floorDay(start) || (t % RelayStore.daySeconds == 0 && t - start <= RelayStore.daySeconds)
            ? clock(t) : stamp(t)
    }
}
