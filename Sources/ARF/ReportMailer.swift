import Store

/// Delivers the stored reports that are `pending` or `failed`, one at a time, recording each attempt in the
/// database right after it: a report is sent at most once, and one that failed is tried again on the next run.
package struct ReportMailer {
    /// What one run did.
    package struct Outcome: Sendable {
        package var sent: [ARFReportRecord] = []
        package var failed: [(report: ARFReportRecord, error: String)] = []
    }

    package var store: RelayStore
    package var transport: any ReportTransport
    /// The envelope sender (`[report] from`).
    package var from: String

    package init(store: RelayStore, transport: any ReportTransport, from: String) {
        self.store = store
        self.transport = transport
        self.from = from
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
                try store.recordARFDelivery(id: id, at: now(), error: error.description)
                outcome.failed.append((report, error.description))
            }
        }
        return outcome
    }
}
