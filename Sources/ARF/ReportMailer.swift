import Store

/// Delivers the stored reports that are `pending` or `failed`, one at a time, recording each attempt in the
/// database right after it: a report is sent at most once, and one that failed is tried again on the next run until
/// it fails `giveUpAfter` after it was built, when it is given up (`expired`).
package struct ReportMailer {
    /// What one run did.
    package struct Outcome: Sendable {
        package var sent: [ARFReportRecord] = []
        /// `givenUp`: stored as `expired`, having failed `giveUpAfter` or more after it was built.
        package var failed: [(report: ARFReportRecord, error: String, givenUp: Bool)] = []

        /// The failed reports that were given up.
        package var givenUp: [ARFReportRecord] { failed.filter(\.givenUp).map(\.report) }
    }

    package var store: RelayStore
    package var transport: any ReportTransport
    /// The envelope sender (`[report] from`).
    package var from: String
    /// A report that fails this many seconds or more after it was built is given up (`[transport]
    /// give_up_after_hours`); nil tries for ever.
    package var giveUpAfter: Int64?

    package init(store: RelayStore, transport: any ReportTransport, from: String, giveUpAfter: Int64? = nil) {
        self.store = store
        self.transport = transport
        self.from = from
        self.giveUpAfter = giveUpAfter
    }

    /// Sends every pending and failed report, oldest first; `now` stamps the sent ones.
    package func sendAll(now: () -> Int64) throws -> Outcome {
        var outcome = Outcome()
        for report in try store.arfReports(states: [.pending, .failed]) {
            guard let id = report.id else { continue }
            do {
                try transport.deliver(report.message, from: from, to: report.abuseAddress)
                try store.recordARFDelivery(id: id, at: now(), error: nil)
                outcome.sent.append(report)
            } catch let error as DeliveryError {
                let at = now()
                let givingUp = giveUpAfter.map { at - report.createdAt >= $0 } ?? false
                try store.recordARFDelivery(id: id, at: at, error: error.description, givingUp: givingUp)
                outcome.failed.append((report, error.description, givingUp))
            }
        }
        return outcome
    }
}
