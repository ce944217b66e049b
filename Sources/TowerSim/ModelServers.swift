import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import TowerDomain
import TowerTraces

/// Real HTTP model servers, one per version, for a gateway to route real requests to. Each answers
/// any method and path after a latency drawn from its version's behaviour in the scenario at that
/// moment (so timed events apply), fails with the version's error ratio, names itself in
/// `x-tower-version`, and reports every request to the shared simulator: the same generic-profile
/// metrics and Zipkin traces as the simulated fleet, joined to the gateway's trace through B3.
///
/// Needs no registry: `tower-sim stack` starts these first and writes their ports into the
/// registry's seed.
public final class ModelServers: Sendable {
    /// Bound port by `"<endpoint>--<version>"`, the gateway's cluster name.
    public let ports: [String: Int]
    private let servers: [RunningServer]

    private init(ports: [String: Int], servers: [RunningServer]) {
        self.ports = ports
        self.servers = servers
    }

    public static func key(endpoint: String, version: String) -> String { "\(endpoint)--\(version)" }

    /// Starts every server and returns once all listen. `ports` may fix some of them (by key);
    /// the rest get ephemeral ports. If one cannot listen, those already started are stopped.
    public static func start(live: LiveSimulator, versions: [(endpoint: String, version: String)], host: String = "127.0.0.1",
                             ports fixed: [String: Int] = [:], logger: Logger? = nil) async throws -> ModelServers {
        let logger = logger ?? Self.quietLogger
        var ports: [String: Int] = [:]
        var running: [RunningServer] = []
        for (endpoint, version) in versions {
            let key = key(endpoint: endpoint, version: version)
            guard ports[key] == nil else { continue }
            do {
                let server = try await serve(ModelResponder(live: live, endpoint: endpoint, version: version), host: host,
                                             port: fixed[key] ?? 0, name: key, logger: logger)
                ports[key] = server.port
                running.append(server)
            } catch {
                await ModelServers(ports: ports, servers: running).shutdown()
                throw ModelServerError("\(key): cannot listen on \(host):\(fixed[key] ?? 0): \(error)")
            }
        }
        return ModelServers(ports: ports, servers: running)
    }

    /// Hummingbird announces each server at info level: noise when there are a dozen.
    static var quietLogger: Logger {
        var l = Logger(label: "tower-sim.model")
        l.logLevel = .warning
        return l
    }

    /// Stops every server: new connections are refused at once, requests in flight get up to two
    /// seconds to finish.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { g in
            for s in servers { g.addTask { await s.stop() } }
        }
    }

    /// `{"alpha--v1": 40123, …}`, keys sorted.
    public func portsJSON() -> [UInt8] { SpanStore.encode(ports) }

    /// Runs one Hummingbird application and returns once it listens; `signals` shut it down gracefully.
    static func serve<R: HTTPResponder>(_ responder: R, host: String, port: Int, name: String, logger: Logger = quietLogger,
                                        signals: [UnixSignal] = []) async throws -> RunningServer where R.Context == BasicRequestContext {
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let failure = FailureBox()
        let app = Application(responder: responder,
                              configuration: .init(address: .hostname(host, port: port), serverName: name),
                              onServerRunning: { ch in continuation.yield(ch.localAddress?.port ?? port) },
                              logger: logger)
        // A group of our own (not plain task cancellation) so shutdown is graceful: idle
        // keep-alive connections close, requests in flight get a moment to finish.
        var config = ServiceGroupConfiguration(services: [app], logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(2)
        config.gracefulShutdownSignals = signals
        let group = ServiceGroup(configuration: config)
        let task = Task {
            do { try await group.run() } catch { failure.set(error) }
            continuation.finish()
        }
        for await p in bound { return RunningServer(port: p, group: group, task: task) }
        throw failure.get() ?? ModelServerError("the server stopped before it listened")
    }
}

/// One listening Hummingbird application.
struct RunningServer: Sendable {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, Never>

    func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Until it stops (a signal it was given, or `stop`).
    func wait() async { await task.value }
}

public struct ModelServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The first failure of work running elsewhere, for the code waiting on it to throw.
public final class FailureBox: Sendable {
    private let error = Mutex<(any Error)?>(nil)
    public init() {}
    public func set(_ e: any Error) { error.withLock { $0 = e } }
    public func get() -> (any Error)? { error.withLock { $0 } }
}

/// One version's server: every request, whatever its method and path.
struct ModelResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let live: LiveSimulator
    let endpoint: String
    let version: String

    static let versionHeader = HTTPField.Name("x-tower-version")!
    static let traceHeader = HTTPField.Name("x-b3-traceid")!
    static let spanHeader = HTTPField.Name("x-b3-spanid")!
    static let sampledHeader = HTTPField.Name("x-b3-sampled")!
    static let flagsHeader = HTTPField.Name("x-b3-flags")!
    static let singleHeader = HTTPField.Name("b3")!
    /// The longest a request is held, whatever the scenario's tail says: past this every client
    /// and gateway has given up.
    static let maxLatencyMs = 30_000.0

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let start = Date()
        let began = ContinuousClock.now
        // Read the body so the connection stays usable for the next request; its content is not used.
        _ = try? await request.body.collect(upTo: 1 << 20)
        let b = live.behaviour(endpoint: endpoint, version: version, at: start)
        var rng = SystemRandomNumberGenerator()
        let sampled = LatencyModel(p50Ms: b.p50Ms, p99Ms: b.p99Ms).sample(using: &rng)
        let ms = sampled.isNaN ? 0 : min(max(sampled, 0), Self.maxLatencyMs)
        let failed = Double.random(in: 0..<1, using: &rng) < b.errorRatio
        // Waits out the latency even when the client has gone: a server does not know until it writes.
        try? await Task.sleep(for: .microseconds(Int64(ms * 1000)))
        let code = failed ? 500 : 200
        let elapsed = ContinuousClock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        live.recordServed(endpoint: endpoint, version: version, method: request.method.rawValue, path: request.uri.path, code: code,
                          start: start, seconds: seconds, caller: Self.traceContext(request.headers))
        let body = failed
            ? #"{"endpoint":"\#(endpoint)","version":"\#(version)","error":"inference failed: worker reset"}"#
            : #"{"endpoint":"\#(endpoint)","version":"\#(version)","output":[[0.87,0.13]]}"#
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[Self.versionHeader] = version
        return Response(status: failed ? .internalServerError : .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// B3 propagation, multi-header (`x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags`)
    /// or single-header (`b3: trace-span[-sampled[-parent]]`). IDs that do not parse are ignored:
    /// the request is then traced as if it came without.
    static func traceContext(_ headers: HTTPFields) -> TraceContext? {
        var trace = headers[traceHeader], span = headers[spanHeader], sampled = headers[sampledHeader]
        if trace == nil, let single = headers[singleHeader] {
            let parts = single.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            if parts.count >= 2 { trace = parts[0]; span = parts[1] }
            if parts.count >= 3 { sampled = parts[2] }
        }
        guard let trace, let span, let t = try? TraceIDs.trace(trace), let s = try? TraceIDs.span(span) else { return nil }
        let decision: Bool? = if headers[flagsHeader] == "1" || sampled == "d" { true } else {
            switch sampled?.lowercased() { case "1", "true": true; case "0", "false": false; default: nil }
        }
        return TraceContext(traceID: t, spanID: s, sampled: decision)
    }
}
