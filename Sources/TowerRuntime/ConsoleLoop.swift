import Foundation
import Synchronization
import TerminalUI
import TowerConsole
import TowerSources

/// The console's loop (DESIGN §7): sleep in poll(2) on the terminal and a wake pipe until input, a
/// message from a worker, a signal, or the next clock tick; feed everything through `update`; run
/// the effects; draw the new frame (the backend writes only changed cells). Idle means asleep.
public final class ConsoleLoop: @unchecked Sendable {
    let backend: any TerminalBackend
    let wake: WakePipe
    private let mailbox = Mutex<[Message]>([])
    private var state: ConsoleState
    private var lastFrame: Frame?
    private var runner: EffectRunner!
    /// How often the clock advances the screen (ages, staleness) when nothing else happens.
    let tickInterval: Double

    let metricsSources: [any MetricsSource]
    private var pollers: [Task<Void, Never>] = []

    public init(backend: any TerminalBackend, client: RegistryClient, state: ConsoleState, hooks: ConsoleHooks,
                metricsSources: [any MetricsSource] = [], tickInterval: Double = 1) throws {
        self.backend = backend
        self.metricsSources = metricsSources
        var state = state
        for src in metricsSources where !state.telemetry.sources.contains(where: { $0.name == src.name }) {
            state.telemetry.sources.append(SourceHealth(name: src.name))
            state.telemetry.staleAfter = max(state.telemetry.staleAfter, src.interval * 2)
        }
        self.state = state
        self.tickInterval = tickInterval
        wake = try WakePipe()
        runner = EffectRunner(client: client, hooks: hooks) { [weak self] m in self?.post(m) }
    }

    /// Safe from any thread.
    public func post(_ m: Message) {
        mailbox.withLock { $0.append(m) }
        wake.wake()
    }

    /// Runs until the operator quits or a terminating signal arrives; the terminal is restored on
    /// every way out. Returns the signal that ended it, if one did.
    @discardableResult
    public func run() -> Int32? {
        Signals.install(wake: wake)
        let post: @Sendable (Message) -> Void = { [weak self] m in self?.post(m) }
        pollers = metricsSources.map { src in
            Task.detached {
                // One range query back-fills the sparklines; then the source is polled as usual.
                if let h = try? await src.history(points: Telemetry.historyLength), !h.isEmpty { post(.historyLoaded(h)) }
                await ConsoleLoop.pollSource(src, post: post)
            }
        }
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
            messages += mailbox.withLock { m in defer { m.removeAll() }; return m }
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
