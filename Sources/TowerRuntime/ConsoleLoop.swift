import Foundation
import Synchronization
import TerminalUI
import TowerConsole
import TowerMetrics
import TowerSources

/// The console's loop (DESIGN §7): sleep in poll(2) on the terminal and a wake pipe until input, a
/// message from a worker, a signal, or the next clock tick; feed everything through `update`; run
/// the effects; draw the new frame (the backend writes only changed cells). Idle means asleep.
public final class ConsoleLoop: @unchecked Sendable {
    let backend: any TerminalBackend
    let wake: WakePipe
    /// Messages waiting for the loop, and the generation of the metrics sources whose answers are
    /// still wanted: checked and bumped under the same lock, so that nothing an old context's
    /// source says can land after the switch.
    private let mailbox = Mutex<(messages: [Message], sourceGeneration: Int)>(([], 0))
    private var state: ConsoleState
    private var lastFrame: Frame?
    private var runner: EffectRunner!
    /// How often the clock advances the screen (ages, staleness) when nothing else happens.
    let tickInterval: Double

    /// Touched only on the loop's thread (at start, and by a context switch the loop's effects make).
    private(set) var metricsSources: [any MetricsSource]
    private var pollers: [Task<Void, Never>] = []

    public init(backend: any TerminalBackend, client: RegistryClient, state: ConsoleState, hooks: ConsoleHooks,
                metricsSources: [any MetricsSource] = [], tickInterval: Double = 1) throws {
        self.backend = backend
        self.metricsSources = metricsSources
        var state = state
        let (names, staleAfter) = Self.health(of: metricsSources)
        for name in names where !state.telemetry.sources.contains(where: { $0.name == name }) {
            state.telemetry.sources.append(SourceHealth(name: name))
        }
        if let staleAfter { state.telemetry.staleAfter = staleAfter }
        self.state = state
        self.tickInterval = tickInterval
        wake = try WakePipe()
        runner = EffectRunner(client: client, hooks: hooks, replaceMetrics: { [weak self] in self?.replaceSources($0) }) { [weak self] m in self?.post(m) }
    }

    /// The names the header shows (one per name), and when figures go stale: past two of the
    /// longest interval (DESIGN §5); nil without sources.
    static func health(of sources: [any MetricsSource]) -> ([String], TimeInterval?) {
        var names: [String] = []
        for src in sources where !names.contains(src.name) { names.append(src.name) }
        return (names, sources.map { $0.interval * 2 }.max())
    }

    /// Safe from any thread.
    public func post(_ m: Message) {
        mailbox.withLock { $0.messages.append(m) }
        wake.wake()
    }

    /// Posts what a source of `generation` said, unless the sources were replaced since.
    private func post(_ m: Message, fromSources generation: Int) {
        let kept = mailbox.withLock { box -> Bool in
            guard box.sourceGeneration == generation else { return false }
            box.messages.append(m)
            return true
        }
        if kept { wake.wake() }
    }

    private func startPollers(generation: Int) {
        let post: @Sendable (Message) -> Void = { [weak self] m in self?.post(m, fromSources: generation) }
        pollers = metricsSources.map { src in
            Task.detached {
                // One range query back-fills the sparklines; then the source is polled as usual.
                if let h = try? await src.history(points: Telemetry.historyLength), !h.isEmpty { post(.historyLoaded(h)) }
                await ConsoleLoop.pollSource(src, post: post)
            }
        }
    }

    /// A context switch brought other sources: the old ones stop (what they still say is dropped)
    /// and the header and figures start over with the new ones.
    private func replaceSources(_ sources: [any MetricsSource]) {
        for p in pollers { p.cancel() }
        metricsSources = sources
        let (names, staleAfter) = Self.health(of: sources)
        let generation = mailbox.withLock { box -> Int in
            box.sourceGeneration += 1
            box.messages.append(.sourcesChanged(names, staleAfter: staleAfter ?? Telemetry().staleAfter))
            return box.sourceGeneration
        }
        wake.wake()
        startPollers(generation: generation)
    }

    /// Runs until the operator quits or a terminating signal arrives; the terminal is restored on
    /// every way out. Returns the signal that ended it, if one did.
    @discardableResult
    public func run() -> Int32? {
        Signals.install(wake: wake)
        startPollers(generation: mailbox.withLock { $0.sourceGeneration })
        defer {
            for p in pollers { p.cancel() }
            backend.restore()
            Signals.reset()
        }
        let size = backend.size
        state.width = size.width
        state.height = size.height
        state.ascii = !backend.unicode
        perform([.loadEndpoints])
        render()
        var nextTick = Date().addingTimeInterval(tickInterval)
        var fds = [pollfd(fd: backend.inputDescriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
        while !state.quitting {
            let timeout = max(0, Int32(nextTick.timeIntervalSinceNow * 1000))
            _ = poll(&fds, 2, timeout) // EINTR simply means: look at everything again
            var messages: [Message] = []
            for byte in wake.drain() where byte == SignalByte.terminate {
                return pendingSignal
            }
            // Curses may hold keys it has already read, so ask until it has none.
            while let input = backend.readInput() {
                switch input {
                case .key(let k): messages.append(.key(k))
                case .resize(let w, let h): messages.append(.resize(width: w, height: h))
                }
            }
            messages += mailbox.withLock { box in defer { box.messages.removeAll() }; return box.messages }
            let now = Date()
            if now >= nextTick {
                messages.append(.tick(now))
                nextTick = now.addingTimeInterval(tickInterval)
            }
            for m in messages { perform(update(&state, m)) }
            if !messages.isEmpty { render() }
        }
        return nil
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
            let wait = failures == 0 ? src.interval : min(src.interval * 4, EffectRunner.backoff(failures: failures))
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    private func perform(_ effects: [Effect]) {
        for e in effects { runner.run(e) }
    }

    private func render() {
        let frame = view(state)
        if frame != lastFrame {
            backend.draw(frame)
            lastFrame = frame
        }
    }
}
