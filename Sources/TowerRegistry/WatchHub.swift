import Synchronization

/// Wakes long-poll watchers when a change commits. A watcher waits until the audit sequence passes
/// what it has seen, its timeout runs out, or the server shuts down.
public final class WatchHub: Sendable {
    private struct State {
        var seq: Int64
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
        var closed = false
    }

    private let state: Mutex<State>

    public init(seq: Int64) { state = Mutex(State(seq: seq)) }

    public func publish(_ seq: Int64) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.seq = max(s.seq, seq)
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for c in woken { c.resume() }
    }

    /// Ends every wait now and every future one at once: the server is going away.
    public func close() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for c in woken { c.resume() }
    }

    public func wait(after: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForChange(after: after) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForChange(after: Int64) async {
        let id = state.withLock { s -> Int in s.nextID += 1; return s.nextID }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.seq > after || s.closed || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { s in s.waiters.removeValue(forKey: id) }
            c?.resume()
        }
    }
}
