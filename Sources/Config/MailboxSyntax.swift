/// Which mail addresses and host names may stand in a header field or an SMTP command as they are.
public enum MailboxSyntax {
    /// A `local@domain` address whose local part is an RFC 5321 dot-string of at most 64 octets and whose domain is
    /// a host name or an address literal: nothing to quote or encode, no CR, LF, NUL, space, `"`, `;`, `<` or
    /// non-ASCII. An address from a log that is not safe is left out of a report, never passed on.
    public static func isSafeAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, local.first != UInt8(ascii: "."), local.last != UInt8(ascii: ".")
        else { return false }
        var previousDot = false
        for b in local {
            if b == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
                continue
            }
            previousDot = false
            guard isAtext(b) else { return false }
        }
        if domain.first == UInt8(ascii: "["), domain.last == UInt8(ascii: "]") {
            let literal = domain.dropFirst().dropLast()
            return !literal.isEmpty
                && literal.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }
        }
        return isHostName(String(decoding: domain, as: UTF8.self))
    }

    /// A DNS host name: dot-separated labels of letters, digits and inner hyphens, at most 253 octets.
    public static func isHostName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                label.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return true
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// RFC 5322 `atext`.
    private static func isAtext(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
    }
}
