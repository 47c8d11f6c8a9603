// swift-tools-version:6.0
import PackageDescription

// Module layering (ARCHITECTURE.md, "Modules, low level to high"): each module imports only those listed before it.
//   C shims → SystemCalls → SeededRandom → Checksum → Imaging → Registration → NN → FusionDiff → Simulation → Fusion
//   → Pipeline → Daemon → Web → focusd
// Each target declares exactly the modules it imports.
let package = Package(
    name: "focusd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "focusd", targets: ["focusd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // MARK: C libraries
        .target(
            name: "CTIFF",
            linkerSettings: [.linkedLibrary("tiff")]
        ),
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]
        ),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CInotify", path: "Sources/CInotify"),
        .systemLibrary(name: "CThreads", path: "Sources/CThreads"),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW"),

        // MARK: Swift modules
        // POSIX wrapped once: the one error type for failed system calls (call, path, errno) and EINTR retry.
        .target(name: "SystemCalls"),
        // The one seeded generator (SplitMix64) every reproducible draw comes from.
        .target(name: "SeededRandom"),
        // SHA-256 from swift-crypto (BoringSSL's assembly on Linux, CryptoKit on macOS).
        .target(name: "Checksum", dependencies: ["SystemCalls", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Imaging", dependencies: ["CTIFF", "CImageCodecs", "SystemCalls"]),
        // Pixel loops: optimised in debug builds too, so the tests' synthetic stacks stay fast.
        .target(name: "Registration", dependencies: ["Imaging", "CFFTW"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "NN", dependencies: ["CBLAS", "SeededRandom"]),
        .target(name: "FusionDiff", dependencies: ["NN", "SeededRandom"]),
        // Simulated microscope stacks and synthetic misaligned stacks with ground truth (training,
        // benchmarks, tests).
        .target(name: "Simulation", dependencies: ["Imaging", "Registration", "SeededRandom"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Fusion", dependencies: ["Imaging", "NN", "FusionDiff"]),
        // One stack in → aligned, fused image, maps and record out; profiles and their resolution.
        // What `focusd fuse`, `eval` and `align` need: no GRDB, no ServiceLifecycle.
        .target(
            name: "Pipeline",
            dependencies: [
                "SystemCalls", "Checksum", "Imaging", "Registration", "NN", "FusionDiff", "Fusion",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Watching, detection, journal, outputs, provenance and the service's lifecycle around the pipeline.
        .target(
            name: "Daemon",
            dependencies: [
                "SystemCalls", "Checksum", "Imaging", "Registration", "Pipeline", "CInotify", "CThreads",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Read-only status page (`focusd web`): its own process, reads the journal and output folders.
        .target(
            name: "Web",
            dependencies: [
                "Checksum", "Imaging", "Pipeline", "Daemon",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "focusd",
            dependencies: [
                "SystemCalls", "Checksum", "Imaging", "Registration", "NN", "FusionDiff", "Fusion", "Simulation",
                "SeededRandom", "Pipeline", "Daemon", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Tests (swift-testing), one target per module
        .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls"]),
        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "Imaging", "Simulation", "SeededRandom"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "SeededRandom"]),
        .testTarget(name: "FusionDiffTests", dependencies: ["FusionDiff", "NN", "SeededRandom"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Imaging"]),
        .testTarget(name: "FusionTests", dependencies: ["Fusion", "FusionDiff", "Imaging", "NN", "Simulation", "SeededRandom"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Pipeline", "Fusion", "FusionDiff", "Imaging", "Checksum", "SeededRandom", "SystemCalls",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Runs the built `focusd` executable: exit codes, messages, files end to end.
        .testTarget(name: "CLITests", dependencies: ["Imaging"]),
        .testTarget(name: "WebTests", dependencies: [
            "Web", "Daemon", "Imaging",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
