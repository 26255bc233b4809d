import ArgumentParser
import Config

/// `--config`, for the commands that read the configuration file.
struct ConfigOptions: ParsableArguments {
    @Option(
        help: """
            The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else \
            built-in defaults).
            """)
    var config: String?

    /// The configuration in force; a file with problems exits with status 1 and every problem as `file:line:col`.
    func load() throws -> RelaysumConfiguration {
        do {
            return try RelaysumConfiguration.resolve(explicit: config)
        } catch let e as ConfigurationError {
            throw RelaysumFailure(description: "invalid configuration:\n" + e.description)
        }
    }
}
