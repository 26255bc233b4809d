import ArgumentParser
import Config

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Checks the configuration file.",
        discussion: """
            contrib/relaysum.toml is a commented example of every section and key.

            Examples:
              relaysum config check
              relaysum config check --config /etc/relaysum/relaysum.toml
            """,
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Reads the configuration file and prints OK and the effective settings, or its problems.",
            discussion: """
                The file is found as --config, else $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists; \
                without one the built-in defaults are shown. Unknown sections and keys, wrong types and bad values \
                are each reported as file:line:column and the exit status is 1. contrib/relaysum.toml documents \
                every key.

                Example:
                  relaysum config check --config /etc/relaysum/relaysum.toml
                """)

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let config = try options.load()
            print("OK \(config.path ?? "(no configuration file: built-in defaults)")")
            print(config.effectiveDescription, terminator: "")
        }
    }
}
