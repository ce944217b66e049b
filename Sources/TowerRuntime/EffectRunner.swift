import Foundation
import Synchronization
import TerminalUI
import TowerConsole
import TowerDomain
import TowerMetrics
import TowerTraces
import TowerSources

/// Carries out effects with the registry client and posts what happened back as messages. Keeps
/// at most one watch, one list and one gateways request in flight, and backs off (with jitter)
/// while the registry is failing, so a dead registry costs a request every few seconds, not a busy loop.
final class EffectRunner: @unchecked Sendable {
    let post: @Sendable (Message) -> Void
    private let inFlight = Mutex<InFlight>(InFlight())
    struct InFlight { var listing = false, watching = false, gateways = false, failures = 0 }
    private let clock: @Sendable () -> Date
    private let hooks: ConsoleHooks
    /// The client and a generation that a context switch bumps, so answers from the old registry
    /// that arrive late are dropped instead of shown as the new one's.
    private let current: Mutex<(client: RegistryClient, generation: Int)>
    /// The trace source and mapping of the current context.
    private let tracing: Mutex<(source: (any TraceSource)?, mapping: TraceMapping)>
    /// Hands a new context's metrics sources to the loop, which polls them.
    private let replaceMetrics: @Sendable ([any MetricsSource]) -> Void

    var client: RegistryClient { current.withLock { $0.client } }

    init(client: RegistryClient, hooks: ConsoleHooks, clock: @escaping @Sendable () -> Date = { Date() },
         replaceMetrics: @escaping @Sendable ([any MetricsSource]) -> Void = { _ in }, post: @escaping @Sendable (Message) -> Void) {
        current = Mutex((client, 0))
        tracing = Mutex((hooks.traces, hooks.traceMapping))
        self.hooks = hooks
        self.clock = clock
        self.replaceMetrics = replaceMetrics
        self.post = post
    }

    private var generation: Int { current.withLock { $0.generation } }

    /// Posts `m` only if no context switch happened since `generation` was read.
    private func post(_ m: Message, ifStill generation: Int) {
        if self.generation == generation { post(m) }
    }

    func run(_ effect: Effect) {
        switch effect {
        case .loadEndpoints: loadEndpoints(after: 0)
        case .watch(let after): watch(after: after)
        case .loadRevisions(let name):
            let client = self.client
            Task.detached { [post] in
                if let r = try? await client.revisions(name, limit: 20) { post(.revisionsLoaded(endpoint: name, r.revisions)) }
            }
        case .submit(let request): submit(request)
        case .loadGateways: loadGateways()
        case .loadAudit:
            let gen = generation
            Task.detached { [self, client] in
                do {
                    let page = try await client.recentAudit(limit: 500)
                    let verdict = try? await client.verifyAudit()
                    post(.auditLoaded(page.entries, verdict, at: clock()), ifStill: gen)
                } catch {
                    post(.notice("audit log: \(Self.sentence(error))"), ifStill: gen)
                }
            }
        case .switchContext(let name):
            do {
                let next = try hooks.switchContext(name)
                current.withLock { $0 = (next.client, $0.generation + 1) }
                inFlight.withLock { $0 = InFlight() }
                if let sources = next.sources {
                    tracing.withLock { $0 = (sources.traces, sources.traceMapping) }
                    replaceMetrics(sources.metrics)
                }
                post(.contextSwitched(name: name, readOnly: next.readOnly, banner: next.banner))
            } catch {
                post(.notice("cannot switch to context \(name): \(error)"))
            }
        case .loadTheme(let name):
            do { post(.themeLoaded(try hooks.resolveTheme(name))) } catch { post(.notice("\(error)")) }
        case .searchTraces(let endpoint, let path):
            let (source, mapping) = tracing.withLock { ($0.source, $0.mapping) }
            guard let source else {
                post(.traceFailed("no trace source: start tower with --traces zipkin=URL (or jaeger=, tempo=), or give the context a traces: block"))
                return
            }
            let gen = generation
            Task.detached { [self] in
                do { post(.tracesLoaded(endpoint: endpoint, try await mapping.triage(source, endpoint: endpoint, path: path)), ifStill: gen) }
                catch { post(.traceFailed("\(error)"), ifStill: gen) }
            }
        case .loadTrace(let id):
            guard let source = tracing.withLock({ $0.source }) else { post(.traceFailed("no trace source")); return }
            let gen = generation
            Task.detached { [self] in
                do { post(.traceLoaded(try await source.trace(id: id)), ifStill: gen) } catch { post(.traceFailed("\(error)"), ifStill: gen) }
            }
        case .quit: break
        }
    }

    static func backoff(failures: Int) -> Double { Backoff.delay(failures: failures) }

    /// Marks one kind of request as in flight; false when one already is.
    private func claim(_ flag: WritableKeyPath<InFlight, Bool>) -> Bool {
        inFlight.withLock { s -> Bool in
            if s[keyPath: flag] { return false }
            s[keyPath: flag] = true
            return true
        }
    }

    private func loadEndpoints(after delay: Double) {
        guard claim(\.listing) else { return }
        let gen = generation
        Task.detached { [self, client] in
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
            do {
                let list = try await client.list()
                inFlight.withLock { $0.listing = false; $0.failures = 0 }
                post(.endpointsLoaded(list, at: clock()), ifStill: gen)
            } catch {
                let failures = inFlight.withLock { s -> Int in s.listing = false; s.failures += 1; return s.failures }
                guard generation == gen else { return }
                post(.registryFailed(Self.sentence(error), at: clock()))
                loadEndpoints(after: Self.backoff(failures: failures))
            }
        }
    }

    private func watch(after: Int64) {
        guard claim(\.watching) else { return }
        let gen = generation
        Task.detached { [self, client] in
            do {
                // Ten seconds: short enough that the header's "read Ns ago" stays honest while idle.
                let r = try await client.watch(after: after, timeout: 10)
                inFlight.withLock { $0.watching = false }
                guard generation == gen else { return }
                if r.events.isEmpty {
                    post(.registryAlive(at: clock()))
                    watch(after: after)
                } else {
                    loadEndpoints(after: 0)
                }
            } catch {
                let failures = inFlight.withLock { s -> Int in s.watching = false; s.failures += 1; return s.failures }
                guard generation == gen else { return }
                post(.registryFailed(Self.sentence(error), at: clock()))
                loadEndpoints(after: Self.backoff(failures: failures))
            }
        }
    }

    /// Neither retries nor counts towards the registry's failures: the header's registry health is
    /// the endpoint reads' to tell, and the console asks again on its own clock.
    private func loadGateways() {
        guard claim(\.gateways) else { return }
        let gen = generation
        Task.detached { [self, client] in
            do {
                let list = try await client.gateways()
                inFlight.withLock { $0.gateways = false }
                post(.gatewaysLoaded(list, at: clock()), ifStill: gen)
            } catch {
                inFlight.withLock { $0.gateways = false }
                post(.gatewaysFailed(Self.sentence(error), at: clock()), ifStill: gen)
            }
        }
    }

    private func submit(_ r: ChangeRequest) {
        let client = self.client
        Task.detached { [post] in
            do {
                let e: Endpoint
                switch r.kind {
                case .shift(let w): e = try await client.shift(r.endpoint, weights: w, reason: r.reason, expected: r.expected)
                case .drain(let v): e = try await client.drain(r.endpoint, version: v, reason: r.reason, expected: r.expected)
                case .undrain(let v): e = try await client.undrain(r.endpoint, version: v, reason: r.reason, expected: r.expected)
                case .rollback(let to): e = try await client.rollback(r.endpoint, to: to, reason: r.reason, expected: r.expected)
                }
                post(.changeApplied(e))
            } catch let error as RegistryClientError {
                switch error {
                case .stale(let p): post(.changeFailed(.stale(current: p.current, detail: p.detail)))
                case .refused(let p): post(.changeFailed(.refused(status: p.status, detail: p.detail)))
                case .unreachable(let t): post(.changeFailed(.unreachable(t.description)))
                case .malformed(let m): post(.changeFailed(.refused(status: 0, detail: "the registry's answer could not be read: \(m)")))
                }
            } catch {
                post(.changeFailed(.unreachable("\(error)")))
            }
        }
    }

    static func sentence(_ error: any Error) -> String {
        switch error {
        case let e as RegistryClientError:
            switch e {
            case .unreachable(let t): return "unreachable (\(t))"
            case .refused(let p) where p.status == 401: return "token refused: \(p.detail)"
            default: return e.description
            }
        default: return "\(error)"
        }
    }
}

/// The sources a context reads: metrics polled by the loop, traces searched on demand.
public struct ConsoleSources: Sendable {
    public var metrics: [any MetricsSource]
    public var traces: (any TraceSource)?
    public var traceMapping: TraceMapping

    public init(metrics: [any MetricsSource] = [], traces: (any TraceSource)? = nil, traceMapping: TraceMapping = TraceMapping()) {
        self.metrics = metrics; self.traces = traces; self.traceMapping = traceMapping
    }
}

/// What `:ctx NAME` switches to.
public struct ContextSwitch: Sendable {
    public var client: RegistryClient
    public var readOnly: Bool
    /// The new context's sources; nil keeps the ones the console has.
    public var sources: ConsoleSources?
    public var banner: Color?

    public init(client: RegistryClient, readOnly: Bool, sources: ConsoleSources? = nil, banner: Color? = nil) {
        self.client = client; self.readOnly = readOnly; self.sources = sources; self.banner = banner
    }
}

/// What the runtime needs from its host to follow `:ctx` and `:theme`.
public struct ConsoleHooks: Sendable {
    public var switchContext: @Sendable (String) throws -> ContextSwitch
    public var resolveTheme: @Sendable (String) throws -> Theme
    /// The trace source at start; a context switch may replace it.
    public var traces: (any TraceSource)?
    public var traceMapping: TraceMapping

    public init(switchContext: @escaping @Sendable (String) throws -> ContextSwitch,
                resolveTheme: @escaping @Sendable (String) throws -> Theme,
                traces: (any TraceSource)? = nil, traceMapping: TraceMapping = TraceMapping()) {
        self.switchContext = switchContext
        self.resolveTheme = resolveTheme
        self.traces = traces
        self.traceMapping = traceMapping
    }

    /// For hosts whose contexts change only the registry: the sources stay as they are.
    public init(resolveContext: @escaping @Sendable (String) throws -> (RegistryClient, readOnly: Bool),
                resolveTheme: @escaping @Sendable (String) throws -> Theme,
                traces: (any TraceSource)? = nil, traceMapping: TraceMapping = TraceMapping()) {
        self.init(switchContext: { name in
            let (client, readOnly) = try resolveContext(name)
            return ContextSwitch(client: client, readOnly: readOnly)
        }, resolveTheme: resolveTheme, traces: traces, traceMapping: traceMapping)
    }
}
