// swift-tools-version:6.0
// libFuzzer targets for circuits' file and wire readers (after swift-protobuf's FuzzTesting).
// A separate package so the main build never needs `-sanitize=fuzzer`. Build and run them all
// with `scripts/fuzz.sh [SECONDS_PER_TARGET]`; see docs/fuzzing.md.
import PackageDescription

/// One executable per fuzz target: `Sources/<name>/main.swift` defines `LLVMFuzzerTestOneInput`.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "circuits") })
}

let package = Package(
    name: "CircuitsFuzz",
    dependencies: [.package(name: "circuits", path: "..")],
    targets: [
        // Per-process scratch files for the loaders that read a file or a folder.
        .target(name: "FuzzSupport"),
        fuzzTarget("FuzzSafeTensors", ["Tracer"]),
        fuzzTarget("FuzzModelConfig", ["Tracer"]),
        fuzzTarget("FuzzTranscoderConfig", ["Tracer"]),
        fuzzTarget("FuzzTokenizer", ["Tokenizers"]),
        fuzzTarget("FuzzTokenizerEncode", ["Tokenizers"]),
        fuzzTarget("FuzzZip", ["Tracer"]),
        fuzzTarget("FuzzNumPy", ["Tracer"]),
        fuzzTarget("FuzzJobSpec", ["Shared"]),
        fuzzTarget("FuzzMessage", ["Shared"]),
        fuzzTarget("FuzzCorpus", ["Storage"]),
    ]
)
