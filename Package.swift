// swift-tools-version:6.0
import PackageDescription

// Module layering (DESIGN.md): each module imports only those listed before it.
//   C shims → Checksum → Imaging → Registration → NN → FusionDiff → Simulation → Fusion → Daemon → Web → focusd
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

        // MARK: Swift modules
        // SHA-256 from swift-crypto (BoringSSL's assembly on Linux, CryptoKit on macOS).
        .target(name: "Checksum", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Imaging", dependencies: ["CTIFF", "CImageCodecs"]),
        // Pixel loops: optimised in debug builds too, so the tests' synthetic stacks stay fast.
        .target(name: "Registration", dependencies: ["Imaging"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "NN", dependencies: ["CBLAS"]),
        .target(name: "FusionDiff", dependencies: ["NN"]),
        // Simulated microscope stacks with ground truth (training, `bench stacks`, tests).
        .target(name: "Simulation", dependencies: ["Imaging", "NN"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Fusion", dependencies: ["Imaging", "Registration", "NN", "FusionDiff"]),
        .target(
            name: "Daemon",
            dependencies: [
                "Checksum", "Imaging", "Registration", "NN", "FusionDiff", "Fusion", "CInotify", "CThreads",
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
                "Checksum", "Imaging", "Daemon",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "focusd",
            dependencies: [
                "Checksum", "Imaging", "Registration", "NN", "FusionDiff", "Fusion", "Daemon", "Simulation", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests (swift-testing), one target per module
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "Imaging"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "FusionDiffTests", dependencies: ["FusionDiff", "NN"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Imaging"]),
        .testTarget(name: "FusionTests", dependencies: ["Fusion", "FusionDiff", "Imaging", "NN", "Simulation"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Fusion", "FusionDiff", "Imaging", "Checksum"]),
        // Runs the built `focusd` executable: exit codes, messages, files end to end.
        .testTarget(name: "CLITests", dependencies: ["Imaging"]),
        .testTarget(name: "WebTests", dependencies: [
            "Web", "Daemon", "Imaging",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
