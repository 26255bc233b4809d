import Foundation
import Store

/// The encodings a report needs: RFC 5322 dates and folding, RFC 2047 encoded-words, RFC 2045 quoted-printable.
enum MIMEText {
    /// `Sat, 21 Nov 2026 10:00:00 +0000` (RFC 5322 §3.3, numeric zone, UTC).
    static func date(_ seconds: Int64) -> String {
        let c = CivilDate.components(seconds)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = Int((days % 7 + 10) % 7)  // 1970-01-01 was a Thursday (index 3)
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(names[weekday]), \(c.day) \(months[c.month - 1]) \(c.year) \(two(c.hour)):\(two(c.minute)):"
            + "\(two(c.second)) +0000"
    }

    /// Text from a log made fit for one line: control characters (CR, LF, NUL, tab …) become spaces, runs of
    /// spaces one, and the ends are trimmed. Non-ASCII stays (it is encoded where it is written).
    static func singleLine(_ text: String) -> String {
        var out = ""
        var space = false
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
            if isControl || scalar == " " || scalar.properties.isWhitespace {
                space = !out.isEmpty
                continue
            }
            if space { out.append(" ") }
            space = false
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// True when `text` (already `singleLine`) can stand in an unstructured header field as it is: printable
    /// ASCII, no `=?` that a reader would take for an encoded-word, and no word too long to fold.
    static func isPlainHeaderText(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }), !text.contains("=?") else {
            return false
        }
        return text.split(separator: " ").allSatisfy { $0.utf8.count <= 60 }
    }

    /// An unstructured header value: `text` as it is when plain, else RFC 2047 `B` encoded-words of UTF-8, each at
    /// most 75 characters and split only between characters (RFC 2047 §5), separated by spaces for folding.
    static func headerText(_ text: String) -> String {
        let line = singleLine(text)
        if isPlainHeaderText(line) { return line }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in line.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return words.joined(separator: " ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// `Name: value` folded before spaces so that lines stay within 78 characters where the value allows it (RFC
    /// 5322 §2.2.3); every piece the builder writes is far below the 998-character limit.
    static func field(_ name: String, _ value: String) -> String {
        var lines: [String] = []
        var current = name + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: true) {
            if current.utf8.count + 1 + word.utf8.count > 78 && current.contains(" ") {
                lines.append(current)
                current = " " + word
            } else {
                current += " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Quoted-printable (RFC 2045 §6.7) of UTF-8 text whose lines end in `\n`; output lines end in CRLF and are at
    /// most 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            let bytes = Array(line.utf8)
            for (i, b) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let token: String
                if (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || ((b == 0x20 || b == 0x09) && !last) {
                    token = String(UnicodeScalar(b))
                } else {
                    token = "=" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
                }
                if current.utf8.count + token.utf8.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += token
            }
            out += current + "\r\n"
        }
        return out
    }

    /// An IPv4 or IPv6 address as the log gave it, or nil for anything else.
    static func ipAddress(_ text: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1 { return text }
        return nil
    }

    /// A Message-ID as logged (without angle brackets) that can be written as `<id>`: printable ASCII without
    /// spaces, quotes, brackets or backslashes, with an `@`, at most 250 characters.
    static func isSafeMessageID(_ id: String) -> Bool {
        id.utf8.count <= 250 && id.contains("@")
            && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"<>\"\\()[],;".utf8.contains($0) }
    }
}
