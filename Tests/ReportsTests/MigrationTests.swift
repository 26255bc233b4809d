import Foundation
import Store
import Testing

/// A database written before the aggregates existed: read-only reports read its rows; the next ingest's migration
/// "v2" fills the aggregates from them.
@Suite(.enabled(if: ReportPaths.python != nil, "python3 is not installed"))
struct MigrationTests {
    /// Turns a database back into what it was before migration "v2", with Python's sqlite3 (not relaysum's SQL).
    static func undoV2(_ path: String) throws {
        _ = try runPython(
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.stdin.read())
            for t in ("message_buckets", "recipient_domain_buckets", "relay_hosts"):
                db.execute("DROP TABLE " + t)
            db.execute("DELETE FROM grdb_migrations WHERE identifier = 'v2'")
            db.commit()
            """, input: Data(path.utf8))
    }

    @Test func v2FillsTheAggregatesFromTheRowsAndReadOnlyReportsDoWithout() throws {
        let db = try ScratchDatabase()
        try db.ingest(FixtureDatabases.files["postfix"]!)
        let requests = SummaryGrouping.allCases.map {
            SummaryRequest(grouping: $0, filter: MessageFilter(since: utc("2026-11-09T00:15:00Z")), sort: .key)
        }
        let before = try requests.map { try db.store().summary($0) }
        let licence = try db.store().licenseUses(filter: MessageFilter())
        try Self.undoV2(db.path)
        // Read-only: no migration; reports read the rows.
        let old = try db.store()
        #expect(try requests.map { try old.summary($0) } == before)
        #expect(try old.licenseUses(filter: MessageFilter()) == licence)
        #expect(try old.knownHosts() == ["relay1", "relay2"])
        // Opened for writing: migrated, aggregates filled and exact.
        let migrated = try RelayStore(path: db.path)
        #expect(try migrated.aggregateMismatches() == [])
        #expect(try requests.map { try migrated.summary($0) } == before)
        #expect(try migrated.knownHosts() == ["relay1", "relay2"])
    }
}
