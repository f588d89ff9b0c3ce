// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Lantern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lantern", targets: ["lantern"]),
        .executable(name: "LanternBench", targets: ["LanternBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Bearer-token authentication and the admin role policy on /admin; bcrypt and TOTP for the console's sign-in.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // The coordinator console's pages.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Vonage's and MessageBird's webhook JWTs: typed claims, checked signatures.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Settings from the environment and the owner-only config file, read through one ConfigReader.
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // NIOHTTPTypes: the request parts a connection guard sees (Hummingbird's own pipeline types).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Tests only: property-based fuzzing of parsers, verifiers and the keyword matcher.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // The domain, pure: flows, keywords, catalogues, segments, numbers. Foundation only.
        .target(name: "LanternCore"),
        // Persistence and the PII vault.
        .target(name: "LanternStore", dependencies: [
            "LanternCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // One folder per SMS provider: parse, verify, build sends.
        .target(name: "LanternProviders", dependencies: [
            "LanternCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Wiring: config, HTTP routes, the conversation use case, services.
        .target(name: "LanternServer", dependencies: [
            "LanternCore", "LanternStore", "LanternProviders",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], resources: [
            // The console's pages and stylesheet, compiled into the binary: nothing to ship beside it.
            .embedInCode("Console/Templates"),
        ]),
        .executableTarget(name: "lantern", dependencies: [
            "LanternServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fakes and builders shared by tests and the benchmark.
        .target(name: "LanternTesting", dependencies: [
            "LanternCore", "LanternStore", "LanternProviders", "LanternServer",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "LanternBench", dependencies: [
            "LanternServer", "LanternProviders", "LanternTesting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "LanternCoreTests", dependencies: ["LanternCore", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "LanternStoreTests", dependencies: ["LanternStore", "LanternServer", "LanternTesting"]),
        .testTarget(name: "LanternProvidersTests", dependencies: ["LanternProviders", "LanternTesting",
                                                                  .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "LanternServerTests", dependencies: ["LanternServer", "LanternTesting", .product(name: "Prometheus", package: "swift-prometheus"),
                                                              .product(name: "Hummingbird", package: "hummingbird"),
                                                              .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                              .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                                                              .product(name: "HTTPTypes", package: "swift-http-types")],
                    exclude: ["Transcripts", "Corpus"]),
    ],
    swiftLanguageModes: [.v6]
)
