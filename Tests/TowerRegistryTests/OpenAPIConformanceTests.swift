import Foundation
import Hummingbird
import Testing
import TowerDomain
import Yams
@testable import TowerRegistry

/// docs/registry-api.yaml is the contract: every documented path and method is routed, every
/// route is documented, and every documented status can be produced by a real request.
@Suite struct OpenAPIConformanceTests {
    struct Operation: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var status: Int
        var role: String
        var description: String { "\(method) \(path) → \(status)" }
    }

    static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/registry-api.yaml").path

    static func operations() throws -> [Operation] {
        let text = try String(contentsOfFile: docPath, encoding: .utf8)
        guard let doc = try Yams.load(yaml: text) as? [String: Any], let paths = doc["paths"] as? [String: Any] else {
            throw E("docs/registry-api.yaml has no paths")
        }
        var ops: [Operation] = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "put", "post", "delete", "patch"] {
                guard let op = item[method] as? [String: Any], let responses = op["responses"] as? [String: Any] else { continue }
                let role = op["x-required-role"] as? String ?? "none"
                for code in responses.keys { ops.append(Operation(method: method.uppercased(), path: path, status: Int(code) ?? -1, role: role)) }
            }
        }
        return ops.sorted { ($0.path, $0.method, $0.status) < ($1.path, $1.method, $1.status) }
    }

    struct E: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }

    @Test func theDocumentIsOpenAPI31AndCoversEveryRoute() throws {
        let text = try String(contentsOfFile: Self.docPath, encoding: .utf8)
        #expect(text.hasPrefix("openapi: 3.1"))
        let documented = Set(try Self.operations().map { "\($0.method) \($0.path)" })
        let store = try RegistryStore(directory: NSTemporaryDirectory() + "tower-oa-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(atPath: (store.path as NSString).deletingLastPathComponent) }
        let routed = Set(buildRouter(store: store).routes.map { r in
            "\(r.method) \(r.path.description.hasPrefix("/") ? r.path.description : "/" + r.path.description)"
                .replacingOccurrences(of: "{name}", with: "{name}")
        })
        #expect(documented == routed, "documented but not routed: \(documented.subtracting(routed)); routed but not documented: \(routed.subtracting(documented))")
    }

    static func schemaProperties(_ name: String) throws -> (properties: Set<String>, required: Set<String>) {
        let text = try String(contentsOfFile: docPath, encoding: .utf8)
        guard let doc = try Yams.load(yaml: text) as? [String: Any], let components = doc["components"] as? [String: Any],
              let schemas = components["schemas"] as? [String: Any], let schema = schemas[name] as? [String: Any],
              let properties = schema["properties"] as? [String: Any] else {
            throw E("docs/registry-api.yaml has no schema \(name) with properties")
        }
        return (Set(properties.keys), Set(schema["required"] as? [String] ?? []))
    }

    /// The documented schemas name every key the server sends or reads for the spec's fields,
    /// with everything set, and require only keys that are always there.
    @Test func theSpecFieldsAreDocumentedWhereTheyTravel() async throws {
        try await Harness.run { h, c in
            let withAll = SLOSpecTests.alphaSpec(#""baseline":"v1","slo":\#(SLOSpecTests.sloJSON),"judge":\#(JudgeSpecRouterTests.judgeJSON),"reason":"all","#)
            let put = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: withAll)
            #expect(put.status == 200)
            let endpoint = try #require(try JSONSerialization.jsonObject(with: put.body) as? [String: Any])
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            let sent: [(String, [String: Any])] = [
                ("Endpoint", endpoint),
                ("SLO", try #require(endpoint["slo"] as? [String: Any])),
                ("JudgeSpec", try #require(endpoint["judge"] as? [String: Any])),
                ("AuditEntry", try #require(try JSONSerialization.jsonObject(with: Wire.encoder().encode(entry)) as? [String: Any])),
            ]
            for (schema, object) in sent {
                let doc = try Self.schemaProperties(schema)
                #expect(Set(object.keys).isSubset(of: doc.properties), "\(schema): undocumented \(Set(object.keys).subtracting(doc.properties))")
                #expect(doc.required.isSubset(of: Set(object.keys)), "\(schema): required but absent \(doc.required.subtracting(object.keys))")
            }
            #expect(try Self.schemaProperties("AuditEntry").properties.isSuperset(of: ["sloBefore", "sloAfter", "baselineBefore", "baselineAfter", "judgeBefore", "judgeAfter"]))
            // What the PUT body reads (SpecBody, every field set) is what EndpointSpec documents.
            let body = SpecBody(name: "alpha", path: "/a", owner: "o", versions: [], reason: "r", override: true, baseline: "v1", slo: SLOSpecTests.slo,
                                judge: JudgeSpecRouterTests.judge, evaluation: EvaluationPolicy(require: [.init(metric: "auc", min: 0.9)]),
                                initialWeights: ["v1": 100])
            let keys = Set(try #require(try JSONSerialization.jsonObject(with: Wire.encoder().encode(body)) as? [String: Any]).keys)
            #expect(keys == (try Self.schemaProperties("EndpointSpec").properties))
        }
    }

    static let shiftOK = #"{"weights":{"v1":80,"v2":20},"reason":"canary"}"#
    /// alpha as seeded, replaced by a full spec: the same artifacts (they are immutable).
    static let alphaSpecOK = #"{"path":"/v1/models/alpha","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://models/alpha/1","digest":"\#(Harness.digest(1))"},"weight":100,"gate":"passed","stage":"prod"}]}"#
    static let evaluationOK = #"{"suite":"alpha-eval","metrics":{"auc":0.95}}"#
    static let specOK = #"{"path":"/v1/models/beta","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(9))"},"weight":100,"gate":"passed","stage":"prod"}]}"#

    /// A request that should produce `op.status`, on the harness's seeded fleet.
    static func request(for op: Operation, _ h: Harness) -> (uri: String, token: String?, ifMatch: String?, json: String?)? {
        let isChange = op.path.hasPrefix("/v1/endpoints/{name}/") && op.method == "POST"
        let action = op.path.split(separator: "/").last.map(String.init) ?? ""
        let roleToken: String = switch op.role {
        case "admin": h.admin; case "operator": h.op; case "gateway": h.gateway; case "deployer": h.deployer; default: h.viewer
        }
        var uri = op.path.replacingOccurrences(of: "{name}", with: "alpha").replacingOccurrences(of: "{version}", with: "v1")
        let isEvaluations = action == "evaluations"
        let okBody: String? = switch action {
        case "shift": shiftOK
        case "drain", "undrain": action == "drain" ? #"{"version":"v2","reason":"r"}"# : #"{"reason":"r"}"#
        case "rollback": #"{"reason":"r"}"#
        case "discovery:clusters", "discovery:routes": XDSTests.request()
        case "evaluations": op.method == "POST" ? evaluationOK : nil
        default: op.method == "PUT" ? specOK : nil
        }
        switch op.status {
        case 200, 201:
            if op.method == "PUT" {
                return op.status == 201 ? ("/v1/endpoints/beta", h.admin, nil, specOK)
                    : ("/v1/endpoints/alpha", h.admin, "\"1\"", alphaSpecOK)
            }
            if op.method == "DELETE" { return (uri + "?reason=retired", h.admin, "\"1\"", nil) }
            if isChange && action == "undrain" { return (uri, h.op, "\"1\"", #"{"reason":"r"}"#) } // needs a drained thing: see setUp
            if isChange && action == "rollback" { return (uri, h.op, "\"2\"", okBody) }
            return (uri, roleToken, isChange ? "\"1\"" : nil, okBody)
        case 400:
            if isEvaluations && op.method == "GET" { return (uri + "?limit=0", h.viewer, nil, nil) }
            if op.path == "/v1/watch" { return ("/v1/watch?timeout=99", h.viewer, nil, nil) }
            if op.path == "/v1/audit" { return ("/v1/audit?after=x", h.viewer, nil, nil) }
            if op.path.hasSuffix("/revisions") { return (uri + "?limit=0", h.viewer, nil, nil) }
            // DELETE reads no body: its 400 is a malformed If-Match (digits only, as the pattern says).
            if op.method == "DELETE" { return (uri + "?reason=r", h.admin, "\"+1\"", nil) }
            if op.method == "PUT" { return ("/v1/endpoints/beta", h.admin, nil, "{oops") }
            return (uri, roleToken, "\"1\"", "{oops")
        case 401:
            return (uri, nil, "\"1\"", okBody)
        case 403:
            // One rank too low: viewer for operator calls, gateway for reads; an operator for a
            // deployer's calls (a capability it lacks, though it ranks higher).
            let below = switch op.role { case "admin": h.op; case "operator": h.viewer; case "deployer": h.op; default: h.gateway }
            return (uri, below, "\"1\"", okBody)
        case 404:
            return (op.path.replacingOccurrences(of: "{name}", with: "ghost").replacingOccurrences(of: "{version}", with: "v1")
                    + (op.method == "DELETE" ? "?reason=r" : ""), roleToken, "\"1\"", okBody)
        case 409:
            switch action {
            case "shift": return ("/v1/endpoints/fraud/shift", h.op, "\"1\"", #"{"weights":{"v3":90,"v4":10},"reason":"r"}"#)
            case "drain": return ("/v1/endpoints/fraud/drain", h.op, "\"1\"", #"{"version":"v3","reason":"r"}"#)
            case "undrain": return (uri, h.op, "\"1\"", #"{"version":"v1","reason":"r"}"#)
            case "rollback": return (uri, h.op, "\"1\"", #"{"reason":"r"}"#)
            case "evaluations": return (uri, h.deployer, nil, evaluationOK) // alpha declares no evaluation policy
            default: return ("/v1/endpoints/beta", h.admin, nil, specOK.replacingOccurrences(of: "/v1/models/beta", with: "/v1/models/alpha"))
            }
        case 412:
            // An admin: a deployer's full spec, or its delete of a serving endpoint, is refused first.
            let changer = op.method == "PUT" || op.method == "DELETE" ? h.admin : roleToken
            return (uri + (op.method == "DELETE" ? "?reason=r" : ""), changer, "\"99\"", op.method == "PUT" ? specOK.replacingOccurrences(of: "beta", with: "alpha") : okBody)
        case 413:
            let big = #"{"reason":""# + String(repeating: "x", count: 1 << 20) + #""}"#
            uri = op.method == "PUT" ? "/v1/endpoints/beta" : uri
            return (uri, roleToken, "\"1\"", big)
        case 422:
            switch action {
            case "shift": return (uri, h.op, "\"1\"", #"{"weights":{"v1":80,"v2":10},"reason":"r"}"#)
            case "drain", "undrain": return (uri, h.op, "\"1\"", #"{"version":"v9","reason":"r"}"#)
            case "rollback": return (uri, h.op, "\"1\"", #"{"toRevision":0,"reason":"r"}"#)
            case "evaluations": return (uri.replacingOccurrences(of: "/v1/evaluations", with: "/v9/evaluations"), roleToken, nil, okBody)
            default:
                if op.method == "DELETE" { return (uri, h.admin, "\"1\"", nil) }
                return ("/v1/endpoints/be.ta", h.admin, nil, specOK)
            }
        case 428:
            return (uri + (op.method == "DELETE" ? "?reason=r" : ""), op.method == "PUT" ? h.admin : roleToken, nil, op.method == "PUT" ? specOK.replacingOccurrences(of: "beta", with: "alpha") : okBody)
        default:
            return nil
        }
    }

    @Test(arguments: try OpenAPIConformanceTests.operations())
    func everyDocumentedStatusIsProduced(_ op: Operation) async throws {
        if op.path.contains("/rollout") {
            try await Self.rolloutCase(op)
            return
        }
        if op.path == "/v1/promotions" || op.path.hasSuffix("/bundle") {
            try await PromotionTests.conformanceCase(op)
            return
        }
        try await Harness.run { h, c in
            if op.path == "/readyz" && op.status == 503 {
                try h.store.pool.close()
                #expect(try await c.call(.get, "/readyz", token: nil).status == 503)
                return
            }
            // 304 needs the version a first poll was given.
            if op.status == 304 {
                let first = try await c.call(.post, op.path, token: h.gateway, json: XDSTests.request())
                let version = try XDSTests.version(first)
                let again = try await c.call(.post, op.path, token: h.gateway, json: XDSTests.request(version: version))
                #expect(again.status == 304, "\(op): got \(again.status) \(again.text.prefix(300))")
                return
            }
            // Rollback needs history, undrain needs a drain.
            if op.path.hasSuffix("/rollback") && op.status == 200 {
                _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: Self.shiftOK)
            }
            if op.path.hasSuffix("/undrain") && op.status == 200 {
                _ = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"r"}"#)
            }
            // An evaluation decides a gate only under a policy.
            if op.path.hasSuffix("/evaluations") && op.method == "POST" && op.status == 201 {
                let policy = ApplyTests.alpha(extra: #""evaluation":{"require":[{"metric":"auc","min":0.9}]},"#)
                #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"1\"", json: policy).status == 200)
            }
            guard let r = Self.request(for: op, h) else {
                Issue.record("no way to produce \(op) is known to this test: document only what the server does")
                return
            }
            var ifMatch = r.ifMatch
            if op.path.hasSuffix("/undrain") && op.status == 200 { ifMatch = "\"2\"" }
            let reply = try await c.call(.init(rawValue: op.method)!, r.uri, token: r.token, ifMatch: ifMatch, json: r.json)
            #expect(reply.status == op.status, "\(op): got \(reply.status) \(reply.text.prefix(300))")
        }
    }

    /// The rollout calls: most statuses need a rollout running first.
    static func rolloutCase(_ op: Operation) async throws {
        try await Harness.run { h, c in
            let start = #"{"runbook":\#(RolloutTests.runbook()),"target":"v2","reason":"r"}"#
            let act = #"{"reason":"r"}"#
            let isAction = op.path.hasSuffix("{action}")
            let uri = op.path.replacingOccurrences(of: "{action}", with: "pause")
            let body: String? = op.method == "GET" ? nil : isAction ? act : start
            let reply: Reply
            switch op.status {
            case 200 where isAction, 409 where !isAction:
                #expect(try await c.call(.post, "/v1/endpoints/alpha/rollouts", token: h.op, json: start).status == 201)
                reply = try await c.call(.post, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: body)
            case 200, 201:
                reply = try await c.call(.init(rawValue: op.method)!, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: body)
            case 400:
                reply = try await c.call(.post, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: "{oops")
            case 401:
                reply = try await c.call(.init(rawValue: op.method)!, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: nil, json: body)
            case 403:
                let below = op.role == "operator" ? h.viewer : h.gateway
                reply = try await c.call(.init(rawValue: op.method)!, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: below, json: body)
            case 404:
                reply = try await c.call(.init(rawValue: op.method)!, uri.replacingOccurrences(of: "{name}", with: "ghost"), token: h.op, json: body)
            case 409:
                reply = try await c.call(.post, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: act)
            case 413:
                let big = #"{"reason":""# + String(repeating: "x", count: 1 << 20) + #""}"#
                reply = try await c.call(.post, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: big)
            case 422:
                let bad = isAction ? #"{"reason":" "}"# : #"{"runbook":\#(RolloutTests.runbook()),"target":"v9","reason":"r"}"#
                if isAction { #expect(try await c.call(.post, "/v1/endpoints/alpha/rollouts", token: h.op, json: start).status == 201) }
                reply = try await c.call(.post, uri.replacingOccurrences(of: "{name}", with: "alpha"), token: h.op, json: bad)
            default:
                Issue.record("no way to produce \(op) is known to this test")
                return
            }
            #expect(reply.status == op.status, "\(op): got \(reply.status) \(reply.text.prefix(300))")
        }
    }
}
