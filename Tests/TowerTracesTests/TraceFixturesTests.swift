import Foundation
import Synchronization
import Testing
import TowerHTTP
@testable import TowerTraces

/// The trace fixtures (Fixtures/traces, see PROVENANCE.md) and a fake transport for the clients.
enum TraceFixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/traces")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    /// A bare v1 Trace object wrapped in the `/api/traces` envelope.
    static func v1Envelope(_ name: String) throws -> [UInt8] {
        Array(#"{"data":["#.utf8) + (try bytes(name)) + Array(#"],"errors":null}"#.utf8)
    }
}

/// Canned answers by URL path; any other path gets Go's plain-text 404, as a server without the
/// route would. Records every request.
struct TraceFakeTransport: HTTPTransport {
    final class Log: Sendable {
        let requests = Mutex<[HTTPRequest]>([])
        var urls: [String] { requests.withLock { $0.map(\.url) } }
        var paths: [String] { urls.map { URLComponents(string: $0)?.path ?? $0 } }
        /// Query items of the last request, by name (a repeated name keeps its last value).
        var lastQuery: [String: String] {
            let items = requests.withLock { $0.last.flatMap { URLComponents(string: $0.url)?.queryItems } } ?? []
            return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        }
    }

    var routes: [String: HTTPResponse]
    var failure: HTTPTransportError?
    let log = Log()

    init(_ routes: [String: HTTPResponse] = [:], failure: HTTPTransportError? = nil) {
        self.routes = routes; self.failure = failure
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        log.requests.withLock { $0.append(request) }
        if let failure { throw failure }
        let path = URLComponents(string: request.url)?.path ?? request.url
        return routes[path] ?? HTTPResponse(status: 404, headers: ["content-type": "text/plain; charset=utf-8"],
                                            body: Array("404 page not found\n".utf8))
    }
}

func traceAnswer(_ status: Int = 200, _ body: [UInt8]) -> HTTPResponse {
    HTTPResponse(status: status, headers: ["content-type": "application/json"], body: body)
}

func traceAnswer(_ status: Int = 200, _ text: String) -> HTTPResponse { traceAnswer(status, Array(text.utf8)) }

@Suite struct TraceFixturesTests {
    /// Every fixture file is accounted for in PROVENANCE.md, and no Tempo (AGPL) file is a copy.
    @Test func everyFixtureHasProvenance() throws {
        let provenance = try String(contentsOf: TraceFixture.dir.appendingPathComponent("PROVENANCE.md"), encoding: .utf8)
        let files = FileManager.default.enumerator(atPath: TraceFixture.dir.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") }
        #expect(files.count >= 15)
        let missing = files.filter { !provenance.contains("`\(URL(fileURLWithPath: $0).lastPathComponent)`") }
        #expect(missing == [], "not in PROVENANCE.md")
        let upstreamTempo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/upstream/tempo")
        for f in (try? FileManager.default.contentsOfDirectory(atPath: upstreamTempo.path)) ?? [] {
            let theirs = try Data(contentsOf: upstreamTempo.appendingPathComponent(f))
            for ours in files where ours.hasPrefix("tempo/") {
                #expect(try Data(contentsOf: TraceFixture.dir.appendingPathComponent(ours)) != theirs)
            }
        }
    }
}
