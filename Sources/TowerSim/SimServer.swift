import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TowerDomain
import TowerTraces
import TowerSources

/// The simulator shared between the clock that advances it, the registry follower that routes it
/// and the HTTP handlers that read it.
public final class LiveSimulator: Sendable {
    private let sim: Mutex<Simulator>
    public let started: Date

    public init(_ sim: Simulator, started: Date = Date()) {
        self.sim = Mutex(sim)
        self.started = started
    }

    public func route(_ endpoints: [Endpoint]) { sim.withLock { $0.route(endpoints) } }

    public func advance(to now: Date, by seconds: Double) {
        sim.withLock { $0.advance(seconds: seconds, now: now, elapsed: now.timeIntervalSince(started)) }
    }

    /// Routing as last read from the registry.
    public var endpoints: [Endpoint] { sim.withLock { $0.endpoints } }
    public var virtualTraffic: Bool { sim.withLock { $0.virtualTraffic } }

    /// A version's behaviour at a moment of the run, events included.
    public func behaviour(endpoint: String, version: String, at now: Date = Date()) -> Behaviour {
        let elapsed = now.timeIntervalSince(started)
        return sim.withLock { $0.scenario.behaviour(endpoint: endpoint, version: version, elapsed: elapsed) }
    }

    /// See `Simulator.recordServed`.
    public func recordServed(endpoint: String, version: String, method: String, path: String, code: Int, start: Date,
                             seconds: Double, caller: TraceContext? = nil) {
        sim.withLock { $0.recordServed(endpoint: endpoint, version: version, method: method, path: path, code: code, start: start,
                                       seconds: seconds, caller: caller) }
    }

    /// Spans reported by someone else (a gateway's Zipkin tracer), joined to the traces held.
    public func addSpans(_ traces: [Trace]) { sim.withLock { for t in traces { $0.addTrace(t) } } }

    /// What a load generator should send: the endpoints the simulated fleet would give traffic
    /// (serving, with a serving version that has weight), at their scenario rates.
    public func loadTargets(rateScale: Double = 1) -> [LoadTarget] {
        sim.withLock { s in
            s.endpoints.filter { e in e.state == .serving && e.versions.contains { $0.state == .serving && $0.weight > 0 } }
                .map { LoadTarget(endpoint: $0.name, path: $0.path, rate: s.scenario.rate(of: $0.name) * rateScale) }
        }
    }

    /// Each routed endpoint's serving versions and their weights.
    public func weightsByEndpoint() -> [String: [(version: String, weight: Int)]] {
        sim.withLock { s in
            Dictionary(s.endpoints.map { e in
                (e.name, e.versions.filter { $0.state == .serving }.map { (version: $0.name, weight: $0.weight) })
            }, uniquingKeysWith: { a, _ in a })
        }
    }

    public func exposition() -> String { sim.withLock { $0.metrics.exposition() } }
    public func trace(id: String) -> Trace? { sim.withLock { $0.spans.trace(id: id) } }
    public var requests: Int { sim.withLock { $0.requests } }

    public func search(serviceName: String?, spanName: String?, minDurationMicros: Int64?, endTsMs: Int64, lookbackMs: Int64,
                       errorsOnly: Bool, limit: Int) -> [Trace] {
        sim.withLock { $0.spans.search(serviceName: serviceName, spanName: spanName, minDurationMicros: minDurationMicros,
                                       endTsMs: endTsMs, lookbackMs: lookbackMs, errorsOnly: errorsOnly, limit: limit) }
    }

    /// Advances the simulation every `tick` until cancelled.
    public func runClock(tick: Duration = .milliseconds(100)) async {
        var last = Date()
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let now = Date()
            advance(to: last, by: now.timeIntervalSince(last))
            last = now
        }
    }

    /// Follows the registry (list, then long-poll watch) so traffic moves as soon as weights do.
    /// Keeps the last routing while the registry is unreachable, retrying with backoff.
    public func follow(_ client: RegistryClient, onError: @escaping @Sendable (String) -> Void = { _ in }) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let list = try await client.list()
                route(list.endpoints)
                failures = 0
                var after = list.auditSeq
                while !Task.isCancelled {
                    let w = try await client.watch(after: after, timeout: 25)
                    if !w.events.isEmpty { break }
                    after = w.lastSeq
                }
            } catch {
                failures += 1
                onError("\(error)")
                try? await Task.sleep(for: .milliseconds(Int(Backoff.delay(failures: failures) * 1000)))
            }
        }
    }
}

/// `/metrics` (generic profile) and a Zipkin v2 query API (`/api/v2/traces`, `/api/v2/trace/{id}`)
/// over the simulated fleet, and a Zipkin collector (`POST /api/v2/spans`) so a gateway's spans
/// join the model servers'. With a load generator, its counters are added to `/metrics` and
/// served as JSON at `/load`.
public func buildSimRouter(_ live: LiveSimulator, load: LoadGenerator? = nil) -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}"))) }
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: live.exposition() + (load?.exposition() ?? ""))))
    }
    if let load {
        router.get("/load") { _, _ in jsonResponse(load.json()) }
    }
    router.post("/api/v2/spans") { req, _ in
        let body = try await req.body.collect(upTo: 8 << 20)
        do {
            live.addSpans(try ZipkinDecoder.decodeTrace(Array(buffer: body)))
        } catch {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "\(error)")))
        }
        return Response(status: .accepted)
    }
    router.get("/api/v2/trace/{id}") { _, ctx in
        let id = try ctx.parameters.require("id")
        guard let t = live.trace(id: id) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "trace \(Names.printable(id)) not found")))
        }
        return jsonResponse(SpanStore.encode(SpanStore.zipkinJSON(t.spans)))
    }
    router.get("/api/v2/traces") { req, _ in
        let q = req.uri.queryParameters
        func int(_ k: String) -> Int64? { q.get(k).flatMap { Int64($0) } }
        let end = int("endTs") ?? Int64(Date().timeIntervalSince1970 * 1000)
        let traces = live.search(serviceName: q.get("serviceName"), spanName: q.get("spanName"), minDurationMicros: int("minDuration"),
                                 endTsMs: end, lookbackMs: int("lookback") ?? 3_600_000,
                                 errorsOnly: q.get("annotationQuery").map { $0.contains("error") } ?? false,
                                 limit: Int(int("limit") ?? 10))
        return jsonResponse(SpanStore.encode(traces.map { SpanStore.zipkinJSON($0.spans) }))
    }
    router.get("/api/v2/services") { _, _ in
        let names = Set(live.search(serviceName: nil, spanName: nil, minDurationMicros: nil, endTsMs: Int64.max / 2000,
                                    lookbackMs: Int64.max / 2000, errorsOnly: false, limit: 100_000).flatMap { $0.spans.map(\.service) })
        return jsonResponse(SpanStore.encode(names.sorted()))
    }
    return router
}

private func jsonResponse(_ bytes: [UInt8]) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}
