import Foundation
import Synchronization
import TerminalUI
import TowerConsole
import TowerDomain
import TowerMetrics
import TowerRollouts
import TowerTraces
import TowerSources

/// Carries out effects and owns what the current context reads: the registry client, the trace
/// source and the metrics pollers, all under one generation counter. A `:ctx` switch is one trip:
/// `update` emits `.switchContext`, the runner resolves the context, swaps everything under the
/// next generation and posts the result back; an answer of an older generation is dropped, so
/// nothing the old context says lands after the switch. Keeps at most one watch, one list and one
/// gateways request in flight, and backs off (with jitter) while the registry is failing, so a dead
/// registry costs a request every few seconds, not a busy loop.
final class EffectRunner: @unchecked Sendable {
    let post: @Sendable (Message) -> Void
    private let inFlight = Mutex<InFlight>(InFlight())
    struct InFlight { var listing = false, watching = false, gateways = false, failures = 0 }
    let clock: @Sendable () -> Date
    private let hooks: ConsoleHooks
    /// How often burn rates are read: their shortest window is 5 minutes, so slower than the live
    /// figures costs nothing in freshness and spares the source the long-window queries.
    let burnInterval: Double

    /// What a context reads, swapped as a whole by a switch.
    struct Current {
        var client: RegistryClient
        var sources: ConsoleSources
        var pollers: [Task<Void, Never>] = []
        var generation = 0
        /// The SLOs burn is polled for, and the task polling them.
        var burnTargets: [String: SLO] = [:]
        var burnPoller: Task<Void, Never>?
        /// Change-impact windows by endpoint, revision and window: history does not change, so a
        /// window read once (and complete) is never asked for again in this context.
        var impactCache: [String: ImpactWindows] = [:]
        /// The registry replica the header names, once told (several replicas only).
        var announcedReplica: String?

        mutating func stopPolling() {
            for p in pollers { p.cancel() }
            pollers = []
            burnPoller?.cancel()
            burnPoller = nil
            burnTargets = [:]
            impactCache = [:]
        }
    }
    /// Answers are checked against the generation and handed on under this same lock, so an
    /// answer of the old context is either delivered before the switch's messages or not at all.
    let current: Mutex<Current>
    /// Answers dropped because a switch happened while they were on their way (for tests).
    let dropped = Atomic<Int>(0)

    init(client: RegistryClient, sources: ConsoleSources = ConsoleSources(), hooks: ConsoleHooks,
         clock: @escaping @Sendable () -> Date = { Date() }, burnInterval: Double = 30, post: @escaping @Sendable (Message) -> Void) {
        current = Mutex(Current(client: client, sources: sources))
        self.hooks = hooks
        self.clock = clock
        self.burnInterval = burnInterval
        self.post = post
    }

    var client: RegistryClient { current.withLock { $0.client } }
    var generation: Int { current.withLock { $0.generation } }

    /// Posts `m` only if no context switch happened since `generation` was read; says whether it did.
    @discardableResult
    func post(_ m: Message, ifStill generation: Int) -> Bool {
        let kept = current.withLock { c -> Bool in
            guard c.generation == generation else { return false }
            post(m)
            return true
        }
        if !kept { dropped.add(1, ordering: .relaxed) }
        return kept
    }

    /// Tells the console which replica answers, when there are several and it changed.
    func announceReplica(of client: RegistryClient, ifStill generation: Int) {
        guard client.replicas.count > 1 else { return }
        let now = RegistryClient.hostPort(client.baseURL)
        current.withLock { c in
            guard c.generation == generation, c.announcedReplica != now else { return }
            c.announcedReplica = now
            post(.registryReplica(now))
        }
    }

    /// Starts polling the starting context's sources; their names go to the header first.
    func start() {
        current.withLock { c in
            if !c.sources.metrics.isEmpty {
                let (names, staleAfter, window) = Self.health(of: c.sources.metrics)
                post(.sourcesChanged(names, staleAfter: staleAfter ?? Telemetry().staleAfter, window: window))
            }
            c.pollers = startPollers(c.sources.metrics, generation: c.generation)
        }
    }

    /// Stops the pollers; what they still say is dropped.
    func stop() {
        current.withLock { c in
            c.stopPolling()
            c.generation += 1
        }
    }

    /// The names the header shows (one per name), when figures go stale: past two of the longest
    /// interval (DESIGN §5), nil without sources; and the window their rates are over, when they
    /// all say the same one.
    static func health(of sources: [any MetricsSource]) -> ([String], TimeInterval?, Int?) {
        var names: [String] = []
        for src in sources where !names.contains(src.name) { names.append(src.name) }
        let windows = Set(sources.map(\.rateWindowSeconds))
        return (names, sources.map { $0.interval * 2 }.max(), windows.count == 1 ? windows.first! : nil)
    }

    /// Called with the lock held (the tasks post through it, so they wait until the swap is done).
    private func startPollers(_ sources: [any MetricsSource], generation: Int) -> [Task<Void, Never>] {
        let post: @Sendable (Message) -> Void = { [weak self] m in self?.post(m, ifStill: generation) }
        return sources.map { src in
            Task.detached {
                // One range query back-fills the sparklines; then the source is polled as usual.
                if let h = try? await src.history(points: Telemetry.historyLength), !h.isEmpty { post(.historyLoaded(h)) }
                await Self.pollSource(src, post: post)
            }
        }
    }

    /// Refreshes one source forever: every `interval` while it answers, backing off (with jitter)
    /// while it fails, so a dead or garbage-speaking source never holds up the others or the screen.
    static func pollSource(_ src: any MetricsSource, post: @escaping @Sendable (Message) -> Void) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let figures = try await src.refresh()
                failures = 0
                post(.figuresLoaded(source: src.name, figures, at: Date(), warnings: src.warnings))
            } catch {
                failures += 1
                post(.sourceFailed(source: src.name, "\(error)", at: Date()))
            }
            let wait = failures == 0 ? src.interval : min(src.interval * 4, backoff(failures: failures))
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    /// Resolves `name` (on the loop's thread: it reads the config and a token file) and, if that
    /// worked, swaps client, traces and pollers under the next generation. A context that cannot
    /// be resolved changes nothing: the same client, sources and generation carry on.
    private func switchContext(_ name: String) {
        let next: ContextSwitch
        do { next = try hooks.switchContext(name) } catch {
            post(.notice("cannot switch to context \(name): \(error)"))
            return
        }
        current.withLock { c in
            // Burn targets and cached windows were the old registry's endpoints and revisions.
            c.stopPolling()
            c.generation += 1
            c.client = next.client
            c.announcedReplica = nil
            if let sources = next.sources {
                c.sources = sources
                let (names, staleAfter, window) = Self.health(of: sources.metrics)
                post(.sourcesChanged(names, staleAfter: staleAfter ?? Telemetry().staleAfter, window: window))
            }
            // Kept sources are polled again under the new generation: the old pollers' answers are now dropped.
            c.pollers = startPollers(c.sources.metrics, generation: c.generation)
            post(.contextSwitched(name: name, readOnly: next.readOnly, banner: next.banner, tlsUnverified: next.tlsUnverified))
        }
        inFlight.withLock { $0 = InFlight() }
    }

    func run(_ effect: Effect) {
        switch effect {
        case .loadEndpoints: loadEndpoints(after: 0)
        case .watch(let after): watch(after: after)
        case .loadRevisions(let name):
            let (client, gen) = current.withLock { ($0.client, $0.generation) }
            Task.detached { [self] in
                if let r = try? await client.revisions(name, limit: 20) { post(.revisionsLoaded(endpoint: name, r.revisions), ifStill: gen) }
            }
        case .submit(let request): submit(request)
        case .loadGateways: loadGateways()
        case .loadAudit(let endpoint):
            let (client, gen) = current.withLock { ($0.client, $0.generation) }
            Task.detached { [self] in
                do {
                    let page = try await client.recentAudit(limit: 500, endpoint: endpoint)
                    let verdict = try? await client.verifyAudit()
                    post(.auditLoaded(page.entries, verdict, at: clock()), ifStill: gen)
                } catch {
                    post(.notice("audit log: \(Self.sentence(error))"), ifStill: gen)
                }
            }
        case .switchContext(let name): switchContext(name)
        case .listContexts:
            do {
                let names = try hooks.listContexts()
                post(.notice(names.isEmpty ? "no contexts: add them to the config file" : "contexts: \(names.joined(separator: ", "))  (:ctx NAME switches)"))
            } catch { post(.notice("cannot read the contexts: \(error)")) }
        case .loadTheme(let name):
            do { post(.themeLoaded(try hooks.resolveTheme(name))) } catch { post(.notice("\(error)")) }
        case .searchTraces(let endpoint, let path, let version, let p99Ms):
            let (source, mapping, gen) = current.withLock { ($0.sources.traces, $0.sources.traceMapping, $0.generation) }
            guard let source else {
                post(.traceFailed("no trace source: start tower with --traces zipkin=URL (or jaeger=, tempo=), or give the context a traces: block"))
                return
            }
            Task.detached { [self] in
                do {
                    let found = try await mapping.triage(source, endpoint: endpoint, path: path, version: version, p99Ms: p99Ms)
                    post(.tracesLoaded(endpoint: endpoint, found, version: version), ifStill: gen)
                }
                catch { post(.traceFailed("\(error)"), ifStill: gen) }
            }
        case .loadTrace(let id):
            let (source, gen) = current.withLock { ($0.sources.traces, $0.generation) }
            guard let source else { post(.traceFailed("no trace source")); return }
            Task.detached { [self] in
                do { post(.traceLoaded(try await source.trace(id: id)), ifStill: gen) } catch { post(.traceFailed("\(error)"), ifStill: gen) }
            }
        case .pollBurn(let targets): pollBurn(targets)
        case .loadImpact(let endpoint, let revision, let at, let window): loadImpact(endpoint, revision, at: at, window: window)
        case .loadRollout(let name): loadRollout(name)
        case .loadRolloutList: loadRolloutList()
        case .listRunbooks: listRunbooks()
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
        let (client, gen) = current.withLock { ($0.client, $0.generation) }
        Task.detached { [self] in
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
            do {
                let (list, stale) = try await client.listMarked()
                inFlight.withLock { $0.listing = false; $0.failures = 0 }
                announceReplica(of: client, ifStill: gen)
                post(.endpointsLoaded(list, at: clock(), stale: stale), ifStill: gen)
            } catch {
                let failures = inFlight.withLock { s -> Int in s.listing = false; s.failures += 1; return s.failures }
                guard post(.registryFailed(Self.sentence(error), at: clock()), ifStill: gen) else { return }
                loadEndpoints(after: Self.backoff(failures: failures))
            }
        }
    }

    private func watch(after: Int64) {
        guard claim(\.watching) else { return }
        let (client, gen) = current.withLock { ($0.client, $0.generation) }
        Task.detached { [self] in
            do {
                // Ten seconds: short enough that the header's "read Ns ago" stays honest while idle.
                let (r, stale) = try await client.watchMarked(after: after, timeout: 10)
                inFlight.withLock { $0.watching = false }
                announceReplica(of: client, ifStill: gen)
                if r.events.isEmpty {
                    if post(.registryAlive(at: clock(), stale: stale), ifStill: gen) { watch(after: after) }
                } else if generation == gen {
                    loadEndpoints(after: 0)
                }
            } catch {
                let failures = inFlight.withLock { s -> Int in s.watching = false; s.failures += 1; return s.failures }
                guard post(.registryFailed(Self.sentence(error), at: clock()), ifStill: gen) else { return }
                loadEndpoints(after: Self.backoff(failures: failures))
            }
        }
    }

    /// Neither retries nor counts towards the registry's failures: the header's registry health is
    /// the endpoint reads' to tell, and the console asks again on its own clock.
    private func loadGateways() {
        guard claim(\.gateways) else { return }
        let (client, gen) = current.withLock { ($0.client, $0.generation) }
        Task.detached { [self] in
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

    /// Its outcome is posted even after a context switch: a change the old registry applied or
    /// refused is what the operator asked for, and the dialog waits for it.
    private func submit(_ r: ChangeRequest) {
        let client = self.client
        Task.detached { [post] in
            do {
                let e: Endpoint
                switch r.kind {
                case .rollout(let move):
                    let status: RolloutStatus = try await client.rolloutAction(r.endpoint, action: move.rawValue, reason: r.reason)
                    post(.rolloutChanged(status, verb: move.rawValue))
                    return
                case .startRollout(let path, let target):
                    let book: Runbook
                    do { book = try Self.readRunbook(path) } catch {
                        post(.changeFailed(.refused(status: 0, detail: "\(error)")))
                        return
                    }
                    let status: RolloutStatus = try await client.startRollout(r.endpoint, body: RolloutStartRequest(runbook: book, target: target, baseline: nil, reason: r.reason))
                    post(.rolloutChanged(status, verb: "start"))
                    return
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
                case .outcomeUnknown(let m): post(.changeFailed(.outcomeUnknown(m)))
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
