import Foundation
import Synchronization
import TowerDomain
import TowerHTTP

/// Which replica a client is on. A class, so that every copy of a `RegistryClient` (the console
/// copies it into each task) moves together: one failover, not one per copy.
final class ReplicaCursor: Sendable {
    private let current = Atomic<Int>(0)
    var index: Int { current.load(ordering: .relaxed) }
    func settle(on i: Int) { current.store(i, ordering: .relaxed) }
}

/// A change as sent, kept so it can be sent again to another replica when it certainly did not land.
struct Change: Sendable {
    var method: String
    var path: String
    var headers: [(String, String)]
    var body: [UInt8]?
    /// The endpoint it changes and the revision it expects (its If-Match): with both, a lost answer
    /// is settled by reading the endpoint again.
    var endpoint: String?
    var expected: Int64?
}

/// Failover across replicas (DESIGN §12), for reads and changes alike:
/// - A read moves to the next replica on no answer or a 5xx, and stays there (the header names it).
/// - A 4xx is the registry's answer, whichever replica gives it: never retried elsewhere.
/// - A change moves on only when it certainly did not arrive (no connection, no TLS session). When
///   its answer is lost (a timeout, a reset, a 5xx), it is never simply sent again: the endpoint is
///   read again first, from the next replica that answers. Still at the expected revision: the
///   change did not land, and it is sent there (the If-Match still guards it). Moved on: the
///   outcome is said, with who moved it, and nothing is resent. A change with no If-Match (a
///   rollout start, an evaluation, a promotion) is never resent after a lost answer.
extension RegistryClient {
    func read(_ path: String, timeout: Duration) async throws(RegistryClientError) -> HTTPResponse {
        let start = cursor.index
        var failures: [(String, RegistryClientError)] = []
        // A replica that cannot reach its database answers reads from memory, marked `Tower-Stale`:
        // another replica may have the latest, so it is asked too; the stale answer is kept only
        // when no replica has better.
        var stale: (Int, HTTPResponse)?
        for step in 0..<replicas.count {
            let i = (start + step) % replicas.count
            do {
                let r = try await exchange(HTTPRequest(method: "GET", url: replicas[i] + path, headers: headers(), timeout: timeout))
                if r.headers["tower-stale"] != nil && replicas.count > 1 {
                    if stale == nil { stale = (i, r) }
                    continue
                }
                cursor.settle(on: i)
                return r
            } catch {
                guard Self.replicaFailed(error) else { cursor.settle(on: i); throw error }
                failures.append((replicas[i], error))
            }
        }
        if let (i, r) = stale {
            cursor.settle(on: i)
            return r
        }
        throw Self.allFailed(failures)
    }

    func write(_ change: Change) async throws(RegistryClientError) -> HTTPResponse {
        var i = cursor.index % replicas.count
        var failures: [(String, RegistryClientError)] = []
        var unreached = Set<Int>()
        // Each replica once, and a replica found not to have the change once more: bounded however
        // the replicas come and go meanwhile.
        for _ in 0..<(2 * replicas.count) {
            do {
                let r = try await exchange(HTTPRequest(method: change.method, url: replicas[i] + change.path, headers: change.headers,
                                                       body: change.body, timeout: timeout))
                cursor.settle(on: i)
                return r
            } catch {
                guard Self.replicaFailed(error) else { cursor.settle(on: i); throw error }
                failures.append((replicas[i], error))
                if case .unreachable(let t) = error, t.nothingSent {
                    unreached.insert(i)
                    guard let next = (1...replicas.count).map({ (i + $0) % replicas.count })
                        .first(where: { !unreached.contains($0) }) else { break }
                    i = next
                    continue
                }
                // The change may have landed: sent again only where a fresh read shows it did not.
                guard let next = try await settle(change, lostOn: i, error) else { break }
                i = next
            }
        }
        throw Self.allFailed(failures)
    }

    /// After a lost answer on replica `lost`: the replica to send the change to next (it certainly
    /// did not land), or a thrown sentence saying what is known.
    private func settle(_ change: Change, lostOn lost: Int, _ error: RegistryClientError) async throws(RegistryClientError) -> Int? {
        let what = "\(change.method) \(change.path.split(separator: "?").first ?? "")"
        guard let name = change.endpoint, let expected = change.expected else {
            throw .outcomeUnknown("the answer to \(what) was lost (\(Self.why(error))): it may have been applied; read the state again before repeating it")
        }
        // The next replicas first; the same one last (with one replica, it is the only one to ask).
        for step in 1...replicas.count {
            let i = (lost + step) % replicas.count
            let current: Endpoint
            do {
                current = try decode(try await exchange(HTTPRequest(method: "GET", url: replicas[i] + "/v1/endpoints/\(Self.escape(name))",
                                                                    headers: headers(), timeout: timeout)))
            } catch {
                if case .refused(let p) = error, p.status == 404 {
                    throw .outcomeUnknown("the answer to \(what) was lost (\(Self.why(error))) and \(Names.printable(name)) is now not found: it may have been applied")
                }
                continue
            }
            guard current.revision == expected else {
                throw .outcomeUnknown("the answer to \(what) was lost (\(Self.why(error))); \(Names.printable(name)) is now at revision \(current.revision), by \(Names.printable(current.updatedBy)): if that is this change, it was applied; nothing was sent again")
            }
            // Not applied: sent to the replica that just answered (the If-Match still guards it).
            // One registry: it stays unsent, and the caller hears that nothing was changed.
            cursor.settle(on: i)
            return replicas.count == 1 ? nil : i
        }
        throw .outcomeUnknown("the answer to \(what) was lost (\(Self.why(error))) and no replica answered a read since: it may have been applied; read the state again before repeating it")
    }

    /// No answer, or a server error: this replica failed, another may not.
    static func replicaFailed(_ error: RegistryClientError) -> Bool {
        switch error {
        case .unreachable: true
        case .refused(let p): p.status >= 500
        default: false
        }
    }

    static func why(_ error: RegistryClientError) -> String {
        if case .unreachable(let t) = error { return t.description }
        return error.description
    }

    /// Every replica failed: one replica's error as it was; several, each named.
    static func allFailed(_ failures: [(String, RegistryClientError)]) -> RegistryClientError {
        guard failures.count > 1, let last = failures.last else { return failures.last?.1 ?? .unreachable(.failed("no registry URL")) }
        let each = failures.map { "\(hostPort($0.0)): \(why($0.1))" }.joined(separator: "; ")
        if case .refused(let p) = last.1 {
            var all = p
            all.detail = "no replica could serve it (\(each))"
            return .refused(all)
        }
        return .unreachable(.unreachable("no replica answered (\(each))"))
    }

    /// `host:port` of a URL, for the header and for sentences.
    public static func hostPort(_ url: String) -> String {
        guard let c = URLComponents(string: url), let host = c.host else { return url }
        return c.port.map { "\(host):\($0)" } ?? host
    }
}
