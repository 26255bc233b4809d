import Foundation
import Testing

/// The help of every command, and the committed files made from it (`scripts/gen-docs.sh`).
@Suite struct GeneratedDocsTests {
    /// The subcommands `relaysum --help` lists.
    static func subcommands() throws -> [String] {
        let help = try CLI.run(["--help"]).stdout
        let section = try #require(help.components(separatedBy: "SUBCOMMANDS:").last)
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else {
                return nil
            }
            let isName = name.allSatisfy { $0 == "-" || ("a"..."z").contains($0) }
            return name == "help" || !isName ? nil : String(name)
        }
    }

    @Test func everyCommandsHelpHasExamples() throws {
        let commands = try Self.subcommands()
        #expect(commands.contains("ingest") && commands.contains("report") && commands.contains("prune"))
        for command in commands {
            let r = try CLI.run([command, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:\n  relaysum \(command)"), "\(command) --help has no examples")
        }
    }

    @Test(arguments: [("bash", "relaysum.bash"), ("zsh", "_relaysum"), ("fish", "relaysum.fish")])
    func committedCompletionsMatchTheCommands(_ shell: String, _ file: String) throws {
        let committed = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("contrib/completions/\(file)"), encoding: .utf8)
        let fresh = try CLI.run(["--generate-completion-script", shell])
        #expect(fresh.status == 0)
        #expect(committed == fresh.stdout, "contrib/completions/\(file) is stale: run scripts/gen-docs.sh")
    }

    @Test func theManPageNamesEveryCommand() throws {
        let page = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("docs/man/relaysum.1"), encoding: .utf8)
        for command in try Self.subcommands() {
            #expect(
                page.contains(".It Em \(command)\n"), "docs/man/relaysum.1 lacks \(command): run scripts/gen-docs.sh")
        }
    }
}
