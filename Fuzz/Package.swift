// swift-tools-version: 6.1
// libFuzzer harnesses for every Signet parser of untrusted bytes. Built only by scripts/fuzz:
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
// Each executable defines LLVMFuzzerTestOneInput and MODULE_main (SwiftPM's entry point on Linux),
// which hands over to libFuzzer (CFuzzDriver).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which differs between checkouts (CI clones
/// into a folder of its own choosing).
let signet = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One harness: an executable target in Sources/NAME depending on the Signet modules it drives.
/// Importers of SignetPolicy also name Yams: without it the compiler misses its C module (CYaml),
/// which SwiftPM does not pass on through another package's product.
func harness(_ name: String, _ modules: [String], logging: Bool = false) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + (modules.contains("SignetPrimitives") ? modules : modules + ["SignetPrimitives"])
            .map { .product(name: $0, package: signet) }
            + (logging ? [.product(name: "Logging", package: "swift-log")] : [])
            + (modules.contains("SignetPolicy") ? [.product(name: "Yams", package: "Yams")] : []),
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "signet-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], swiftSettings: swiftSettings),
        harness("FuzzJSON", ["SignetPrimitives"]),
        harness("FuzzAdmissionReview", ["SignetAdmission", "SignetPolicy"], logging: true),
        harness("FuzzPolicy", ["SignetPolicy"]),
        harness("FuzzPattern", ["SignetPolicy"]),
        harness("FuzzReference", ["SignetOCI", "SignetPolicy", "SignetSigning"]),
        harness("FuzzManifest", ["SignetOCI"]),
        harness("FuzzSignature", ["SignetSigning", "SignetOCI"]),
        harness("FuzzCosignKey", ["SignetSigning"]),
        harness("FuzzPEMKey", ["SignetSigning", "SignetPolicy"]),
        harness("FuzzDuration", ["SignetAdmission", "SignetPolicy"], logging: true),
        harness("FuzzDockerConfig", ["SignetOCI", "SignetVerification"]),
        harness("FuzzCEL", ["SignetCEL", "SignetPrimitives"]),
        harness("FuzzJMESPath", ["SignetJMESPath", "SignetPrimitives"]),
        harness("FuzzRE2", ["SignetPrimitives"]),
        harness("FuzzQuantity", ["SignetPrimitives"]),
        harness("FuzzGzip", ["SignetPolicy"]),
    ]
)
