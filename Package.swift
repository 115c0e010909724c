// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "signet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "signet", targets: ["signet"]),
        .library(name: "SignetPrimitives", targets: ["SignetPrimitives"]),
        .library(name: "SignetCEL", targets: ["SignetCEL"]),
        .library(name: "SignetJMESPath", targets: ["SignetJMESPath"]),
        .library(name: "SignetOCI", targets: ["SignetOCI"]),
        .library(name: "SignetSigning", targets: ["SignetSigning"]),
        .library(name: "SignetKMS", targets: ["SignetKMS"]),
        .library(name: "SignetPolicy", targets: ["SignetPolicy"]),
        .library(name: "SignetVerification", targets: ["SignetVerification"]),
        .library(name: "SignetAdmission", targets: ["SignetAdmission"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // JSON values, RE2 regular expressions, Go durations, Kubernetes quantities: no dependencies.
        .target(name: "SignetPrimitives", swiftSettings: swiftSettings),
        // The Common Expression Language: no Signet dependency beyond SignetPrimitives.
        .target(name: "SignetCEL", dependencies: ["SignetPrimitives"], swiftSettings: swiftSettings),
        // JMESPath with Kyverno's function library: no Signet dependency beyond SignetPrimitives.
        .target(
            name: "SignetJMESPath",
            dependencies: [
                "SignetPrimitives",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // `swift run -c release signet-cel-bench` / `signet-jp-bench` (scripts/bench-cel, bench-jmespath).
        .executableTarget(name: "signet-cel-bench", dependencies: ["SignetCEL", "SignetPrimitives"], swiftSettings: swiftSettings),
        .executableTarget(name: "signet-jp-bench", dependencies: ["SignetJMESPath", "SignetPrimitives"], swiftSettings: swiftSettings),
        .target(
            name: "SignetOCI",
            dependencies: [
                "SignetPrimitives",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SignetSigning",
            dependencies: [
                "SignetOCI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SignetKMS",
            dependencies: [
                "SignetSigning", "SignetOCI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SignetPolicy",
            dependencies: [
                "SignetOCI", "SignetPrimitives", "SignetCEL", "SignetJMESPath",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The verification layer shared by the CLI (`apply`, `test`, `verify`) and the webhook:
        // SignetPolicy's `ImageVerifier` over a real registry, and the one error classification.
        .target(
            name: "SignetVerification",
            dependencies: ["SignetPolicy", "SignetOCI", "SignetSigning", "SignetKMS", "SignetPrimitives"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SignetAdmission",
            dependencies: [
                "SignetPolicy", "SignetVerification", "SignetPrimitives", "SignetOCI", "SignetJMESPath",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "signet",
            dependencies: [
                "SignetPrimitives", "SignetCEL", "SignetJMESPath", "SignetOCI", "SignetSigning", "SignetKMS", "SignetPolicy", "SignetVerification", "SignetAdmission",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks (`swift run -c release signet-bench ...`), kept out of unit tests.
        .executableTarget(
            name: "signet-bench",
            dependencies: [
                "SignetKMS", "SignetPolicy", "SignetPrimitives", "SignetAdmission", "SignetOCI", "SignetVerification",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts real registries, OpenBao and token issuers for the integration tests.
        .target(
            name: "SignetTestSupport",
            dependencies: [
                "SignetOCI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/SignetTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SignetOCITests", dependencies: ["SignetOCI", "SignetTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "SignetSigningTests", dependencies: ["SignetSigning", "SignetTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "SignetKMSTests", dependencies: ["SignetKMS", "SignetTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SignetPrimitivesTests", dependencies: ["SignetPrimitives"], swiftSettings: swiftSettings),
        .testTarget(name: "SignetCELTests", dependencies: ["SignetCEL", "SignetPrimitives"], swiftSettings: swiftSettings),
        .testTarget(name: "SignetJMESPathTests", dependencies: ["SignetJMESPath", "SignetPrimitives"],
                    exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "SignetPolicyTests", dependencies: ["SignetPolicy", "SignetPrimitives", "SignetTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "SignetVerificationTests",
                    dependencies: ["SignetVerification", "SignetPolicy", "SignetOCI", "SignetSigning", "SignetKMS", "SignetTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SignetAdmissionTests",
                    dependencies: ["SignetAdmission", "SignetVerification", "SignetKMS", "SignetPolicy", "SignetPrimitives", "SignetSigning", "SignetOCI", "SignetTestSupport",
                                   .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                   .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                   .product(name: "NIOHTTP1", package: "swift-nio"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                   .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                                   .product(name: "HTTPTypes", package: "swift-http-types")],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    ]
)
