/// What is wrong with a configuration file, each problem as `file:line:column: message`.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// One problem, at a position in the file when it is known.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int?
        public var column: Int?
        public var message: String

        public init(file: String, line: Int?, column: Int?, message: String) {
            self.file = file
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String {
            var at = file
            if let line {
                at += ":\(line)"
                if let column { at += ":\(column)" }
            }
            return "\(at): \(message)"
        }
    }

    public var problems: [Problem]

    public init(_ problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
