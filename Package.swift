// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "parc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "parc", targets: ["parc"]),
        .library(name: "ParcCore", targets: ["ParcCore"]),
        .library(name: "InventoryStore", targets: ["InventoryStore"]),
        // For the fuzzing harnesses in Fuzz/ (a package of their own, built with -sanitize=fuzzer).
        .library(name: "Exchange", targets: ["Exchange"]),
        .library(name: "Provisioning", targets: ["Provisioning"]),
        .library(name: "Templating", targets: ["Templating"]),
        .library(name: "FormData", targets: ["FormData"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Plain values and rules of the domain; no I/O. Digests (host-key fingerprints) from swift-crypto.
        .target(name: "ParcCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        // The SQLite inventory through GRDB: migrations, records, queries, audit log.
        .target(
            name: "InventoryStore",
            dependencies: [
                "ParcCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Jinja templates as Ansible renders them: lexer, parser, evaluator over `Value`, filters
        // and tests. No I/O of its own: lookups and password hashing come from the caller.
        .target(
            name: "Templating",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Playbooks: model, YAML loader, modules, and the runner. Talks to hosts only
        // through ParcCore's `Transport`.
        .target(
            name: "Provisioning",
            dependencies: [
                "ParcCore",
                "Templating",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // libqrencode from the system (Debian: libqrencode-dev), for asset labels.
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // Files in and out of the inventory: CSV imports, exports, the commune's report, labels.
        .target(
            name: "Exchange",
            dependencies: [
                "ParcCore", "InventoryStore", "CQREncode",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // zlib from the system (Debian: zlib1g-dev), for GLPI's compressed inventories.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libssh2 from the system (Debian: libssh2-1-dev).
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // The SSH transport over libssh2: sessions, channels, SFTP, host keys, agent.
        .target(
            name: "SSHTransport",
            dependencies: ["CLibSSH2", "ParcCore", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Simulated classroom devices: sshd processes with their own address and files.
        .target(
            name: "Lab",
            dependencies: ["ParcCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The use cases the command line and the web app share: runs, onboarding, facts, pending
        // work, imports; each reports its progress as a stream of typed events (`Job`).
        .target(
            name: "ParcApp",
            dependencies: [
                "ParcCore", "InventoryStore", "Exchange", "Provisioning", "Templating", "SSHTransport", "Lab", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                // GLPI pushes: no redirect followed, TLS with a CA of one's own.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // Multipart bodies as browsers send them (file uploads): a pure parser, fuzzed in Fuzz/.
        .target(name: "FormData", swiftSettings: strict),
        // The web application: the commune's portal, the technicians' pages and /api/v1, over the
        // same inventory file as the command line.
        .target(
            name: "Web",
            dependencies: [
                "ParcCore", "ParcApp", "FormData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                // The pages' layout and their parts are Mustache templates: {{value}} is escaped.
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The command line a technician uses.
        .executableTarget(
            name: "parc",
            dependencies: [
                "ParcCore",
                "ParcApp",
                "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks (not tests): figures printed by scripts/bench-*.
        .executableTarget(
            name: "parc-bench",
            dependencies: [
                "ParcCore",
                "InventoryStore",
                "SSHTransport",
                "Lab",
                "Exchange",
                "Provisioning",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ParcCoreTests", dependencies: ["ParcCore"], swiftSettings: strict),
        .testTarget(name: "FormDataTests", dependencies: ["FormData"], swiftSettings: strict),
        .testTarget(name: "TemplatingTests", dependencies: ["Templating"], swiftSettings: strict),
        // Against real sshd: the lab's devices, started and stopped by the tests themselves.
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport", "Lab", "ParcCore"], swiftSettings: strict),
        .testTarget(
            name: "InventoryStoreTests",
            dependencies: [
                "InventoryStore", "ParcCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ProvisioningTests", dependencies: ["Provisioning", "Templating", "ParcCore", "SSHTransport", "Lab"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        // The service layer against real sshd (lab devices).
        .testTarget(name: "ParcAppTests", dependencies: ["ParcApp", "ParcCore", "InventoryStore", "Provisioning", "Lab", "Exchange", "SSHTransport", "Templating"], swiftSettings: strict),
        .testTarget(name: "ExchangeTests", dependencies: ["Exchange", "InventoryStore", "ParcCore"], swiftSettings: strict),
        // The portal's router, pages and API, in process; and the browser tests (axe-core, Selenium).
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "InventoryStore", "ParcCore", "Exchange", "ParcApp", "Provisioning", "Templating", "Lab", "SSHTransport", "FormData",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            exclude: ["Browser", "Mail"],
            swiftSettings: strict
        ),
        // End-to-end: runs the built `parc` binary as a user would.
        .testTarget(name: "ParcCLITests", dependencies: ["parc", "ParcCore", "Lab"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
