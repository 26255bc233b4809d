import Foundation
import Reports
import Testing

/// The Public Suffix List algorithm (publicsuffix.org/list/) and RFC 3492 Punycode for its IDN rules.
@Suite struct PublicSuffixListTests {
    /// A few rules of each kind, as the list writes them.
    static let sample = PublicSuffixList(
        text: """
            // ===BEGIN ICANN DOMAINS===
            com
            uk
            co.uk
            *.ck
            !www.ck
            *.kawasaki.jp
            !city.kawasaki.jp
            jp
            cn
            公司.cn
            bücher.de
            例え.jp
            // ===BEGIN PRIVATE DOMAINS===
            github.io  (a comment after the rule)
            """)

    struct Case: Sendable, CustomTestStringConvertible {
        var domain: String
        var registrable: String?
        var testDescription: String { domain }
    }

    @Test(arguments: [
        Case(domain: "example.com", registrable: "example.com"),
        Case(domain: "www.Example.COM.", registrable: "example.com"),
        Case(domain: "mail.shop.example.co.uk", registrable: "example.co.uk"),
        Case(domain: "co.uk", registrable: nil),
        Case(domain: "com", registrable: nil),
        Case(domain: "bar.ck", registrable: nil),
        Case(domain: "foo.bar.ck", registrable: "foo.bar.ck"),
        Case(domain: "www.ck", registrable: "www.ck"),
        Case(domain: "a.www.ck", registrable: "www.ck"),
        Case(domain: "a.b.city.kawasaki.jp", registrable: "city.kawasaki.jp"),
        Case(domain: "a.b.town.kawasaki.jp", registrable: "b.town.kawasaki.jp"),
        Case(domain: "a.b.shop1.example", registrable: "shop1.example"),
        Case(domain: "shop.公司.cn", registrable: "shop.公司.cn"),
        Case(domain: "mail.shop.xn--55qx5d.cn", registrable: "shop.xn--55qx5d.cn"),
        Case(domain: "a.shop.xn--bcher-kva.de", registrable: "shop.xn--bcher-kva.de"),
        Case(domain: "shop.xn--r8jz45g.jp", registrable: "shop.xn--r8jz45g.jp"),
        Case(domain: "alice.github.io", registrable: "alice.github.io"),
        Case(domain: "a..example.com", registrable: nil),
    ])
    func registrableDomain(_ c: Case) {
        #expect(Self.sample.registrableDomain(c.domain) == c.registrable)
    }

    @Test func foldKeepsAPublicSuffixAsItIs() {
        #expect(Self.sample.fold("co.uk") == "co.uk")
        #expect(Self.sample.fold("news.shop.co.uk") == "shop.co.uk")
    }

    /// Debian's list, when installed (`.ci/run` installs the publicsuffix package).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: PublicSuffixList.debianPath), "no publicsuffix package"))
    func debiansList() throws {
        let list = try PublicSuffixList()
        #expect(list.registrableDomain("mail.shop.example.co.uk") == "example.co.uk")
        #expect(list.registrableDomain("a.b.city.kawasaki.jp") == "city.kawasaki.jp")
        #expect(list.registrableDomain("news.xn--55qx5d.cn") == "news.xn--55qx5d.cn")
        #expect(list.registrableDomain("relay.shop1.example") == "shop1.example")
    }

    @Test func aMissingListIsAClearError() {
        #expect {
            try PublicSuffixList(contentsOf: "/nonexistent/public_suffix_list.dat")
        } throws: { error in
            "\(error)"
                == "the Public Suffix List is not at /nonexistent/public_suffix_list.dat: install Debian's "
                + "publicsuffix package (apt-get install publicsuffix) or name the file with --public-suffix-list"
        }
    }
}
