import Foundation
import GRDB
import Store
import Testing

/// The hourly account activity is rebuilt from the rows for the hours an ingest changed: at once after a routine
/// run, by the first reader after a bulk load; either way it equals a rebuild of everything.
@Suite struct ActivityRefreshTests {
    static let sample = ["mail.log.2.gz", "mail.log.1", "mail.log", "mainlog.2.gz", "mainlog.1", "mainlog"].map {
        ReportPaths.fixture("sample/\($0)")
    }

    static func activity(_ store: RelayStore) throws -> [String] {
        try store.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT account || ' ' || hour || ' ' || messages || ' ' || recipients || ' ' || delivered || ' '
                        || deferred || ' ' || bounced || ' ' || domains || ' ' || clients || ' ' || networks || ' '
                        || senders FROM account_hours ORDER BY account, hour
                    """)
                + String.fetchAll(
                    db,
                    sql: """
                        SELECT account || ' ' || hour || ' ' || kind || ' ' || key || ' ' || recipients || ' ' || failed
                        FROM account_hour_keys ORDER BY 1
                        """)
        }
    }

    @Test func aBulkLoadIsLeftForTheFirstReaderAndAFewHoursAreNot() throws {
        let db = try ScratchDatabase()
        try db.ingest(Self.sample)
        let store = try RelayStore(path: db.path)
        // Three days of mail: more hours than a routine run touches.
        #expect(try store.refreshActivity(atMost: 48) == nil)
        #expect(try Self.activity(store).isEmpty)
        let hours = try #require(try store.refreshActivity(atMost: nil))
        #expect(hours > 48)
        let incremental = try Self.activity(store)
        #expect(incremental.count > 100)
        #expect(try store.refreshActivity(atMost: 48) == 0)

        // A rebuild of every hour from scratch gives the same rows.
        let again = try ScratchDatabase()
        try again.ingest(Self.sample, batchLines: 300)
        let other = try RelayStore(path: again.path)
        try other.refreshActivity()
        #expect(try Self.activity(other) == incremental)
    }
}
