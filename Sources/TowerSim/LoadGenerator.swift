import Foundation
import Synchronization
import TowerDomain
import TowerHTTP

/// Where the load generator sends requests, and how many a second.
public struct LoadTarget: Sendable, Equatable {
    /// A model server to send to directly, and its share of the endpoint's traffic.
    public struct Upstream: Sendable, Equatable {
        public var url: String
        public var weight: Int
        public init(url: String, weight: Int) { self.url = url; self.weight = weight }
    }

    public var endpoint: String
    /// The endpoint's gateway path, e.g. `/v1/models/alpha`.
    public var path: String
    public var rate: Double
    /// Empty: through the gateway at `baseURL`. Otherwise each request goes straight to one of
    /// these, picked by weight — the generator then does the gateway's job (no Envoy at hand).
    public var upstreams: [Upstream]

    public init(endpoint: String, path: String, rate: Double, upstreams: [Upstream] = []) {
        self.endpoint = endpoint; self.path = path; self.rate = rate; self.upstreams = upstreams
    }

    /// The URL for one request: through the gateway, or to an upstream drawn by weight.
    func url<G: RandomNumberGenerator>(gateway: String, using rng: inout G) -> String {
        let total = upstreams.reduce(0) { $0 + max(0, $1.weight) }
        guard total > 0 else { return gateway + path }
        var r = Int.random(in: 0..<total, using: &rng)
        for u in upstreams where u.weight > 0 {
            if r < u.weight { return u.url + path }
            r -= u.weight
        }
        return gateway + path
    }
}

/// What the load generator has seen, per endpoint.
public struct LoadCounts: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        /// Requests handed to a worker (answered, failed, or still in flight).
        public var sent = 0
        /// Arrivals not sent because `maxInFlight` requests were already waiting for answers.
        public var dropped = 0
        /// Answers by HTTP status.
        public var codes: [Int: Int] = [:]
        /// Requests that got no HTTP answer (refused, reset, timed out).
        public var transportErrors = 0
        /// Of those, the ones that hit the timeout.
        public var timeouts = 0
        /// Answers by the `x-tower-version` header the model server set (absent when the gateway answered itself).
        public var versions: [String: Int] = [:]
        public init() {}
        public var answered: Int { codes.values.reduce(0, +) }
    }
    public var endpoints: [String: Endpoint] = [:]
    public init() {}
    public var sent: Int { endpoints.values.reduce(0) { $0 + $1.sent } }
    public var dropped: Int { endpoints.values.reduce(0) { $0 + $1.dropped } }
    public var answered: Int { endpoints.values.reduce(0) { $0 + $1.answered } }
    public var transportErrors: Int { endpoints.values.reduce(0) { $0 + $1.transportErrors } }
}

/// Real HTTP traffic for a gateway: each target's requests arrive as a Poisson process (or evenly
/// spaced) at its rate, are POSTed to `baseURL + path` with a small JSON body, and are counted by
/// status and by the version that answered.
///
/// Requests run on a pool of worker threads, each holding one libcurl handle so its connection is
/// kept alive; the pool grows on demand up to `maxInFlight`. An arrival that finds `maxInFlight`
/// requests outstanding is dropped and counted rather than queued, so a slow gateway sees a steady
/// offered load instead of a backlog released in a burst.
public final class LoadGenerator: Sendable {
    public let baseURL: String
    public let maxInFlight: Int
    public let timeout: Duration
    private let targets: @Sendable () -> [LoadTarget]
    private let poisson: Bool
    private let seed: UInt64
    private let pool: Pool
    /// 0 not started, 1 running, 2 told to stop, 3 stopped.
    private let phase = Atomic<Int>(0)

    /// `targets` is read again every half second, so endpoints that appear (or change rate) get
    /// their traffic without a restart.
    public init(baseURL: String, targets: @escaping @Sendable () -> [LoadTarget], maxInFlight: Int = 64,
                timeout: Duration = .seconds(2), poisson: Bool = true, seed: UInt64 = UInt64.random(in: 1...UInt64.max)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.targets = targets
        self.maxInFlight = max(1, maxInFlight)
        self.timeout = timeout
        self.poisson = poisson
        self.seed = seed
        pool = Pool(limit: max(1, maxInFlight))
    }

    /// A generator already sending.
    public static func start(baseURL: String, targets: @escaping @Sendable () -> [LoadTarget], maxInFlight: Int = 64,
                             timeout: Duration = .seconds(2), poisson: Bool = true) -> LoadGenerator {
        let g = LoadGenerator(baseURL: baseURL, targets: targets, maxInFlight: maxInFlight, timeout: timeout, poisson: poisson)
        g.start()
        return g
    }

    /// The serving endpoints the simulator routes (as the registry has them), each at its
    /// scenario rate times `rateScale`.
    public static func targets(of live: LiveSimulator, rateScale: Double = 1) -> @Sendable () -> [LoadTarget] {
        { live.loadTargets(rateScale: rateScale) }
    }

    /// The same endpoints, each request sent straight to a model server (`ports` by
    /// `<endpoint>--<version>`) picked by the registry's live weights: a shift moves real traffic
    /// without a gateway.
    public static func directTargets(of live: LiveSimulator, ports: [String: Int], host: String = "127.0.0.1",
                                     rateScale: Double = 1) -> @Sendable () -> [LoadTarget] {
        {
            let weights = live.weightsByEndpoint()
            return live.loadTargets(rateScale: rateScale).map { t in
                var t = t
                t.upstreams = (weights[t.endpoint] ?? []).compactMap { v in
                    ports[ModelServers.key(endpoint: t.endpoint, version: v.version)].map { .init(url: "http://\(host):\($0)", weight: v.weight) }
                }
                return t
            }
        }
    }

    /// Arrivals are timed on a thread of their own, not a task: the cooperative pool has one
    /// thread per core, and anything blocking it would otherwise stall the offered load.
    public func start() {
        guard phase.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged else { return }
        let t = Thread { [self] in
            dispatch()
            phase.store(3, ordering: .sequentiallyConsistent)
        }
        t.stackSize = 512 << 10
        t.start()
    }

    /// Stops sending and waits for the requests in flight (each ends within `timeout`).
    public func stop() async {
        if phase.compareExchange(expected: 1, desired: 2, ordering: .sequentiallyConsistent).exchanged {
            while phase.load(ordering: .sequentiallyConsistent) != 3 { try? await Task.sleep(for: .milliseconds(5)) }
        }
        await pool.shutdown(within: timeout + .seconds(1))
    }

    public var counts: LoadCounts { pool.counts }

    private var running: Bool { phase.load(ordering: .relaxed) == 1 }

    private func dispatch() {
        var rng = SplitMix64(seed: seed)
        let clock = ContinuousClock()
        var current: [LoadTarget] = []
        var readAt = clock.now - .seconds(1)
        var next = clock.now
        let body = Array(#"{"inputs":[[0.12,0.56,0.33,0.91]]}"#.utf8)
        while running {
            if clock.now - readAt >= .milliseconds(500) {
                current = targets().filter { $0.rate > 0 && $0.rate.isFinite }
                readAt = clock.now
            }
            let total = current.reduce(0) { $0 + $1.rate }
            guard total > 0 else {
                Self.sleep(.milliseconds(100))
                next = clock.now
                continue
            }
            let gap = poisson ? -log(1 - Double.random(in: 0..<1, using: &rng)) / total : 1 / total
            next = next + .nanoseconds(Int64(min(gap, 3600) * 1e9))
            // After a stall (a suspended process, an overloaded machine) start afresh rather than
            // sending everything missed at once.
            if clock.now - next > .seconds(1) { next = clock.now }
            // In slices, so that stop() is heard within 50 ms even between rare arrivals.
            while running, case let left = next - clock.now, left > .zero { Self.sleep(min(left, .milliseconds(50))) }
            guard running else { return }
            var r = Double.random(in: 0..<total, using: &rng)
            var target = current[current.count - 1]
            for t in current {
                if r < t.rate { target = t; break }
                r -= t.rate
            }
            pool.submit(Job(endpoint: target.endpoint,
                            request: HTTPRequest(method: "POST", url: target.url(gateway: baseURL, using: &rng),
                                                 headers: [("content-type", "application/json")], body: body, timeout: timeout)))
        }
    }

    private static func sleep(_ d: Duration) {
        let c = d.components
        var ts = timespec(tv_sec: Int(c.seconds), tv_nsec: Int(c.attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }

    /// Prometheus text: `tower_sim_load_requests_total{endpoint,code}` (code `error` for requests
    /// that got no answer), `tower_sim_load_dropped_total{endpoint}` and
    /// `tower_sim_load_versions_total{endpoint,version}`.
    public func exposition() -> String {
        let c = counts
        let names = c.endpoints.keys.sorted()
        var out = "# HELP tower_sim_load_requests_total Requests the load generator sent, by endpoint and answer (error: no HTTP answer).\n"
        out += "# TYPE tower_sim_load_requests_total counter\n"
        for e in names {
            let s = c.endpoints[e]!
            for (code, n) in s.codes.sorted(by: { $0.key < $1.key }) {
                out += "tower_sim_load_requests_total{endpoint=\"\(Self.escape(e))\",code=\"\(code)\"} \(n)\n"
            }
            if s.transportErrors > 0 { out += "tower_sim_load_requests_total{endpoint=\"\(Self.escape(e))\",code=\"error\"} \(s.transportErrors)\n" }
        }
        out += "# HELP tower_sim_load_dropped_total Arrivals not sent because too many requests were in flight.\n"
        out += "# TYPE tower_sim_load_dropped_total counter\n"
        for e in names { out += "tower_sim_load_dropped_total{endpoint=\"\(Self.escape(e))\"} \(c.endpoints[e]!.dropped)\n" }
        out += "# HELP tower_sim_load_versions_total Answers by the version that served them (x-tower-version).\n"
        out += "# TYPE tower_sim_load_versions_total counter\n"
        for e in names {
            for (v, n) in c.endpoints[e]!.versions.sorted(by: { $0.key < $1.key }) {
                out += "tower_sim_load_versions_total{endpoint=\"\(Self.escape(e))\",version=\"\(Self.escape(v))\"} \(n)\n"
            }
        }
        return out
    }

    /// `{"sent":…,"dropped":…,"endpoints":{"alpha":{"sent":…,"dropped":…,"codes":{"200":…},"transportErrors":…,"timeouts":…,"versions":{"v1":…}}}}`
    public func json() -> [UInt8] {
        let c = counts
        var endpoints: [String: Any] = [:]
        for (name, s) in c.endpoints {
            endpoints[name] = [
                "sent": s.sent, "dropped": s.dropped, "transportErrors": s.transportErrors, "timeouts": s.timeouts,
                "codes": Dictionary(uniqueKeysWithValues: s.codes.map { (String($0.key), $0.value) }), "versions": s.versions,
            ] as [String: Any]
        }
        let o: [String: Any] = ["baseURL": baseURL, "sent": c.sent, "dropped": c.dropped, "answered": c.answered,
                                "transportErrors": c.transportErrors, "endpoints": endpoints]
        return SpanStore.encode(o)
    }

    /// Header values come from the network: keep label values printable and unbroken.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars.prefix(64) {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch.value < 32 || ch.value == 127 ? "?" : ch)
            }
        }
        return out
    }
}

struct Job: Sendable {
    var endpoint: String
    var request: HTTPRequest
}

/// Worker threads fed from a queue. A DispatchSemaphore carries one signal per job and one per
/// worker at shutdown, so every wake either takes a job or, once stopping with nothing queued, ends
/// the worker.
final class Pool: Sendable {
    private struct State {
        var queue: [Job] = []
        var head = 0
        /// Queued plus running.
        var inFlight = 0
        var workers = 0
        var stopping = false
        var counts = LoadCounts()
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    var counts: LoadCounts { state.withLock { $0.counts } }

    func submit(_ job: Job) {
        let spawn: Bool? = state.withLock { s in
            guard !s.stopping else { return nil }
            guard s.inFlight < limit else {
                s.counts.endpoints[job.endpoint, default: .init()].dropped += 1
                return nil
            }
            s.inFlight += 1
            s.counts.endpoints[job.endpoint, default: .init()].sent += 1
            s.queue.append(job)
            guard s.workers < s.inFlight else { return false }
            s.workers += 1
            return true
        }
        guard let spawn else { return }
        if spawn {
            let t = Thread { [self] in work() }
            t.stackSize = 512 << 10
            t.start()
        }
        wake.signal()
    }

    private func work() {
        let session = CurlSession(HTTPOptions(maxResponseBytes: 1 << 20))
        while true {
            wake.wait()
            let job: Job? = state.withLock { s in
                guard s.head < s.queue.count else {
                    if s.stopping { s.workers -= 1 }
                    return nil
                }
                let j = s.queue[s.head]
                s.head += 1
                // Compact now and then so the queue does not grow for the life of the generator.
                if s.head > 256 && s.head * 2 > s.queue.count { s.queue.removeFirst(s.head); s.head = 0 }
                return j
            }
            guard let job else {
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            let result = Result { () throws(HTTPTransportError) -> HTTPResponse in try session.perform(job.request) }
            state.withLock { s in
                s.inFlight -= 1
                var c = s.counts.endpoints[job.endpoint, default: .init()]
                switch result {
                case .success(let r):
                    c.codes[r.status, default: 0] += 1
                    if let v = r.headers["x-tower-version"], !v.isEmpty { c.versions[v, default: 0] += 1 }
                case .failure(let e):
                    c.transportErrors += 1
                    if case .timedOut = e { c.timeouts += 1 }
                }
                s.counts.endpoints[job.endpoint] = c
            }
        }
    }

    /// Refuses new jobs, lets the queued and running ones finish, and waits for the workers to end.
    func shutdown(within limit: Duration) async {
        let workers = state.withLock { s in
            if s.stopping { return 0 }
            s.stopping = true
            return s.workers
        }
        for _ in 0..<workers { wake.signal() }
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.workers }) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
