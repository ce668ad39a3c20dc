// swift-tools-version:6.0
// circuits: corpus-scale attribution graphs (circuit tracing) for transformer language models.
import PackageDescription

let package = Package(
    name: "circuits",
    products: [
        .executable(name: "circuits", targets: ["circuits"]),
        // Libraries for the fuzz targets in Fuzz/ (a separate package depending on this one by path).
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "Shared", targets: ["Shared"]),
        .library(name: "Tracer", targets: ["Tracer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        // 1.11: LogHandler.log(event:).
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
        // `circuits serve`: the HTTP server of the interactive viewer.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // `circuits coordinator --metrics-port`: the Prometheus registry and text exposition.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // ... and its HTTP server (already in the graph through Hummingbird).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libhdf5-dev, libzmq3-dev, zlib1g-dev). Shims only.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5"),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        // zlib (Debian: zlib1g-dev): deflate entries of .npz transcoder files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // prctl, which Swift cannot call (variadic): local workers die with their `circuits run`.
        .target(name: "CProcess"),

        // Hugging Face tokenizer.json: normalizers, pre-tokenizers, BPE / WordLevel, decoders.
        // Depends on nothing of the engine.
        .target(name: "Tokenizers"),
        // What is written to disk and read back: HDF5 files, the shard and aggregate schema,
        // corpus statistics (feature and pair statistics), strict text and YAML reading of
        // configuration files. The engine sees only this.
        .target(name: "Storage", dependencies: ["CHDF5", "Yams"]),
        // What coordinator and workers speak: job specs and corpora, checksums, the journal,
        // ZeroMQ sockets and messages.
        .target(name: "Shared", dependencies: ["Storage", "CZMQ", "CProcess", "Yams", .product(name: "Crypto", package: "swift-crypto")]),
        // The engine: load → forward → transcoders → attribute → prune → export.
        .target(name: "Tracer", dependencies: ["Tokenizers", "Storage", "CBLAS", "CZlib", "Yams", .product(name: "Logging", package: "swift-log")]),
        // The worker loop: receives tasks, runs the engine, writes shards.
        .target(name: "Worker", dependencies: ["Shared", "Storage", "Tracer", .product(name: "Logging", package: "swift-log")]),
        // Sharding, leases, journal, merge, reports, the local run (coordinator + worker pool), and
        // the coordinator's Prometheus metrics and health endpoint.
        .target(name: "Coordinator", dependencies: ["Shared", "Storage", .product(name: "Logging", package: "swift-log"),
                                                    .product(name: "Prometheus", package: "swift-prometheus"),
                                                    .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOPosix", package: "swift-nio"),
                                                    .product(name: "NIOHTTP1", package: "swift-nio")]),
        // `circuits serve`: the interactive viewer (HTTP server, JSON API, pages as string literals).
        .target(name: "Serve", dependencies: ["Storage", "Shared", "Tracer", "Coordinator", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")]),
        // Transcoder training: activations from forward passes → PLT/CLT parameters → native files.
        .target(name: "Training", dependencies: ["Tokenizers", "Storage", "Tracer", "CBLAS"]),
        // The command line.
        .executableTarget(
            name: "circuits",
            dependencies: [
                "Tokenizers", "Storage", "Shared", "Tracer", "Worker", "Coordinator", "Training", "Serve",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Test helpers: reference-case discovery, tolerances, safetensors / .npz fixture writers.
        .target(name: "TestSupport", dependencies: ["Tracer", "Storage", "CZlib"], path: "Tests/TestSupport"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "TracerTests", dependencies: ["Tracer", "Tokenizers", "Storage", "TestSupport"]),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "Storage", "TestSupport"]),
        .testTarget(name: "WorkerTests", dependencies: ["Worker", "Tracer", "Shared", "Storage", "TestSupport"]),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Worker", "Shared", "Storage", "Tracer", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tracer", "Tokenizers", "Storage", "TestSupport"]),
        .testTarget(name: "ServeTests", dependencies: ["Serve", "Storage", "Tracer", "TestSupport"]),
        // Runs the built `circuits` binary; also unit-tests its log handler (@testable import circuits).
        .testTarget(name: "CircuitsCLITests", dependencies: ["circuits", "Coordinator", "Shared", "Storage", "Tracer", "TestSupport", .product(name: "Logging", package: "swift-log")]),
    ]
)
