// CurveZMQ keys and the ZAP allow-list, over real ZeroMQ sockets on loopback.
import Foundation
import Shared
import Testing
import TestSupport

@Suite(.serialized) struct TransportSecurityTests {
    @Test func keyFilesRoundTripAndAreNeverOverwritten() throws {
        let folder = try ScratchFolder("keys")
        defer { folder.remove() }
        let key = try CurveKey.generate()
        let secret = try #require(key.secretKey)
        #expect(CurveKey.isZ85Key(key.publicKey) && CurveKey.isZ85Key(secret) && key.publicKey != secret)
        try key.write(to: folder.url, name: "coordinator")
        let keyFile = folder.file("coordinator.key")
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the secret is readable by its owner only")
        #expect(try CurveKey.read(keyFile, needSecret: true) == key)
        #expect(try CurveKey.read(folder.file("coordinator.pub"), needSecret: false) == CurveKey(publicKey: key.publicKey, secretKey: nil))
        #expect(throws: CurveKeyError.exists(keyFile.path)) { try CurveKey.generate().write(to: folder.url, name: "coordinator") }
        #expect(try CurveKey.read(keyFile, needSecret: true) == key, "unchanged")
        // A .pub where a key pair is needed, garbage, a missing file: errors naming the file.
        #expect { try CurveKey.read(folder.file("coordinator.pub"), needSecret: true) } throws: { "\($0)".contains("coordinator.pub") && "\($0)".contains("secret") }
        try Data("public = short\n".utf8).write(to: folder.file("bad.pub"))
        #expect { try CurveKey.read(folder.file("bad.pub"), needSecret: false) } throws: { "\($0)".contains("bad.pub") && "\($0)".contains("Z85") }
        #expect(throws: CurveKeyError.missing(folder.file("none.key").path)) { try CurveKey.read(folder.file("none.key"), needSecret: true) }
    }

    @Test(arguments: [("tcp://127.0.0.1:5555", true), ("tcp://127.0.0.1:*", true), ("tcp://localhost:1", true), ("tcp://[::1]:9", true),
                      ("ipc:///tmp/x", true), ("tcp://0.0.0.0:5555", false), ("tcp://*:5555", false), ("tcp://10.0.0.1:1", false),
                      ("tcp://eth0:5555", false), ("tcp://127.example.com:1", false), ("tcp://127.0.0.300:1", false)])
    func loopbackEndpoints(endpoint: String, loopback: Bool) {
        // Only numeric 127/8 addresses, localhost, ::1 and the lo interface count: a name that
        // merely starts with "127." may resolve anywhere.
        #expect(isLoopbackEndpoint(endpoint) == loopback, "\(endpoint)")
    }

    /// What the authenticator decided, per key.
    final class Decisions: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [(accepted: Bool, key: String)] = []
        func append(_ accepted: Bool, _ key: String) { lock.lock(); list.append((accepted, key)); lock.unlock() }
        func refused(_ key: String) -> Bool { lock.lock(); defer { lock.unlock() }; return list.contains { !$0.accepted && $0.key == key } }
    }

    /// A coordinator-side CURVE server with an allow-list, and worker-side clients with several keys.
    final class Setup {
        let context: ZMQContext
        let router: ZMQSocket
        let endpoint: String
        let authenticator: ZAPAuthenticator
        let decisions = Decisions()
        let coordinatorKey: CurveKey
        let folder: ScratchFolder

        init() throws {
            folder = try ScratchFolder("zap")
            coordinatorKey = try CurveKey.generate()
            try coordinatorKey.write(to: folder.url, name: "coordinator")
            try FileManager.default.createDirectory(at: folder.file("workers"), withIntermediateDirectories: true)
            context = try ZMQContext()
            authenticator = try ZAPAuthenticator(context: context, authorizedKeys: folder.file("workers")) { [decisions] ok, _, key in
                decisions.append(ok, key)
            }
            router = try ZMQSocket(context, kind: .router)
            try router.secure(try TransportSecurity.coordinator(keys: folder.url))
            endpoint = try router.bind("tcp://127.0.0.1:*")
        }

        func authorize(_ key: CurveKey, as name: String) throws {
            try Data("public = \(key.publicKey)\n".utf8).write(to: folder.file("workers/\(name).pub"))
        }

        /// Connects a dealer with `security`, sends one frame, and returns what the router got.
        func attempt(_ security: TransportSecurity, id: String) throws -> [Data]? {
            let dealer = try ZMQSocket(context, kind: .dealer, identity: id)
            defer { dealer.close() }
            try dealer.secure(security)
            try dealer.connect(endpoint)
            _ = try dealer.trySend([Data("hello from \(id)".utf8)])
            return try router.receive(timeoutMilliseconds: 1500)
        }

        func close() {
            router.close()
            authenticator.stop()
            context.terminate()
            folder.remove()
        }
    }

    @Test func onlyAuthorizedWorkersWithTheRightCoordinatorKeyGetThrough() throws {
        let s = try Setup()
        defer { s.close() }
        let alice = try CurveKey.generate(), mallory = try CurveKey.generate()
        try s.authorize(alice, as: "alice")
        let frames = try #require(try s.attempt(.worker(key: alice, coordinatorKey: s.coordinatorKey.publicKey), id: "alice"))
        #expect(String(decoding: frames[1], as: UTF8.self) == "hello from alice")
        // An unknown key: the handshake fails at ZAP, nothing arrives.
        #expect(try s.attempt(.worker(key: mallory, coordinatorKey: s.coordinatorKey.publicKey), id: "mallory") == nil)
        #expect(s.decisions.refused(mallory.publicKey), "the refusal was reported")
        // No security at all against a CURVE server: nothing arrives.
        #expect(try s.attempt(.none, id: "plain") == nil)
        // A worker that trusts another coordinator key: its handshake fails, nothing arrives.
        #expect(try s.attempt(.worker(key: alice, coordinatorKey: try CurveKey.generate().publicKey), id: "alice2") == nil)
    }

    /// A dealer without keys against a CURVE server: libzmq drops the connection whose handshake
    /// failed (a protocol error: no reconnect), leaving the dealer without a peer, where a blocking
    /// send would wait forever. `trySend` says no at once instead; the worker's hello uses it
    /// (a worker without keys hung this way when its handshake failed before its first hello).
    @Test func aFailedHandshakeLeavesNoPeerAndTrySendDoesNotBlock() throws {
        let s = try Setup()
        defer { s.close() }
        let dealer = try ZMQSocket(s.context, kind: .dealer, identity: "plain-late")
        defer { dealer.close() }
        try dealer.connect(s.endpoint)
        let start = ContinuousClock.now
        var queued = true
        while queued, ContinuousClock.now - start < .seconds(10) {
            Thread.sleep(forTimeInterval: 0.05)
            // Queued messages before the handshake fails; refused once the pipe is gone.
            queued = try dealer.trySend([Data("hello".utf8)])
        }
        #expect(!queued, "the dealer kept a peer after its handshake failed")
        #expect(try s.router.receive(timeoutMilliseconds: 200) == nil)
    }

    @Test func deletingAPublicKeyRevokesTheWorker() throws {
        let s = try Setup()
        defer { s.close() }
        let bob = try CurveKey.generate()
        try s.authorize(bob, as: "bob")
        #expect(try s.attempt(.worker(key: bob, coordinatorKey: s.coordinatorKey.publicKey), id: "bob-1") != nil)
        try FileManager.default.removeItem(at: s.folder.file("workers/bob.pub"))
        #expect(try s.attempt(.worker(key: bob, coordinatorKey: s.coordinatorKey.publicKey), id: "bob-2") == nil)
        #expect(s.authenticator.authorizedKeys().isEmpty)
    }

    @Test func trySendNeverBlocksOnAPeerThatDoesNotRead() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, kind: .router)
        try router.limit(maxMessageBytes: 1 << 20, highWaterMark: 4)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, kind: .dealer, identity: "sleepy")
        try dealer.connect(endpoint)
        try dealer.send([Data("hi".utf8)])
        let hello = try #require(try router.receive(timeoutMilliseconds: 5000))
        // The dealer never reads: after its queue and the socket buffers fill, trySend says no at once.
        let chunk = Data(count: 256 << 10)
        var sent = 0
        let start = ContinuousClock.now
        while try router.trySend([hello[0], chunk]) { sent += 1; if sent > 100_000 { break } }
        #expect(sent < 100_000, "the queue never filled")
        #expect(ContinuousClock.now - start < .seconds(30))
        dealer.close(); router.close(); context.terminate()
    }
}
