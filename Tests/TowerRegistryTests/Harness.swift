import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TowerDomain
@testable import TowerRegistry
import TowerStorePostgres

/// A registry on a fresh database (SQLite, or PostgreSQL on the tests' own server) with one token per role and a seeded fleet, driven
/// through Hummingbird's router test client (no sockets).
struct Harness {
    let dir: String
    let store: RegistryStore
    let viewer: String
    let op: String
    let admin: String
    /// A pipeline's token: applies specs and submits evaluations, moves no traffic.
    let deployer: String
    /// Least privilege: xDS only.
    let gateway: String

    static func digest(_ n: Int) -> String { "sha256:" + String(repeating: String(format: "%02x", n % 256), count: 32) }

    static let seed: [EndpointSpec] = [
        EndpointSpec(name: "alpha", path: "/v1/models/alpha", owner: "team-vision", versions: [
            .init(name: "v1", artifact: Artifact(uri: "s3://models/alpha/1", digest: digest(1)), weight: 90, gate: .passed, stage: .prod),
            .init(name: "v2", artifact: Artifact(uri: "s3://models/alpha/2", digest: digest(2)), weight: 10, gate: .passed, stage: .prod),
        ]),
        EndpointSpec(name: "fraud", path: "/v1/models/fraud", owner: "team-risk", versions: [
            .init(name: "v3", artifact: Artifact(uri: "s3://models/fraud/3", digest: digest(3)), weight: 100, gate: .passed, stage: .prod),
            .init(name: "v4", artifact: Artifact(uri: "s3://models/fraud/4", digest: digest(4)), weight: 0, gate: .failed,
                  gateSummary: "AUC 0.871 < 0.900", stage: .staging),
        ]),
    ]

    init(store kind: StoreKind = .sqlite, drainTimeout: TimeInterval = 30) async throws {
        let dir = NSTemporaryDirectory() + "tower-registry-test-" + UUID().uuidString
        self.dir = dir
        let (store, tokens) = try await offThePool {
            let store = try RegistryStore(backend: try Self.backend(kind, dir: dir), drainTimeout: drainTimeout)
            return (store, try [("vera", Role.viewer), ("otto", .operator), ("ada", .admin), ("ci", .deployer), ("edge", .gateway)]
                .map { try store.createToken(name: $0.0, role: $0.1) })
        }
        self.store = store
        (viewer, op, admin, deployer, gateway) = (tokens[0], tokens[1], tokens[2], tokens[3], tokens[4])
        try await Seed.apply(Self.seed, to: store, source: "test")
    }

    /// A fresh, empty store of `kind`: an SQLite folder at `dir`, or a new PostgreSQL database.
    static func backend(_ kind: StoreKind, dir: String) throws -> any StoreBackend {
        switch kind {
        case .sqlite: return try SQLiteBackend(directory: dir)
        case .postgres: return try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
        }
    }

    /// Another store on the same database, as a restarted process (or another replica) opens it.
    func reopen() throws -> RegistryStore {
        if let pg = store.backend as? PostgresBackend {
            return try RegistryStore(backend: try PostgresBackend(url: pg.url, password: nil), drainTimeout: store.drainTimeout)
        }
        return try RegistryStore(directory: dir, drainTimeout: store.drainTimeout)
    }

    func cleanUp() {
        try? store.backend.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `body` against the router, then removes the database.
    static func run(store kind: StoreKind = .sqlite, drainTimeout: TimeInterval = 30, xds: XDSOptions = XDSOptions(),
                    _ body: @escaping @Sendable (Harness, Client) async throws -> Void) async throws {
        let h = try await Harness(store: kind, drainTimeout: drainTimeout)
        defer { h.cleanUp() }
        let app = Application(router: buildRouter(store: h.store, xds: xds))
        try await app.test(.router) { client in try await body(h, Client(client: client)) }
    }

    /// What must not move when a request is refused.
    func state() async throws -> (EndpointList, Int) { (store.list(), try store.auditCount()) }

    func expectUnchanged(since before: (EndpointList, Int), sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let now = try await state()
        #expect(now.0 == before.0, "endpoints changed", sourceLocation: sourceLocation)
        #expect(now.1 == before.1, "audit grew", sourceLocation: sourceLocation)
    }
}

struct Reply {
    let status: Int
    let headers: HTTPFields
    let body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var problem: Problem? { try? Wire.decoder().decode(Problem.self, from: body) }
    func decode<T: Decodable>(_ t: T.Type) throws -> T { try Wire.decoder().decode(t, from: body) }
}

struct Client: @unchecked Sendable {
    let client: any TestClientProtocol

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, ifMatch: String? = nil, json: String? = nil,
              raw: [UInt8]? = nil) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let ifMatch { headers[.ifMatch] = ifMatch }
        var body: ByteBuffer? = nil
        if let json { body = ByteBuffer(string: json); headers[.contentType] = "application/json" }
        if let raw { body = ByteBuffer(bytes: raw) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { r in
            Reply(status: Int(r.status.code), headers: r.headers, body: Data(buffer: r.body))
        }
    }
}
