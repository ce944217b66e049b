import Foundation
import Synchronization
import TerminalUI
import TowerConsole
import TowerMetrics
import TowerSources

/// The console's loop (DESIGN §7): sleep in poll(2) on the terminal and a wake pipe until input, a
/// message from a worker, a signal, or the next clock tick; feed everything through `update`; hand
/// the effects to the runner; draw the new frame (the backend writes only changed cells). Idle
/// means asleep. What the current context reads (registry, traces, metrics) is the runner's alone.
public final class ConsoleLoop: @unchecked Sendable {
    let backend: any TerminalBackend
    let wake: WakePipe
    private let mailbox = Mutex<[Message]>([])
    private var state: ConsoleState
    private var lastFrame: Frame?
    private var runner: EffectRunner!
    /// How often the clock advances the screen (ages, staleness) when nothing else happens.
    let tickInterval: Double

    /// `client` and `sources` are the starting context's; `hooks` resolve the others for `:ctx`.
    public init(backend: any TerminalBackend, client: RegistryClient, sources: ConsoleSources = ConsoleSources(),
                state: ConsoleState, hooks: ConsoleHooks, tickInterval: Double = 1) throws {
        self.backend = backend
        self.state = state
        self.tickInterval = tickInterval
        wake = try WakePipe()
        runner = EffectRunner(client: client, sources: sources, hooks: hooks) { [weak self] m in self?.post(m) }
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
        defer {
            runner.stop()
            backend.restore()
            Signals.reset()
        }
        let size = backend.size
        state.width = size.width
        state.height = size.height
        state.ascii = !backend.unicode
        runner.start()
        perform([.loadEndpoints])
        // The runner has already said which sources there are: the first frame names them.
        apply(takeMessages())
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
            messages += takeMessages()
            let now = Date()
            if now >= nextTick {
                messages.append(.tick(now))
                nextTick = now.addingTimeInterval(tickInterval)
            }
            apply(messages)
            if !messages.isEmpty { render() }
        }
        return nil
    }

    private func takeMessages() -> [Message] {
        mailbox.withLock { box in defer { box.removeAll() }; return box }
    }

    private func apply(_ messages: [Message]) {
        for m in messages { perform(update(&state, m)) }
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
