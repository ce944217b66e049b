import Foundation
import TowerDomain
import TowerHTTP

/// What went wrong talking to the registry, sorted by what the caller can do about it.
public enum RegistryClientError: Error, Sendable, CustomStringConvertible {
    /// No answer: the registry is down, unreachable or too slow.
    case unreachable(HTTPTransportError)
    /// 412: someone changed the endpoint since it was read; the problem carries the current state.
    case stale(Problem)
    /// Any other refusal, with the registry's own explanation.
    case refused(Problem)
    /// The answer could not be understood.
    case malformed(String)
    /// A change was sent and its answer lost; the sentence says what a fresh read showed (or that
    /// none could be made), so that nobody takes "no answer" for "not applied".
    case outcomeUnknown(String)

    public var description: String {
        switch self {
        case .unreachable(let e): "registry \(e)"
        case .stale(let p), .refused(let p): p.detail
        case .malformed(let m): "the registry's answer could not be read: \(m)"
        case .outcomeUnknown(let m): m
        }
    }

    public var status: Int? {
        switch self {
        case .stale: 412
        case .refused(let p): p.status
        default: nil
        }
    }
}

/// Typed client of the registry API (DESIGN §4), shared by the console, the CLI, tests and bench.
/// Speaks to one registry or to several replicas of one (DESIGN §12), moving on as `Failover` says.
public struct RegistryClient: Sendable {
    /// Every replica, in the order given; the client starts on the first.
    public let replicas: [String]
    private let token: String?
    private let transport: any HTTPTransport
    public var timeout: Duration
    let cursor: ReplicaCursor

    /// `baseURL` is one registry's URL, or several replicas' separated by commas (as `--registry`
    /// takes them).
    public init(baseURL: String, token: String?, transport: any HTTPTransport = CurlTransport(), timeout: Duration = .seconds(5)) {
        self.init(replicas: Self.replicaURLs(baseURL), token: token, transport: transport, timeout: timeout)
    }

    public init(replicas: [String], token: String?, transport: any HTTPTransport = CurlTransport(), timeout: Duration = .seconds(5)) {
        let urls = replicas.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.replicas = urls.isEmpty ? [""] : urls
        self.token = token
        self.transport = transport
        self.timeout = timeout
        cursor = ReplicaCursor()
    }

    /// The replica that answers now (the one the last exchange settled on).
    public var baseURL: String { replicas[cursor.index % replicas.count] }

    /// `URL` or `URL,URL,…`, trimmed, empty parts dropped.
    public static func replicaURLs(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func list() async throws(RegistryClientError) -> EndpointList {
        try await get("/v1/endpoints")
    }

    /// The list and, when the replica served it from memory because it cannot reach its database,
    /// its `Tower-Stale` sentence: the routing may lack changes made through other replicas. (With
    /// several replicas a fresh one is asked first; this is set only when none was fresh.)
    public func listMarked() async throws(RegistryClientError) -> (list: EndpointList, stale: String?) {
        let r = try await read("/v1/endpoints", timeout: timeout)
        return (try decode(r), r.headers["tower-stale"])
    }

    public func endpoint(_ name: String) async throws(RegistryClientError) -> Endpoint {
        try await get("/v1/endpoints/\(Self.escape(name))")
    }

    public func shift(_ name: String, weights: [String: Int], reason: String, expected: Int64, override: Bool = false) async throws(RegistryClientError) -> Endpoint {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/shift",
                       body: ShiftRequest(weights: weights, reason: reason, override: override ? true : nil), ifMatch: expected, endpoint: name)
    }

    public func drain(_ name: String, version: String?, reason: String, expected: Int64) async throws(RegistryClientError) -> Endpoint {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/drain", body: DrainRequest(version: version, reason: reason), ifMatch: expected, endpoint: name)
    }

    public func undrain(_ name: String, version: String?, reason: String, expected: Int64) async throws(RegistryClientError) -> Endpoint {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/undrain", body: DrainRequest(version: version, reason: reason), ifMatch: expected, endpoint: name)
    }

    public func rollback(_ name: String, to revision: Int64?, reason: String, expected: Int64, override: Bool = false) async throws(RegistryClientError) -> Endpoint {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/rollback",
                       body: RollbackRequest(toRevision: revision, reason: reason, override: override ? true : nil), ifMatch: expected, endpoint: name)
    }

    public func put(_ spec: EndpointSpec, expected: Int64?) async throws(RegistryClientError) -> Endpoint {
        try await send("PUT", "/v1/endpoints/\(Self.escape(spec.name))", body: spec, ifMatch: expected, endpoint: spec.name)
    }

    public func revisions(_ name: String, limit: Int = 50) async throws(RegistryClientError) -> RevisionList {
        try await get("/v1/endpoints/\(Self.escape(name))/revisions?limit=\(limit)")
    }

    /// Entries after `after`, oldest first.
    public func audit(after: Int64, limit: Int = 100) async throws(RegistryClientError) -> AuditPage {
        try await get("/v1/audit?after=\(after)&limit=\(limit)")
    }

    /// The newest entries, newest first.
    /// The newest entries, of one endpoint when `endpoint` is given.
    public func recentAudit(limit: Int = 100, endpoint: String? = nil) async throws(RegistryClientError) -> AuditPage {
        try await get("/v1/audit?limit=\(limit)" + (endpoint.map { "&endpoint=" + Self.escape($0) } ?? ""))
    }

    /// The registry's verdict on its whole audit chain.
    public func verifyAudit() async throws(RegistryClientError) -> AuditVerification {
        try await get("/v1/audit/verify")
    }

    /// Long-polls for changes after `after`; answers at once if there are some.
    public func watch(after: Int64, timeout seconds: Int = 25) async throws(RegistryClientError) -> WatchResponse {
        try await watchMarked(after: after, timeout: seconds).response
    }

    /// A long poll and its `Tower-Stale` sentence, as `listMarked`.
    public func watchMarked(after: Int64, timeout seconds: Int = 25) async throws(RegistryClientError) -> (response: WatchResponse, stale: String?) {
        let r = try await read("/v1/watch?after=\(after)&timeout=\(seconds)", timeout: .seconds(seconds + 5))
        return (try decode(r), r.headers["tower-stale"])
    }

    /// The Envoys polling the registry and whether each holds its current routing. A registry older
    /// than gateway tracking answers 404 here: it knows no gateways, which is not a failure.
    public func gateways() async throws(RegistryClientError) -> GatewayList {
        do { return try await get("/v1/gateways") } catch {
            if case .refused(let p) = error, p.status == 404 { return GatewayList(gateways: []) }
            throw error
        }
    }

    // MARK: Plumbing

    func get<T: Decodable>(_ path: String, timeout: Duration? = nil) async throws(RegistryClientError) -> T {
        try decode(try await read(path, timeout: timeout ?? self.timeout))
    }

    /// A change: `endpoint` and `ifMatch` (when the change has them) let a lost answer be settled
    /// by reading the endpoint again, and a change that certainly did not land be sent on.
    func send<B: Encodable, T: Decodable>(_ method: String, _ path: String, body: B, ifMatch: Int64?,
                                          endpoint: String? = nil) async throws(RegistryClientError) -> T {
        var h = headers()
        h.append(("Content-Type", "application/json"))
        if let ifMatch { h.append(("If-Match", "\"\(ifMatch)\"")) }
        let bytes: [UInt8]
        do { bytes = Array(try Wire.encoder().encode(body)) } catch { throw .malformed("cannot encode the request: \(error)") }
        let change = Change(method: method, path: path, headers: h, body: bytes, endpoint: endpoint, expected: ifMatch)
        return try decode(try await write(change))
    }

    func headers() -> [(String, String)] {
        var h = [("Accept", "application/json")]
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        return h
    }

    /// One request to one replica; any HTTP answer but 2xx is thrown as the registry's problem.
    func exchange(_ request: HTTPRequest) async throws(RegistryClientError) -> HTTPResponse {
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch let e as HTTPTransportError { throw .unreachable(e) } catch {
            throw .unreachable(.failed("\(error)"))
        }
        if (200..<300).contains(response.status) { return response }
        let problem = (try? Wire.decoder().decode(Problem.self, from: Data(response.body)))
            ?? Problem(status: response.status, title: "HTTP \(response.status)",
                       detail: "the registry answered \(response.status) without an explanation")
        throw response.status == 412 ? .stale(problem) : .refused(problem)
    }

    func decode<T: Decodable>(_ response: HTTPResponse) throws(RegistryClientError) -> T {
        do { return try Wire.decoder().decode(T.self, from: Data(response.body)) } catch {
            throw .malformed("\(T.self): \(error)")
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }
}
