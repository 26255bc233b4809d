import Foundation

/// The Public Suffix List (publicsuffix.org): folds a domain to its registrable domain, the public suffix plus one
/// label (`mail.shop.example.co.uk` → `example.co.uk`). Read from Debian's `publicsuffix` package.
///
/// Follows the list's algorithm (publicsuffix.org/list/, "Formal algorithm"): an exception rule (`!www.ck`)
/// prevails, else the matching rule with the most labels (`*.ck` counts as two), else the implicit `*`. Rules with
/// non-ASCII labels also match their IDNA form (`公司.cn` and `xn--55qx5d.cn`, RFC 3492 Punycode).
package struct PublicSuffixList: Sendable {
    /// Where Debian's `publicsuffix` package installs the list.
    package static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// The list is not where it was looked for.
    package struct Missing: Error, CustomStringConvertible {
        package var path: String
        package var description: String {
            "the Public Suffix List is not at \(path): install Debian's publicsuffix package "
                + "(apt-get install publicsuffix) or name the file with --public-suffix-list"
        }
    }

    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    /// Reads the list at `path`.
    package init(contentsOf path: String = debianPath) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Missing(path: path) }
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// Reads the list's text: one rule a line, the first word of it; `//` comments.
    package init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let word = line.split(whereSeparator: \.isWhitespace).first, !word.hasPrefix("//") else { continue }
            var rule = word.lowercased()
            var set = \PublicSuffixList.rules
            if rule.hasPrefix("!") {
                rule.removeFirst()
                set = \.exceptions
            } else if rule.hasPrefix("*.") {
                rule.removeFirst(2)
                set = \.wildcards
            }
            self[keyPath: set].insert(rule)
            if rule.utf8.contains(where: { $0 >= 0x80 }) {
                self[keyPath: set].insert(Punycode.idna(rule))
            }
        }
    }

    /// The registrable domain of `domain` (lower-cased, without a trailing dot), or nil when `domain` is itself a
    /// public suffix.
    package func registrableDomain(_ domain: String) -> String? {
        var name = domain.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty, !labels.contains(where: \.isEmpty) else { return nil }
        let n = labels.count
        func suffix(_ i: Int) -> String { labels[i...].joined(separator: ".") }
        // Public-suffix length in labels.
        var suffixLabels = 1
        if let i = (0..<n).first(where: { exceptions.contains(suffix($0)) }) {
            suffixLabels = n - i - 1
        } else if let i = (0..<n).first(where: { i in
            rules.contains(suffix(i)) || (i + 1 < n && wildcards.contains(suffix(i + 1)))
        }) {
            suffixLabels = n - i
        }
        guard n > suffixLabels else { return nil }
        return suffix(n - suffixLabels - 1)
    }

    /// The registrable domain, or the domain itself when it is a public suffix.
    package func fold(_ domain: String) -> String {
        registrableDomain(domain) ?? domain
    }
}

/// RFC 3492 Punycode, for the IDNA (`xn--`) form of the list's non-ASCII rules.
enum Punycode {
    /// Each non-ASCII label of a dotted name as `xn--` + Punycode.
    static func idna(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).map { label in
            label.utf8.contains(where: { $0 >= 0x80 })
                ? "xn--" + encode(label.unicodeScalars.map(\.value)) : String(label)
        }.joined(separator: ".")
    }

    // RFC 3492 §5 parameter values.
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700

    /// RFC 3492 §6.1.
    private static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var d = first ? delta / damp : delta / 2
        d += d / points
        var k = 0
        while d > ((base - tMin) * tMax) / 2 {
            d /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * d / (d + skew)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d)))
    }

    /// RFC 3492 §6.3.
    static func encode(_ input: [UInt32]) -> String {
        var output = String(input.filter { $0 < 0x80 }.map { Character(Unicode.Scalar($0)!) })
        let b = output.count
        var h = b
        if b > 0 { output.append("-") }
        var n = 0x80
        var delta = 0
        var bias = 72
        while h < input.count {
            let m = Int(input.filter { Int($0) >= n }.min()!)
            delta += (m - n) * (h + 1)
            n = m
            for c in input {
                if Int(c) < n { delta += 1 }
                if Int(c) == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, h + 1, h == b)
                    delta = 0
                    h += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
