import Crypto
import Foundation
import TowerDomain

/// A realistic fleet for `tower demo` and the local stack: a dozen endpoints, two or three
/// versions each, one with a failed gate, one pending, and a canary in progress.
public enum DemoFleet {
    static func digest(_ s: String) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: Array(s.utf8)))
    }

    static func version(_ endpoint: String, _ v: String, _ weight: Int, gate: GateStatus = .passed, summary: String? = nil, stage: Stage = .prod) -> EndpointSpec.VersionSpec {
        .init(name: v, artifact: Artifact(uri: "s3://models/\(endpoint)/\(v)", digest: digest("\(endpoint)/\(v)")),
              weight: weight, gate: gate, gateSummary: summary, stage: stage)
    }

    /// The objectives `alpha` declares in the demo fleet and the stack's seed.
    public static let alphaSLO = SLO(availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: "30d")

    public static let specs: [EndpointSpec] = {
        func ep(_ name: String, _ owner: String, _ vs: [(String, Int, GateStatus, String?)]) -> EndpointSpec {
            EndpointSpec(name: name, path: "/v1/models/\(name)", owner: owner,
                         versions: vs.map { version(name, $0.0, $0.1, gate: $0.2, summary: $0.3, stage: $0.2 == .passed ? .prod : .staging) })
        }
        // alpha is the endpoint the runbooks use: it declares what the console judges it by.
        var alpha = ep("alpha", "team-vision", [("v1", 90, .passed, nil), ("v2", 10, .passed, nil)])
        alpha.baseline = "v1"
        alpha.slo = alphaSLO
        return [
            alpha,
            ep("asr-en", "team-speech", [("v11", 100, .passed, nil), ("v12", 0, .pending, "evaluation running: 412 of 2,000 clips")]),
            ep("doc-embed", "team-search", [("v7", 90, .passed, nil), ("v8", 10, .passed, nil)]),
            ep("fraud-score", "team-risk", [("v3", 100, .passed, nil), ("v4", 0, .failed, "AUC 0.871 < 0.900 baseline")]),
            ep("geo-match", "team-intel", [("v5", 50, .passed, nil), ("v6", 50, .passed, nil)]),
            ep("image-tag", "team-vision", [("v20", 95, .passed, nil), ("v21", 5, .passed, nil)]),
            ep("intent-cls", "team-lang", [("v2", 80, .passed, nil), ("v3", 20, .passed, nil), ("v4", 0, .pending, "awaiting red-team review")]),
            ep("ner-multi", "team-lang", [("v9", 100, .passed, nil), ("v10", 0, .passed, nil)]),
            ep("ocr-scan", "team-docs", [("v1", 60, .passed, nil), ("v2", 40, .passed, nil)]),
            ep("rerank", "team-search", [("v14", 100, .passed, nil), ("v15", 0, .failed, "nDCG@10 0.41 < 0.44")]),
            ep("summarize", "team-lang", [("v30", 75, .passed, nil), ("v31", 25, .passed, nil)]),
            ep("translate-ru", "team-lang", [("v2", 100, .passed, nil), ("v3", 0, .passed, nil)]),
        ]
    }()

    /// Creates the fleet in `store` and gives it some history: a canary step on one endpoint and a
    /// version draining on another, each with its reason, as an on-call shift would leave them.
    public static func seed(_ store: RegistryStore) async throws {
        try await Seed.apply(specs, to: store, source: "demo fleet")
        let oncall = Principal(name: "oncall-maria", role: .operator)
        if let e = store.endpoint("doc-embed"), e.revision == 1 {
            _ = try await store.change("doc-embed", expected: 1, principal: oncall, reason: "canary v8 to 30% after clean 10%", override: false) { _, _ in
                .shift(["v7": 70, "v8": 30])
            }
        }
        if let e = store.endpoint("ner-multi"), e.revision == 1 {
            _ = try await store.change("ner-multi", expected: 1, principal: oncall, reason: "v10 paused: p99 regression on long documents", override: false) { _, _ in
                .drainVersion("v10")
            }
        }
    }
}
