import Foundation
import Testing
import TestSupport
import Tokenizers

/// `tokenizer.json` inputs that crashed `FuzzTokenizer` (`Fuzz/Regressions/FuzzTokenizer/`):
/// token ids of 2^63 − 1 overflowed `id + 1`. Ids are now limited to 0...2^32 − 1, as Hugging
/// Face `tokenizers` stores them.
@Suite struct TokenizerFuzzRegressionTests {
    @Test(arguments: FuzzRegressions.names("FuzzTokenizer"))
    func tokenizerIsRefused(name: String) throws {
        let scratch = try ScratchFolder("fuzz-tokenizer")
        defer { scratch.remove() }
        let url = try FuzzRegressions.write("FuzzTokenizer", name, into: scratch.url, as: "tokenizer.json")
        #expect { try Tokenizer(tokenizerJSON: url) } throws: { error in
            guard let e = error as? TokenizerError, case .invalidField = e else { return false }
            return "\(e)".contains("4294967295")
        }
    }

    @Test func regressionInputsArePresent() {
        #expect(FuzzRegressions.names("FuzzTokenizer").count == 2)
    }
}
