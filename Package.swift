// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "relaysum",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "relaysum", targets: ["relaysum"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System zlib (zlib1g-dev): a thin inflater that restarts at every gzip member.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // One call to the variadic sqlite3_config(), which Swift cannot make.
        .target(name: "CSQLiteConfig", linkerSettings: [.linkedLibrary("sqlite3")]),
        // mallopt(), whose header Swift's Glibc module leaves out: the ingest's allocator setting.
        .target(name: "CAllocator"),
        // The one owner of the SQLite schema. System SQLite comes through GRDB's `GRDBSQLite`
        // system-library target, so the bulk writer can bind through the C API on GRDB's handle.
        .target(
            name: "Store",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CSQLiteConfig",
            ]
        ),
        // Reading, framing, parsing and correlating log lines; drives the store during an ingest.
        .target(
            name: "Ingest", dependencies: ["CZlib", "Store"],
            // The hot loop is single-owner code; dynamic exclusivity checks cost ~3 % of an ingest.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Settings read from the configuration file (thresholds, abuse addresses, report identity, retention).
        .target(name: "Config", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        .target(name: "Reports", dependencies: ["Store", "Config"]),
        // SMTP with STARTTLS and AUTH through the system's libcurl, loaded when the first report is mailed (no
        // headers needed to build); curl_easy_setopt() is variadic, so one C function makes the whole exchange.
        .target(name: "CSMTP"),
        // RFC 5965 reports: the pure builder, what is reported, and the transports that mail them.
        .target(name: "ARF", dependencies: ["Store", "Config", "CSMTP"]),
        .executableTarget(
            name: "relaysum",
            dependencies: [
                "Ingest", "Store", "Reports", "ARF", "Config", "CAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets for the parsers, the gzip reader and the correlators (RELIABILITY.md); built plainly, a
        // replay and seed-corpus tool.
        .executableTarget(name: "relaysum-fuzz", dependencies: ["Ingest", "Store"]),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest", "Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Ingest", "Reports"]),
        // Summaries, rejects, exports and licence counts over ingested fixtures and generated logs.
        .testTarget(
            name: "ReportsTests",
            dependencies: [
                "Reports", "Store", "Ingest", "Config", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Running programs from tests (the built binary, validators, servers), shared by the test targets; CSpawn
        // starts them with posix_spawn, every descriptor but 0-2 closed (Tests/TestSupport/ChildProcess.swift).
        .target(name: "CSpawn", path: "Tests/CSpawn"),
        .target(name: "TestSupport", dependencies: ["CSpawn"], path: "Tests/TestSupport"),
        // Runs the built `relaysum` binary and checks stdout, stderr and the exit status.
        .testTarget(name: "CLITests", dependencies: ["relaysum", "TestSupport"]),
        // The configuration file, the report builder (checked by arf_validate.py and Sisimai) and both transports.
        .testTarget(
            name: "ARFTests", dependencies: ["ARF", "Config", "Store", "TestSupport"],
            exclude: ["smtp_server.py", "sisimai_check.pl"]
        ),
        // Crashes, full disks, read-only databases, concurrent runs and rotation, through the built binary.
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["relaysum", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
