import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TowerDomain

/// The registry API of DESIGN §4. Handlers parse and check input, then hand the change to the
/// store, which decides it inside one transaction.
struct Routes {
    let store: RegistryStore
    let hub: WatchHub
    let metrics: RegistryMetrics
    /// Said in `/readyz` while the registry runs in a configuration that needs attention
    /// (`--insecure-listen`: plain HTTP off loopback).
    var warning: String? = nil

    func register(on router: Router<RegistryContext>) {
        router.get("/healthz") { _, _ in json(Data(#"{"status":"ok"}"#.utf8)) }
        let ready: Data = {
            guard let warning else { return Data(#"{"status":"ready"}"#.utf8) }
            return (try? JSONSerialization.data(withJSONObject: ["status": "ready", "warning": warning], options: [.sortedKeys]))
                ?? Data(#"{"status":"ready"}"#.utf8)
        }()
        router.get("/readyz") { _, _ in
            do {
                _ = try store.auditCount()
                return json(ready)
            } catch {
                throw Problem(status: 503, title: "Service Unavailable", detail: "the registry cannot read its database: \(error)")
            }
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }

        let v1 = router.group("v1")
        v1.get("endpoints") { _, ctx in
            _ = try ctx.require(.viewer)
            return markedIfStale(json(try store.listJSON()), store)
        }
        v1.get("endpoints/{name}") { _, ctx in
            _ = try ctx.require(.viewer)
            let name = try ctx.parameters.require("name")
            guard let e = store.endpoint(name) else { throw notFound(name) }
            return markedIfStale(try endpointResponse(e), store)
        }
        v1.put("endpoints/{name}") { req, ctx in
            let p = try ctx.require(.viewer)
            if !p.role.mayApplySpecs {
                throw RoutingError.forbidden("applying a spec needs the deployer or admin role; the token '\(p.name)' has \(p.role.rawValue)")
            }
            let name = try ctx.parameters.require("name")
            var body = try await decode(SpecBody.self, from: req, context: ctx)
            if let n = body.name, n != name {
                throw RoutingError.invalid("the body names endpoint '\(Names.printable(n))' but the URL names '\(Names.printable(name))'")
            }
            body.name = name
            if let problem = Names.problem(with: name, kind: "endpoint") { throw RoutingError.invalid(problem) }
            let out = try await store.put(body.spec, expected: try ifMatch(req, required: false), principal: p,
                                          defaultReason: "spec applied")
            if let entry = out.entry { metrics.change(entry.action.rawValue) }
            var r = try endpointResponse(out.endpoint)
            if out.created { r.status = .created }
            return r
        }
        v1.delete("endpoints/{name}") { req, ctx in
            let p = try ctx.require(.viewer)
            if !p.role.mayApplySpecs {
                throw RoutingError.forbidden("deleting an endpoint needs the deployer or admin role; the token '\(p.name)' has \(p.role.rawValue)")
            }
            let name = try ctx.parameters.require("name")
            guard let expected = try ifMatch(req, required: true) else { throw PreconditionRequired() }
            // A deployer removes only what serves nothing: taking traffic away is an operator's call.
            if p.role == .deployer, let e = store.endpoint(name), e.state == .serving {
                throw RoutingError.forbidden("'\(name)' is serving; a deployer may delete only an endpoint that is out of service (an operator drains it first)")
            }
            // From the query only, as docs/registry-api.yaml requires it: a body is not read.
            let reason = req.uri.queryParameters.get("reason")
            let result = try await store.delete(name, expected: expected, principal: p, reason: reason ?? "")
            metrics.change("delete")
            return json(try Wire.encoder().encode(result.entry))
        }
        v1.post("endpoints/{name}/versions/{version}/evaluations") { req, ctx in
            let p = try ctx.require(.viewer)
            if !p.role.mayApplySpecs {
                throw RoutingError.forbidden("submitting an evaluation needs the deployer or admin role; the token '\(p.name)' has \(p.role.rawValue)")
            }
            let name = try ctx.parameters.require("name")
            let version = try ctx.parameters.require("version")
            let document = try await decode(EvaluationDocument.self, from: req, context: ctx)
            let result = try await store.submitEvaluation(endpoint: name, version: version, document: document, principal: p)
            metrics.change("evaluate")
            ctx.logger.notice("evaluation", metadata: [
                "actor": .string(p.name), "endpoint": .string(name), "version": .string(version),
                "sha256": .string(result.evaluation.sha256), "gate": .string(result.evaluation.gate.rawValue),
            ])
            var r = json(try Wire.encoder().encode(result))
            r.status = .created
            r.headers[.eTag] = "\"\(result.endpoint.revision)\""
            return r
        }
        v1.get("endpoints/{name}/versions/{version}/evaluations") { req, ctx in
            _ = try ctx.require(.viewer)
            let name = try ctx.parameters.require("name")
            let version = try ctx.parameters.require("version")
            let limit = try intParameter(req, "limit", default: 20, range: 1...RegistryStore.maxEvaluationsListed)
            return json(try Wire.encoder().encode(try await store.evaluations(endpoint: name, version: version, limit: limit)))
        }
        v1.post("endpoints/{name}/shift") { req, ctx in
            _ = try ctx.require(.operator)
            let body = try await decode(ShiftRequest.self, from: req, context: ctx)
            return try await change(req, ctx, reason: body.reason, override: body.override ?? false) { _, _ in .shift(body.weights) }
        }
        v1.post("endpoints/{name}/drain") { req, ctx in
            _ = try ctx.require(.operator)
            let body = try await decode(DrainRequest.self, from: req, context: ctx)
            return try await change(req, ctx, reason: body.reason, override: false) { _, _ in
                body.version.map { .drainVersion($0) } ?? .drainEndpoint
            }
        }
        v1.post("endpoints/{name}/undrain") { req, ctx in
            _ = try ctx.require(.operator)
            let body = try await decode(DrainRequest.self, from: req, context: ctx)
            return try await change(req, ctx, reason: body.reason, override: false) { _, _ in
                body.version.map { .undrainVersion($0) } ?? .undrainEndpoint
            }
        }
        v1.post("endpoints/{name}/rollback") { req, ctx in
            _ = try ctx.require(.operator)
            let body = try await decode(RollbackRequest.self, from: req, context: ctx)
            if let t = body.toRevision, t < 1 { throw RoutingError.invalid("toRevision must be a revision number of 1 or more, not \(t)") }
            return try await change(req, ctx, reason: body.reason, override: body.override ?? false) { current, db in
                .restore(try RegistryStore.rollbackTarget(current, to: body.toRevision, db: db))
            }
        }
        v1.get("endpoints/{name}/revisions") { req, ctx in
            _ = try ctx.require(.viewer)
            let name = try ctx.parameters.require("name")
            let limit = try intParameter(req, "limit", default: 50, range: 1...1000)
            return json(try Wire.encoder().encode(try await store.revisions(of: name, limit: limit)))
        }
        v1.get("audit") { req, ctx in
            _ = try ctx.require(.viewer)
            let limit = try intParameter(req, "limit", default: 100, range: 1...1000)
            if req.uri.queryParameters.get("after") != nil {
                let after = try intParameter(req, "after", default: 0, range: 0...Int.max)
                return json(try Wire.encoder().encode(try await store.audit(after: Int64(after), limit: limit)))
            }
            let endpoint = req.uri.queryParameters.get("endpoint")
            return json(try Wire.encoder().encode(try await store.recentAudit(limit: limit, endpoint: endpoint)))
        }
        v1.get("audit/verify") { _, ctx in
            _ = try ctx.require(.viewer)
            let broken = try store.verifyAudit()
            return json(try Wire.encoder().encode(AuditVerification(intact: broken == nil, entries: try store.auditCount(), firstBreak: broken)))
        }
        v1.get("watch") { req, ctx in
            _ = try ctx.require(.viewer)
            let after = Int64(try intParameter(req, "after", default: 0, range: 0...Int.max))
            let timeout = try intParameter(req, "timeout", default: 25, range: 0...60)
            if store.auditSeq <= after && timeout > 0 {
                await withGracefulShutdownHandler {
                    await hub.wait(after: after, timeout: .seconds(timeout))
                } onGracefulShutdown: {
                    hub.close()
                }
            }
            // Cut off from the database with nothing newer in memory: the wait is over and nothing
            // came, which memory can say without the database, marked stale like the reads, so a
            // console idling on the watch learns that the routing it shows may be missing changes.
            if store.unavailableSince != nil && store.auditSeq <= after {
                return markedIfStale(json(try Wire.encoder().encode(WatchResponse(events: [], lastSeq: store.auditSeq))), store)
            }
            let page = try await store.audit(after: after, limit: 100)
            return markedIfStale(json(try Wire.encoder().encode(WatchResponse(events: page.entries, lastSeq: page.lastSeq))), store)
        }
    }

    /// Runs a routing change as the caller, with the revision from If-Match.
    private func change(_ req: Request, _ ctx: RegistryContext, reason: String, override: Bool,
                        resolve: @escaping @Sendable (Endpoint, any StoreDB) throws -> RoutingChange) async throws -> Response {
        let p = try ctx.require(.operator)
        let name = try ctx.parameters.require("name")
        guard let expected = try ifMatch(req, required: true) else { throw PreconditionRequired() }
        let result = try await store.change(name, expected: expected, principal: p, reason: reason, override: override, resolve: resolve)
        metrics.change(result.entry.action.rawValue)
        if result.entry.override { metrics.change("gate-override") }
        ctx.logger.notice("change", metadata: [
            "actor": .string(p.name), "endpoint": .string(name), "action": .string(result.entry.action.rawValue),
            "revision": .stringConvertible(result.entry.toRevision), "seq": .stringConvertible(result.entry.seq),
            "summary": .string(result.entry.summary),
        ])
        return try endpointResponse(result.endpoint!, json: result.body)
    }

    private func notFound(_ name: String) -> RoutingError {
        .notFound("no endpoint named '\(Names.printable(name))'")
    }
}

struct SpecBody: Codable {
    var name: String?
    var path: String
    var owner: String
    var versions: [EndpointSpec.VersionSpec]
    var reason: String?
    var override: Bool?
    var baseline: String?
    var slo: SLO?
    var judge: JudgeSpec?
    var evaluation: EvaluationPolicy?
    var initialWeights: [String: Int]?
    var spec: EndpointSpec {
        EndpointSpec(name: name ?? "", path: path, owner: owner, versions: versions, reason: reason, override: override,
                     baseline: baseline, slo: slo, judge: judge, evaluation: evaluation, initialWeights: initialWeights)
    }
}


func json(_ data: Data) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func json(_ bytes: [UInt8]) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// Reads served from memory while the database cannot be reached (another replica's changes may
/// be missing) say so, and since when.
func markedIfStale(_ r: Response, _ store: RegistryStore) -> Response {
    guard let since = store.unavailableSince else { return r }
    var r = r
    r.headers[HTTPField.Name("Tower-Stale")!] = "database unavailable since \(Timestamp.rfc3339(ms: Timestamp.ms(since))); served from memory as of audit seq \(store.auditSeq)"
    return r
}

/// `json`, when given, is `e` already encoded (as the store wrote it).
func endpointResponse(_ e: Endpoint, json encoded: String? = nil) throws -> Response {
    var r = json(try encoded.map { Data($0.utf8) } ?? Wire.encoder().encode(e))
    r.headers[.eTag] = "\"\(e.revision)\""
    return r
}

/// The revision a change expects, from `If-Match: "7"`.
func ifMatch(_ req: Request, required: Bool) throws -> Int64? {
    guard let raw = req.headers[.ifMatch] else {
        if required { throw PreconditionRequired() }
        return nil
    }
    var v = Substring(raw.trimmingCharacters(in: .whitespaces))
    if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
    // Digits only, as the documented pattern says: Int64 alone would also take "+7" and "007".
    guard v.first != "0", v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(v), n >= 1 else {
        throw Problem(status: 400, title: "Bad Request",
                      detail: "If-Match must be the revision you read, in quotes, like If-Match: \"7\"; '\(Names.printable(raw, limit: 40))' is not a revision number")
    }
    return n
}

func intParameter(_ req: Request, _ name: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
    guard let raw = req.uri.queryParameters.get(name) else { return d }
    guard let v = Int(raw), range.contains(v) else {
        throw Problem(status: 400, title: "Bad Request",
                      detail: "query parameter \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound == Int.max ? "up" : String(range.upperBound)), not '\(Names.printable(raw, limit: 40))'")
    }
    return v
}

/// Reads and decodes a JSON body, turning every way it can be wrong into a 400 that says where.
func decode<T: Decodable>(_ type: T.Type, from req: Request, context: RegistryContext) async throws -> T {
    guard let value = try await decode(type, from: req, context: context, emptyAllowed: false) else {
        throw Problem(status: 400, title: "Bad Request", detail: "the request needs a JSON body")
    }
    return value
}

func decode<T: Decodable>(_ type: T.Type, from req: Request, context: RegistryContext, emptyAllowed: Bool) async throws -> T? {
    if let len = req.headers[.contentLength].flatMap(Int.init), len > RegistryLimits.maxBody {
        throw Problem(status: 413, title: "Content Too Large", detail: "the request body is larger than 1 MiB")
    }
    let buffer = try await collectBody(req, context: context, upTo: RegistryLimits.maxBody)
    let data = Data(buffer: buffer)
    if data.isEmpty {
        if emptyAllowed { return nil }
        throw Problem(status: 400, title: "Bad Request", detail: "the request needs a JSON body")
    }
    let scan = JSONBodyScan(Array(data))
    try scan.check()
    do {
        return try Wire.decoder().decode(T.self, from: data)
    } catch let e as DecodingError {
        throw Problem(status: 400, title: "Bad Request", detail: scan.numberProblem(e, path: codingPath(e)) ?? describe(e))
    } catch {
        throw Problem(status: 400, title: "Bad Request", detail: "the body is not valid JSON")
    }
}

/// Where a decoding error happened, written as `JSONBodyScan` writes paths (`versions[0].weight`).
func codingPath(_ e: DecodingError) -> String {
    switch e {
    case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c): codingPathText(c.codingPath)
    case .keyNotFound(let k, let c): codingPathText(c.codingPath + [k])
    @unknown default: "the body"
    }
}

private func codingPathText(_ p: [any CodingKey]) -> String {
    p.isEmpty ? "the body" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
}

func describe(_ e: DecodingError) -> String {
    func path(_ p: [any CodingKey]) -> String { codingPathText(p) }
    switch e {
    case .dataCorrupted(let c):
        if c.codingPath.isEmpty { return "the body is not valid JSON" + (c.debugDescription.isEmpty ? "" : ": \(c.debugDescription)") }
        return "\(path(c.codingPath)) is invalid: \(c.debugDescription)"
    case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
    case .typeMismatch(let t, let c): return "\(path(c.codingPath)) must be \(describeType(t))"
    case .valueNotFound(let t, let c): return "\(path(c.codingPath)) must be \(describeType(t)), not null"
    @unknown default: return "the body does not match the expected shape"
    }
}

private func describeType(_ t: Any.Type) -> String {
    switch t {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type: "a whole number"
    case is Double.Type: "a number"
    case is Bool.Type: "true or false"
    case is Dictionary<String, Int>.Type: "an object of whole numbers"
    default: "of type \(t)"
    }
}
