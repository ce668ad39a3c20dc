// swift-tools-version:6.0
// circuits: corpus-scale attribution graphs (circuit tracing) for transformer language models.
import PackageDescription

let package = Package(
    name: "circuits",
    products: [
        .executable(name: "circuits", targets: ["circuits"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libhdf5-dev, libzmq3-dev, zlib1g-dev). Shims only.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5"),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        // zlib (Debian: zlib1g-dev): deflate entries of .npz transcoder files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // What coordinator and worker both speak: HDF5 files, job specs, messages, errors.
        .target(name: "Shared", dependencies: ["CHDF5", "CZMQ", "Yams", .product(name: "Crypto", package: "swift-crypto")]),
        // The engine: load → forward → transcoders → attribute → prune → export.
        .target(name: "Tracer", dependencies: ["Shared", "CBLAS", "CZlib", "Yams"]),
        // The worker loop: receives tasks, runs the engine, writes shards.
        .target(name: "Worker", dependencies: ["Shared", "Tracer"]),
        // Sharding, leases, journal, merge, reports.
        .target(name: "Coordinator", dependencies: ["Shared"]),
        // Transcoder training: activations from forward passes → PLT/CLT parameters → native files.
        .target(name: "Training", dependencies: ["Shared", "Tracer", "CBLAS"]),
        // The command line.
        .executableTarget(
            name: "circuits",
            dependencies: [
                "Shared", "Tracer", "Worker", "Coordinator", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Test helpers: reference-case discovery, tolerances, safetensors / .npz fixture writers.
        .target(name: "TestSupport", dependencies: ["Tracer", "CZlib"], path: "Tests/TestSupport"),
        .testTarget(name: "TracerTests", dependencies: ["Tracer", "TestSupport"]),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"]),
        .testTarget(name: "WorkerTests", dependencies: ["Worker", "Tracer", "Shared", "TestSupport"]),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Worker", "Shared", "Tracer", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tracer", "Shared", "TestSupport"]),
        .testTarget(name: "CircuitsCLITests", dependencies: ["Shared", "TestSupport"]),
    ]
)
