/// Where each key and table header of a TOML document starts (1-based line and column), found by a light scan of
/// the text: TOMLKit gives positions for syntax errors only, and an unknown key or a wrong type should name its line
/// too. The document has already parsed, so the scan can be simple: it follows `[table]` headers and `key =` lines,
/// and skips multi-line strings and arrays.
struct TOMLKeyPositions {
    struct Position: Equatable {
        var line: Int
        var column: Int
    }

    /// By dotted path (`report.limit`, `abuse.users`); quoted key segments are unquoted.
    private(set) var positions: [String: Position] = [:]

    init(_ text: String) {
        var table: [String] = []
        var skipUntil: String? = nil  // the closing `"""` or `'''` of a multi-line string
        var bracketDepth = 0  // open `[` of a multi-line array
        for (index, rawLine) in text.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }
        )
        .enumerated() {
            let number = index + 1
            let line = Substring(rawLine)
            if let close = skipUntil {
                if line.contains(close) { skipUntil = nil }
                continue
            }
            if bracketDepth > 0 {
                bracketDepth += Self.bracketBalance(line)
                continue
            }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let body = line.dropFirst(indent)
            if body.isEmpty || body.hasPrefix("#") { continue }
            if body.hasPrefix("[") {
                let inner = body.drop { $0 == "[" }
                let name = inner.prefix { $0 != "]" }
                table = Self.segments(name)
                record(table, number, indent + 1)
                continue
            }
            guard let equals = Self.firstUnquoted("=", in: body) else { continue }
            record(table + Self.segments(body[..<equals]), number, indent + 1)
            let value = body[body.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                if !value.dropFirst(3).contains(delimiter) { skipUntil = delimiter }
            }
            if value.hasPrefix("[") { bracketDepth = max(0, Self.bracketBalance(value)) }
        }
    }

    func position(of path: [String]) -> Position? {
        positions[path.joined(separator: ".")]
    }

    private mutating func record(_ path: [String], _ line: Int, _ column: Int) {
        let key = path.joined(separator: ".")
        if positions[key] == nil { positions[key] = Position(line: line, column: column) }
    }

    /// `a."b.c" . d` → `["a", "b.c", "d"]`.
    private static func segments(_ key: Substring) -> [String] {
        var result: [String] = []
        var current = ""
        var quote: Character? = nil
        for c in key {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." {
                result.append(current.trimmingSpaces)
                current = ""
            } else {
                current.append(c)
            }
        }
        result.append(current.trimmingSpaces)
        return result
    }

    private static func firstUnquoted(_ target: Character, in text: Substring) -> Substring.Index? {
        var quote: Character? = nil
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == target {
                return i
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// Opening minus closing brackets outside strings and comments.
    private static func bracketBalance(_ text: Substring) -> Int {
        var balance = 0
        var quote: Character? = nil
        for c in text {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" {
                break
            } else if c == "[" {
                balance += 1
            } else if c == "]" {
                balance -= 1
            }
        }
        return balance
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
