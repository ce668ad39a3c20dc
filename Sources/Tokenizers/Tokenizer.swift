import Foundation

// Tokenizer: where a prompt enters the engine. Reads a Hugging Face `tokenizer.json` and
// reproduces `tokenizers`' encode/decode in pure Swift:
//
//   text → added tokens matched (raw, then normalized)  AddedVocabulary.swift
//        → normalizer (per stretch between them)        Normalizer.swift
//        → pre-tokenizer (words)                        PreTokenizer.swift, ByteLevel.swift
//        → model (ids per word)                         BPE.swift, WordLevel.swift
//        → post-processor (special tokens, on request)  PostProcessor.swift
//   ids → token strings → decoder → text                Decoder.swift
//
// Special-token roles (bos/eos/pad/unk, `all_special_ids`) come from `tokenizer_config.json`
// and `special_tokens_map.json` as in `transformers`; `attributedIds` is circuit-tracer's
// `ensure_tokenized`.

/// A Hugging Face tokenizer read from `tokenizer.json`.
///
/// Supported: `BPE` (byte-level GPT-2 / Llama-3 / Qwen style, and SentencePiece style with
/// `byte_fallback`) and `WordLevel` models; the normalizers, pre-tokenizers, decoders and
/// post-processors listed in `Normalizer.supportedTypes` etc. Any other component is a load
/// error naming its type and the file.
public struct Tokenizer: Sendable {
    /// The `tokenizer.json` this was read from.
    public let file: String
    private let model: TokenModel
    private let addedVocabulary: AddedVocabulary
    private let addedTokenById: [Int: AddedToken]
    private let addedTokenByContent: [ExactString: Int]
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer?
    private let postProcessor: PostProcessor?
    private let decoder: TokenDecoder?

    /// HF `all_special_ids` (see `specialTokenIds`).
    public let specialTokenIds: [Int]
    public let bosTokenId: Int?
    public let eosTokenId: Int?
    public let padTokenId: Int?
    public let unkTokenId: Int?

    /// Loads `tokenizer.json` and, from the same folder when present, `tokenizer_config.json`
    /// and `special_tokens_map.json` for the bos/eos/pad/unk tokens and `specialTokenIds`.
    ///
    /// - Throws: `TokenizerError.fileNotFound` naming the path when `tokenizer.json` is missing;
    ///   `TokenizerError.malformedFile` for invalid JSON; `TokenizerError` for unsupported or
    ///   invalid components.
    public init(modelDirectory: URL) throws {
        try self.init(file: modelDirectory.appendingPathComponent("tokenizer.json"),
                      roles: try SpecialTokenRoles.load(directory: modelDirectory))
    }

    /// Loads `tokenizer.json` alone. With no `tokenizer_config.json` to name them, bos, eos
    /// and pad are nil, `unkTokenId` is the model's `unk_token`, and `specialTokenIds` lists the
    /// added tokens marked `special`, by id.
    public init(tokenizerJSON: URL) throws {
        try self.init(file: tokenizerJSON, roles: nil)
    }

    private init(file url: URL, roles: SpecialTokenRoles?) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw TokenizerError.fileNotFound(path, what: "tokenizer.json") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.malformedFile(path, "cannot be read: \(error)") }
        guard case let .object(object) = try JSONParser.parse(data, source: path) else {
            throw TokenizerError.malformedFile(path, "expected a JSON object at the top level")
        }
        let root = ConfigNode(object, file: path)
        file = path
        model = try TokenModel(node: try root.node("model"))
        normalizer = try root.optionalNode("normalizer").map(Normalizer.init(node:))
        preTokenizer = try root.optionalNode("pre_tokenizer").map(PreTokenizer.init(node:))
        postProcessor = try root.optionalNode("post_processor").map(PostProcessor.init(node:))
        decoder = try root.optionalNode("decoder").map(TokenDecoder.init(node:))

        let added = try root.nodes("added_tokens").map(AddedToken.init(node:))
        addedVocabulary = AddedVocabulary(tokens: added, normalizer: normalizer)
        var byId: [Int: AddedToken] = [:], byContent: [ExactString: Int] = [:]
        for token in added {
            byId[token.id] = token
            byContent[ExactString(token.content)] = token.id
        }
        addedTokenById = byId
        addedTokenByContent = byContent

        // Role ids: a role naming no known token has no id (transformers would map it to unk).
        let model = self.model
        func lookup(_ token: String?) -> Int? {
            guard let token else { return nil }
            return byContent[ExactString(token)] ?? model.vocabulary.id(of: token)
        }
        if let roles {
            bosTokenId = lookup(roles.named["bos_token"])
            eosTokenId = lookup(roles.named["eos_token"])
            padTokenId = lookup(roles.named["pad_token"])
            unkTokenId = lookup(roles.named["unk_token"])
            specialTokenIds = roles.allSpecialTokens.compactMap(lookup)
        } else {
            bosTokenId = nil
            eosTokenId = nil
            padTokenId = nil
            unkTokenId = lookup(model.unkToken)
            specialTokenIds = added.filter(\.special).map(\.id).sorted()
        }
    }

    /// Max id + 1 over the model vocabulary and the added tokens.
    public var vocabularySize: Int {
        max(model.vocabulary.upperBound, (addedTokenById.keys.max() ?? -1) + 1)
    }

    /// The ids of `text`, as `tokenizers`' `Tokenizer.encode(text, add_special_tokens=…).ids`.
    ///
    /// - Parameter addSpecialTokens: apply the post-processor (e.g. prepend `<s>`).
    /// - Throws: `TokenizerError.unknownToken(word)` when a WordLevel word is not in the
    ///   vocabulary and there is no unknown token.
    /// - Complexity: linear in the text for pre-tokenized models; O(n log n) per word for BPE.
    public func encode(_ text: String, addSpecialTokens: Bool = false) throws -> [Int] {
        var pieces = addedVocabulary.extract(text, normalizer: normalizer)
        if let preTokenizer { pieces = preTokenizer.preTokenize(pieces) }
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 2)
        for piece in pieces {
            if let id = piece.tokenId {
                ids.append(id)
            } else if !piece.text.isEmpty {
                ids.append(contentsOf: try model.tokenize(piece.text))
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
        return ids
    }

    /// The text of `ids`, as `tokenizers`' `Tokenizer.decode`: unknown ids are skipped, the
    /// decoder is applied to the token strings (joined by spaces when there is none).
    ///
    /// - Parameter skipSpecialTokens: leave out added tokens marked `special`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let tokens = ids.compactMap { id -> String? in
            guard let token = tokenString(id) else { return nil }
            return skipSpecialTokens && addedVocabulary.isSpecial(token) ? nil : token
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }

    /// The raw vocabulary entry of `id` (added tokens first), e.g. "Ġthe" or "<s>".
    public func tokenString(_ id: Int) -> String? {
        addedTokenById[id]?.content ?? model.vocabulary.token(for: id)
    }

    /// The id of a raw vocabulary entry (added tokens first), compared byte for byte.
    public func id(of token: String) -> Int? {
        addedTokenByContent[ExactString(token)] ?? model.vocabulary.id(of: token)
    }

    /// circuit-tracer's `ensure_tokenized`: the prompt encoded without special tokens and,
    /// unless its first id is already in `specialTokenIds`, a start token prepended: the first
    /// truthy id (0 counts as missing, as Python's `filter(None, …)` does) of
    /// `[bosTokenId, padTokenId, eosTokenId] + specialTokenIds`.
    ///
    /// - Throws: `TokenizerError.emptyPrompt` when the prompt encodes to no tokens;
    ///   `TokenizerError.noBeginningOfSequenceToken` when no candidate exists.
    public func attributedIds(for prompt: String) throws -> [Int] {
        let ids = try encode(prompt, addSpecialTokens: false)
        guard let first = ids.first else { throw TokenizerError.emptyPrompt }
        if specialTokenIds.contains(first) { return ids }
        let candidates = [bosTokenId, padTokenId, eosTokenId] + specialTokenIds.map(Optional.some)
        guard let start = candidates.lazy.compactMap({ $0 }).first(where: { $0 != 0 }) else {
            throw TokenizerError.noBeginningOfSequenceToken(file: file)
        }
        return [start] + ids
    }
}
