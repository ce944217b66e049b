import Foundation
import Testing
@testable import TowerDomain

@Suite struct EvaluationTests {
    static let policy = EvaluationPolicy(require: [
        .init(metric: "auc", min: 0.90),
        .init(metric: "p99LatencyMs", max: 300),
        .init(metric: "auc", minVsBaseline: -0.005),
    ])

    static func doc(_ metrics: [String: Double], suite: String = "alpha-eval-2026-11") -> EvaluationDocument {
        EvaluationDocument(suite: suite, dataset: "sha256:" + String(repeating: "ab", count: 32), metrics: metrics)
    }

    @Test func passesWhenEveryRequirementHoldsAndNamesEachValue() {
        let (gate, summary) = Self.policy.evaluate(Self.doc(["auc": 0.93, "p99LatencyMs": 210]), baseline: Self.doc(["auc": 0.931]))
        #expect(gate == .passed)
        #expect(summary == "auc 0.930 >= 0.900; p99LatencyMs 210 <= 300; auc -0.001 vs baseline >= -0.005", "summary was: \(summary)")
    }

    @Test func failsNamingTheRequirementMissed() {
        let (gate, summary) = Self.policy.evaluate(Self.doc(["auc": 0.871, "p99LatencyMs": 310]), baseline: Self.doc(["auc": 0.88]))
        #expect(gate == .failed)
        #expect(summary.contains("auc 0.871 < 0.900"), "summary was: \(summary)")
        #expect(summary.contains("p99LatencyMs 310 > 300"), "summary was: \(summary)")
        #expect(summary.contains("auc -0.009 vs baseline < -0.005"), "summary was: \(summary)")
    }

    @Test func aMissingMetricFailsAndAMissingBaselineLeavesTheGatePending() {
        let missing = Self.policy.evaluate(Self.doc(["p99LatencyMs": 200]), baseline: Self.doc(["auc": 0.9]))
        #expect(missing.0 == .failed)
        #expect(missing.1.contains("auc missing from the evaluation"))

        let noBaseline = Self.policy.evaluate(Self.doc(["auc": 0.95, "p99LatencyMs": 200]), baseline: nil)
        #expect(noBaseline.0 == .pending, "the absolute requirements pass; the comparison cannot be made yet")
        #expect(noBaseline.1.contains("no baseline evaluation yet"))

        let failsAnyway = Self.policy.evaluate(Self.doc(["auc": 0.5, "p99LatencyMs": 200]), baseline: nil)
        #expect(failsAnyway.0 == .failed, "a requirement already missed fails whatever the baseline would say")

        let lacks = Self.policy.evaluate(Self.doc(["auc": 0.95, "p99LatencyMs": 200]), baseline: Self.doc(["f1": 0.9]))
        #expect(lacks.0 == .pending)
        #expect(lacks.1.contains("the baseline's evaluation lacks auc"))
    }

    @Test func boundsAreInclusiveAndCloseValuesGetMoreDecimals() {
        let p = EvaluationPolicy(require: [.init(metric: "auc", min: 0.9, max: 0.95), .init(metric: "cost", maxVsBaseline: 20)])
        let (gate, summary) = p.evaluate(Self.doc(["auc": 0.9, "cost": 120]), baseline: Self.doc(["cost": 100]))
        #expect(gate == .passed, "\(summary)")
        #expect(summary == "auc 0.900 >= 0.900; auc 0.900 <= 0.950; cost +20 vs baseline <= +20")
        let close = p.evaluate(Self.doc(["auc": 0.89996, "cost": 100]), baseline: Self.doc(["cost": 100]))
        #expect(close.0 == .failed)
        #expect(close.1.hasPrefix("auc 0.89996 < 0.90000"), "never \"0.900 < 0.900\": \(close.1)")
    }

    @Test(arguments: [
        (EvaluationPolicy(require: []), "evaluation.require is empty"),
        (EvaluationPolicy(require: [.init(metric: "auc")]), "evaluation.require[0] (auc) needs min, max"),
        (EvaluationPolicy(require: [.init(metric: "a uc", min: 1)]), "evaluation.require[0]: metric name 'a uc'"),
        (EvaluationPolicy(require: [.init(metric: "auc", min: 0.9), .init(metric: "auc", min: 0.95, max: 0.9)]), "evaluation.require[1] (auc): min 0.95 is above max 0.9"),
        (EvaluationPolicy(require: [.init(metric: "auc", minVsBaseline: .nan)]), "evaluation.require[0].minVsBaseline is nan"),
        (EvaluationPolicy(require: [.init(metric: "auc", minVsBaseline: 1, maxVsBaseline: -1)]), "minVsBaseline 1 is above maxVsBaseline -1"),
    ])
    func invalidPoliciesAreNamed(policy: EvaluationPolicy, expected: String) {
        #expect(policy.problem?.contains(expected) == true, "problem was: \(policy.problem ?? "none")")
    }

    @Test func documentsAreCheckedWhenDecoded() throws {
        let ok = try JSONDecoder().decode(EvaluationDocument.self, from: Data(#"{"suite":"s","metrics":{"auc":0.93,"n":1000}}"#.utf8))
        #expect(ok.metrics == ["auc": 0.93, "n": 1000])
        for (body, expected) in [
            (#"{"suite":"","metrics":{"auc":1}}"#, "suite is empty"),
            (#"{"suite":"s","metrics":{}}"#, "metrics is empty"),
            (#"{"suite":"s","metrics":{"a b":1}}"#, "metric name 'a b'"),
            (#"{"suite":"s\u202e","metrics":{"auc":1}}"#, "suite 's\\u{202E}' must be one line"),
            (#"{"suite":"s","dataset":"d\n","metrics":{"auc":1}}"#, "dataset 'd?' must be one line"),
        ] {
            #expect {
                try JSONDecoder().decode(EvaluationDocument.self, from: Data(body.utf8))
            } throws: { e in
                guard case DecodingError.dataCorrupted(let c) = e else { return false }
                return c.debugDescription.contains(expected)
            }
        }
        #expect(Self.doc(["auc": .infinity]).problem?.contains("metrics.auc is inf") == true)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(EvaluationDocument.self, from: Data(#"{"suite":"s","metrics":{"auc":1e999}}"#.utf8)) }
    }

    @Test func theHashIsOfTheCanonicalFormSoSpacingAndKeyOrderDoNotMatter() throws {
        let a = try JSONDecoder().decode(EvaluationDocument.self, from: Data(#"{"suite":"s","metrics":{"b":2.0,"a":0.5}}"#.utf8))
        let b = try JSONDecoder().decode(EvaluationDocument.self, from: Data("{ \"metrics\": {\"a\": 0.50, \"b\": 2},\n \"suite\": \"s\" }".utf8))
        #expect(a.canonical.text == #"{"metrics":{"a":0.5,"b":2},"suite":"s"}"#)
        #expect(a.sha256 == b.sha256)
        #expect(a.sha256.hasPrefix("sha256:") && a.sha256.utf8.count == 71)
        var c = a
        c.metrics["a"] = 0.5000001
        #expect(c.sha256 != a.sha256, "a different value is a different document")
        #expect(CanonicalJSON.number(1e-7).text == "1e-07" && CanonicalJSON.number(-0.0).text == "0" && CanonicalJSON.number(.nan).text == "null")
    }

    @Test func theSpecsPolicyTravelsWithTheEndpointAndIsValidated() throws {
        let spec = EndpointSpec(name: "alpha", path: "/v1/models/alpha", owner: "team-x",
                                versions: [.init(name: "v1", artifact: Artifact(uri: "s3://m/1", digest: "sha256:" + String(repeating: "0", count: 64)),
                                                 weight: 100, gate: .passed, stage: .prod)],
                                evaluation: Self.policy)
        let e = try spec.endpoint(replacing: nil, revision: 1, at: Date(timeIntervalSince1970: 0), by: "ci")
        #expect(e.evaluation == Self.policy)
        let round = try Wire.decoder().decode(Endpoint.self, from: try Wire.encoder().encode(e))
        #expect(round == e)
        var bad = spec
        bad.evaluation = EvaluationPolicy(require: [])
        #expect(throws: RoutingError.invalid("evaluation.require is empty; give at least one requirement, like {metric: auc, min: 0.9}, or leave evaluation out")) {
            try bad.endpoint(replacing: nil, revision: 1, at: Date(timeIntervalSince1970: 0), by: "ci")
        }
    }
}
