// swift-tools-version:6.1
// Package.swift is the architecture diagram (docs/architecture.md): a target imports only the
// targets above it in DESIGN §2's table. curses lives in one target, libcurl in one (TowerHTTP).
import PackageDescription

let package = Package(
    name: "tower",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tower-registry", targets: ["tower-registry"]),
        .executable(name: "tower-bench", targets: ["tower-bench"]),
        .executable(name: "tower", targets: ["tower"]),
        .executable(name: "tower-sim", targets: ["tower-sim"]),
        .executable(name: "tower-fuzz", targets: ["tower-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // Configuration support is not used; leaving the trait off spares CI a dependency build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // TLS for the registry's server only (TowerRegistryTLS): the console reaches servers through libcurl.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // The registry's store on PostgreSQL (TowerStorePostgres), linked into tower-registry only.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CNCursesw", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "TowerDomain", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "TerminalUI"),
        // Pure statistics for verdicts (DESIGN §10): no I/O, so console, CLI and registry judge alike.
        .target(name: "TowerAnalysis", dependencies: ["TowerDomain"]),
        // Runbook files and the rollout state machine (DESIGN §11): pure, so the registry's loop only
        // applies what it decides and tests drive it with a clock of their own.
        .target(name: "TowerRollouts", dependencies: [
            "TowerDomain", "TowerAnalysis",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "TerminalUICurses", dependencies: ["CNCursesw", "TerminalUI"]),
        .target(name: "TowerHTTP", dependencies: ["CCurl"]),
        .target(name: "TowerConsole", dependencies: [
            "TowerDomain", "TerminalUI", "TowerAnalysis", "TowerRollouts",
            .product(name: "Yams", package: "Yams"),
        ]),
        // What the console reads, split by who needs it: the Prometheus client and exposition parser
        // (TowerMetrics, which the registry's rollouts will reach through tower-registry), the trace
        // backends (TowerTraces), and the registry client with contexts joining them (TowerSources).
        .target(name: "TowerMetrics", dependencies: ["TowerDomain", "TowerHTTP"]),
        .target(name: "TowerTraces", dependencies: ["TowerDomain", "TowerHTTP"]),
        .target(name: "TowerSources", dependencies: [
            "TowerDomain", "TowerHTTP", "TowerMetrics", "TowerTraces",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "TowerRuntime", dependencies: [
            "TowerConsole", "TowerSources", "TowerMetrics", "TowerTraces", "TerminalUI", "TowerDomain", "TowerRollouts",
        ]),
        .target(name: "TowerSim", dependencies: [
            "TowerDomain", "TowerSources", "TowerTraces", "TowerHTTP",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // `tower-sim stack`: its own target, so that the console (which embeds the simulator for
        // `tower demo`) does not link what only the stack needs (swift-certificates for --tls).
        .target(name: "TowerStack", dependencies: [
            "TowerSim", "TowerDomain", "TowerSources", "TowerHTTP",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            // `stack --tls` makes its CA and certificates in-process (no openssl binary needed).
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "TowerRegistry", dependencies: [
            "TowerDomain", "TowerRollouts",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // The registry served over TLS (DESIGN §14): NIOSSL, client-certificate verification and CRLs.
        // Kept apart from TowerRegistry so that `tower` (whose `demo` embeds the registry on loopback,
        // in plain HTTP) does not link a second BoringSSL.
        .target(name: "TowerRegistryTLS", dependencies: [
            "TowerRegistry", "TowerDomain",
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The registry's store on PostgreSQL (DESIGN §12): several replicas over one database.
        // Its own target, imported by tower-registry only, so `tower` does not link PostgresNIO.
        .target(name: "TowerStorePostgres", dependencies: [
            "TowerRegistry", "TowerDomain",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "tower-registry", dependencies: [
            "TowerRegistry", "TowerRegistryTLS", "TowerStorePostgres", "TowerDomain", "TowerMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "tower", dependencies: [
            "TowerSources", "TowerMetrics", "TowerTraces", "TowerDomain", "TowerAnalysis", "TowerRuntime", "TowerConsole", "TerminalUI", "TerminalUICurses",
            "TowerRollouts",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [
            // Swift 6.3.1's optimiser crashes (signal 11, "While splitting coroutine") on the async
            // verbs of this executable, one after another as each is reshaped (issue 9). The
            // executable is argument parsing and wiring; the work it calls lives in the libraries,
            // which stay optimised. Remove once a toolchain compiles it (`swift build -c release`).
            .unsafeFlags(["-Onone"], .when(configuration: .release)),
        ]),
        .executableTarget(name: "tower-sim", dependencies: [
            // TowerRegistry and Hummingbird for `demo-backend`, the registry behind `tower demo`.
            "TowerSim", "TowerStack", "TowerSources", "TowerDomain", "TowerMetrics", "TowerRegistry",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "tower-bench", dependencies: [
            "TowerRegistry", "TowerMetrics", "TowerDomain", "TowerHTTP", "TowerConsole", "TerminalUI", "TowerSim", "TowerStack", "TowerAnalysis", "TowerRollouts",
            "TowerSources",
            // `registry --store postgres` seeds the database and watches the lease through it.
            "TowerStorePostgres",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // libFuzzer targets for the parsers of remote bytes (scripts/fuzz builds it with
        // -sanitize=fuzzer); an ordinary build replays corpus files through the same code.
        .executableTarget(name: "tower-fuzz", dependencies: ["TowerMetrics", "TowerTraces", "TowerSources", "TowerDomain"]),
        .testTarget(name: "TowerDomainTests", dependencies: ["TowerDomain"], exclude: ["Fixtures"]),
        .testTarget(name: "TowerMetricsTests", dependencies: ["TowerMetrics", "TowerDomain", "TowerHTTP"], exclude: ["Fixtures"]),
        .testTarget(name: "TowerTracesTests", dependencies: ["TowerTraces", "TowerDomain", "TowerHTTP"], exclude: ["Fixtures"]),
        .testTarget(name: "TowerSourcesTests", dependencies: ["TowerSources", "TowerMetrics", "TowerTraces", "TowerDomain", "TowerHTTP",
                                                           .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "TowerAnalysisTests", dependencies: ["TowerAnalysis", "TowerDomain"], exclude: ["reference"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "TowerRolloutsTests", dependencies: ["TowerRollouts", "TowerDomain"]),
        .testTarget(name: "TowerRuntimeTests", dependencies: [
            "TowerRuntime", "TowerConsole", "TowerSources", "TowerMetrics", "TowerTraces", "TowerDomain", "TowerHTTP", "TerminalUI", "TowerRollouts",
        ]),
        .testTarget(name: "TowerSimTests", dependencies: [
            "TowerSim", "TowerStack", "TowerSources", "TowerDomain", "TowerHTTP",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "TowerConsoleTests", dependencies: ["TowerConsole", "TowerDomain", "TerminalUI", "TowerAnalysis", "TowerRollouts"], exclude: ["__Snapshots__"]),
        .testTarget(name: "TerminalUICursesTests", dependencies: ["TerminalUICurses", "TerminalUI"]),
        // Also on PostgreSQL (TowerStorePostgres): the store's suites run on both stores.
        .testTarget(name: "TowerRegistryTests", dependencies: [
            "TowerRegistry", "TowerStorePostgres", "TowerDomain", "TowerRollouts", "TowerSim",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TowerRegistryTLSTests", dependencies: [
            "TowerRegistryTLS", "TowerSim",
            .product(name: "X509", package: "swift-certificates"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "TowerMetrics", "TowerDomain", "TowerHTTP", "TowerSim", "TowerStack", "TowerSources",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
