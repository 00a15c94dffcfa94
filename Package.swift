// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "redis-ocsp-exporter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "redis-ocsp-exporter", targets: ["redis-ocsp-exporter"]),
        .executable(name: "redis-ocsp-simulator", targets: ["redis-ocsp-simulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        .target(name: "RedisSoftwareAPI"),
        // libyaml from the system (libyaml-dev), read through its event parser; linked from
        // its static archive so that the binary needs no libyaml at run time.
        .systemLibrary(name: "CLibYAML", providers: [.apt(["libyaml-dev"])]),
        .target(name: "YAML", dependencies: ["CLibYAML"], linkerSettings: [.linkedLibrary(":libyaml.a")]),
        // The source revision of a release build (scripts/release defines it).
        .target(name: "CBuildInfo"),
        // The concurrency runtime's enqueue hook, so tasks can run on the event loops.
        .target(name: "CConcurrencyHook"),
        // The read-only segments of the loaded program and libraries, for StartupPages.
        .target(name: "CStartupPages"),
        // glibc's malloc tuning, which the Glibc module leaves out.
        .systemLibrary(name: "CMalloc"),
        // The TLS stapling probe, on the system's OpenSSL (libssl-dev).
        .target(name: "CStaplingProbe", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // The demo's stapling endpoints, on the same OpenSSL.
        .target(name: "CStaplingServer", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("pthread")]),
        .target(
            name: "RedisOCSPExporter",
            dependencies: [
                "RedisSoftwareAPI",
                "CStaplingProbe",
                "CBuildInfo",
                "CConcurrencyHook",
                "CMalloc",
                "CStartupPages",
                "YAML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ]
        ),
        .target(
            name: "OCSPSimulator",
            dependencies: [
                "RedisSoftwareAPI",
                "CStaplingServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "redis-ocsp-exporter",
            dependencies: [
                "RedisOCSPExporter",
                "OCSPSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "redis-ocsp-simulator",
            dependencies: [
                "OCSPSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "redis-ocsp-fuzz",
            dependencies: ["RedisOCSPExporter", "RedisSoftwareAPI", "CStaplingProbe"]
        ),
        .testTarget(
            name: "RedisOCSPExporterTests",
            dependencies: [
                "RedisOCSPExporter",
                "RedisSoftwareAPI",
                "OCSPSimulator",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RedisSoftwareAPITests", dependencies: ["RedisSoftwareAPI"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(
            name: "OCSPSimulatorTests",
            dependencies: ["OCSPSimulator", "RedisSoftwareAPI", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
