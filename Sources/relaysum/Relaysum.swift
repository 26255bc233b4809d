import ArgumentParser

@main
struct Relaysum: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relaysum",
        abstract: "Answers who sent how much through an outgoing mail relay, from its Postfix or Exim logs.",
        discussion: """
            relaysum streams relay logs into one SQLite file (ingest) and reports from it: summary, rejects, \
            license, export, anomalies (compromised accounts), report (an HTML page with charts); arf builds and \
            mails RFC 5965 abuse reports; prune deletes old rows; config checks the configuration file.

            The database is --db, else $RELAYSUM_DB, else ./relaysum.sqlite; the configuration file --config, \
            else $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml.

            Exit status: 0 success, 1 failure (an unreadable file, a corrupt gzip member, a database error, a \
            report not delivered), 2 a finding at the level of `anomalies --fail-on`, 64 usage error.

            Examples:
              relaysum ingest /var/log/mail.log /var/log/mail.log.1 /var/log/mail.log.*.gz
              relaysum summary --by account --top 20
              relaysum summary --by sender --since 24h --format csv > senders.csv
              relaysum anomalies --fail-on compromised
              relaysum arf send
              relaysum report --since 7d --html relay.html
            """,
        version: RelaysumVersion.string,
        subcommands: [
            IngestCommand.self, SummaryCommand.self, RejectsCommand.self, ExportCommand.self, LicenseCommand.self,
            AnomaliesCommand.self, ArfCommand.self, ConfigCommand.self, ReportCommand.self, PruneCommand.self,
        ]
    )
}

enum RelaysumVersion {
    static let string = "0.1.0"
}
