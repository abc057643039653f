// swift-tools-version:6.1
// libFuzzer harnesses for parc's parsers: built only by scripts/fuzz (swift build
// --sanitize=fuzzer --sanitize=address), never by the ordinary build or CI.
import PackageDescription

let package = Package(
    name: "parc-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "parc", path: "..")],
    targets: [
        .executableTarget(name: "FuzzCSV", dependencies: [.product(name: "Exchange", package: "parc"),
                                                         .product(name: "InventoryStore", package: "parc")]),
        .executableTarget(name: "FuzzPlaybook", dependencies: [.product(name: "Provisioning", package: "parc"), .product(name: "Templating", package: "parc")]),
        .executableTarget(name: "FuzzForms", dependencies: [.product(name: "FormData", package: "parc")]),
        .executableTarget(name: "FuzzTemplate", dependencies: [.product(name: "Provisioning", package: "parc"), .product(name: "Templating", package: "parc")]),
    ],
    swiftLanguageModes: [.v6]
)
