import Foundation
import Logging
import Synchronization
import UnixSignals
import TowerSources

/// Real load the simulator application sends: through a gateway, or straight to model servers
/// picked by the registry's live weights.
public struct SimLoad: Sendable {
    public enum Target: Sendable {
        /// A gateway's base URL, e.g. Envoy's listener.
        case gateway(String)
        /// Model servers' ports by `<endpoint>--<version>`, on `host`.
        case direct(ports: [String: Int], host: String = "127.0.0.1")
    }
    public var target: Target
    public var rateScale: Double
    public var maxInFlight: Int

    public init(_ target: Target, rateScale: Double = 1, maxInFlight: Int = 64) {
        self.target = target; self.rateScale = rateScale; self.maxInFlight = maxInFlight
    }
}

/// The simulator application, assembled here once for `tower-sim serve`, `tower-sim stack`,
/// `tower demo` and the tests: the live simulator following the registry, its clock, the HTTP API
/// over it (`/metrics`, Zipkin, `/load`) and, if asked, real load. Model servers are not part of
/// it: the stack must start them before the registry exists (their ports are its upstreams).
public final class SimApp: Sendable {
    public let live: LiveSimulator
    /// The API's bound port.
    public let port: Int
    public let load: LoadGenerator?
    private let background: [Task<Void, Never>]
    private let server: RunningServer
    private let stopped = Atomic<Bool>(false)

    private init(live: LiveSimulator, port: Int, load: LoadGenerator?, background: [Task<Void, Never>], server: RunningServer) {
        self.live = live; self.port = port; self.load = load; self.background = background; self.server = server
    }

    /// Starts everything and returns once the API listens on `host:port` (0: a free port). With a
    /// `registry`, the simulator follows it (routing moves as soon as weights do); without one,
    /// the caller routes it. With `stopOnSignals`, SIGTERM and SIGINT stop the API gracefully (for a
    /// process that runs until told to stop; `wait` returns then). If the API cannot listen, what
    /// was started is stopped again.
    public static func start(live: LiveSimulator, registry: RegistryClient?, host: String = "127.0.0.1", port: Int = 0,
                             load: SimLoad? = nil, logger: Logger? = nil, stopOnSignals: Bool = false,
                             onRegistryError: @escaping @Sendable (String) -> Void = { _ in }) async throws -> SimApp {
        var background = [Task { await live.runClock() }]
        if let registry { background.append(Task { await live.follow(registry, onError: onRegistryError) }) }
        let generator = load.map { l in
            switch l.target {
            case .gateway(let url):
                LoadGenerator.start(baseURL: url, targets: LoadGenerator.targets(of: live, rateScale: l.rateScale), maxInFlight: l.maxInFlight)
            case .direct(let ports, let host):
                LoadGenerator.start(baseURL: "", targets: LoadGenerator.directTargets(of: live, ports: ports, host: host, rateScale: l.rateScale),
                                    maxInFlight: l.maxInFlight)
            }
        }
        do {
            let server = try await ModelServers.serve(buildSimRouter(live, load: generator).buildResponder(), host: host, port: port,
                                                      name: "tower-sim", logger: logger ?? ModelServers.quietLogger,
                                                      signals: stopOnSignals ? [.sigterm, .sigint] : [])
            return SimApp(live: live, port: server.port, load: generator, background: background, server: server)
        } catch {
            for t in background { t.cancel() }
            await generator?.stop()
            throw error
        }
    }

    /// `http://127.0.0.1:PORT` for a loopback API.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Until the API stops: a signal (with `stopOnSignals`), or `stop`.
    public func wait() async { await server.wait() }

    /// Stops following and the clock, stops the load (waiting for requests in flight), then the API.
    /// Safe to call more than once (a failing stack and its supervisor may both): later calls
    /// wait for the first.
    public func stop() async {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return await server.wait() }
        for t in background { t.cancel() }
        await load?.stop()
        await server.stop()
    }
}
