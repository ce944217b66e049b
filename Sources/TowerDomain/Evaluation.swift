import Crypto
import Foundation

/// The results of one evaluation run of a version (DESIGN §13), as a pipeline submits them:
/// `{"suite": "alpha-eval-2026-11", "dataset": "sha256:…", "metrics": {"auc": 0.93}}`.
/// Decoding checks it (`problem`), so a document that exists is one a policy can be applied to
/// and whose hash is defined.
public struct EvaluationDocument: Codable, Sendable, Equatable {
    /// Which evaluation suite produced the metrics; shown on the Endpoint screen as provenance.
    public var suite: String
    /// What it was evaluated on (a digest or a name), when the pipeline says.
    public var dataset: String?
    public var metrics: [String: Double]

    public static let maxMetrics = 100

    public init(suite: String, dataset: String? = nil, metrics: [String: Double]) {
        self.suite = suite; self.dataset = dataset; self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey { case suite, dataset, metrics }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        suite = try c.decode(String.self, forKey: .suite)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
        if let p = problem { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: p)) }
    }

    /// What is wrong with the document, in a sentence naming the field, or nil.
    public var problem: String? {
        if let p = Self.textProblem(suite, field: "suite", limit: 128) { return p }
        if let d = dataset, let p = Self.textProblem(d, field: "dataset", limit: 256) { return p }
        if metrics.isEmpty { return "metrics is empty; an evaluation reports at least one metric, like {\"auc\": 0.93}" }
        if metrics.count > Self.maxMetrics { return "metrics has \(metrics.count) entries; the limit is \(Self.maxMetrics)" }
        for (name, value) in metrics.sorted(by: { $0.key < $1.key }) {
            if let p = EvaluationPolicy.metricNameProblem(name) { return p }
            if !value.isFinite { return "metrics.\(name) is \(value); a metric must be a finite number" }
        }
        return nil
    }

    static func textProblem(_ s: String, field: String, limit: Int) -> String? {
        // A printable ASCII first character is not whitespace: most texts need no Foundation trim.
        if !(s.utf8.first.map { $0 > 0x20 && $0 < 0x7F } ?? false), s.trimmingCharacters(in: .whitespaces).isEmpty { return "\(field) is empty" }
        if s.unicodeScalars.count > limit { return "\(field) is longer than \(limit) characters" }
        // Suites and datasets are drawn on operators' screens, like owners and reasons.
        if Names.hasUnsafeCharacters(s) {
            return "\(field) '\(Names.printable(s, limit: 40))' must be one line without control characters, line separators or bidirectional overrides"
        }
        return nil
    }

    /// The document as the one canonical writer spells it (`CanonicalJSON`, as the audit chain
    /// does): what `sha256` hashes, and what a promotion bundle signs.
    public var canonical: CanonicalJSON {
        var fields: [String: CanonicalJSON] = [
            "suite": .string(suite),
            "metrics": .object(metrics.mapValues { .number($0) }),
        ]
        if let dataset { fields["dataset"] = .string(dataset) }
        return .object(fields)
    }

    /// `sha256:` and the hex SHA-256 of `canonical`: the same document always hashes alike, however
    /// its JSON was spaced or its keys ordered.
    public var sha256: String {
        "sha256:" + Hex.encode(SHA256.hash(data: canonical.bytes))
    }
}

/// A stored evaluation: the document, its hash, and who submitted it when.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var endpoint: String
    public var version: String
    /// The artifact evaluated: evidence about one artifact says nothing about another that later
    /// takes the same version name (after a delete and re-create).
    public var artifactDigest: String
    public var document: EvaluationDocument
    public var sha256: String
    public var submittedBy: String
    public var submittedAt: Date
    /// The gate the policy gave the version with this document, and why.
    public var gate: GateStatus
    public var gateSummary: String

    public init(endpoint: String, version: String, artifactDigest: String, document: EvaluationDocument, submittedBy: String,
                submittedAt: Date, gate: GateStatus, gateSummary: String) {
        self.endpoint = endpoint; self.version = version; self.artifactDigest = artifactDigest
        self.document = document; self.sha256 = document.sha256
        self.submittedBy = submittedBy; self.submittedAt = submittedAt; self.gate = gate; self.gateSummary = gateSummary
    }
}

/// What `POST …/evaluations` answers: the stored record and the endpoint with the gate it set.
public struct EvaluationResult: Codable, Sendable, Equatable {
    public var evaluation: EvaluationRecord
    public var endpoint: Endpoint
    public init(evaluation: EvaluationRecord, endpoint: Endpoint) { self.evaluation = evaluation; self.endpoint = endpoint }
}

/// A version's evaluations, newest first (`GET …/evaluations`).
public struct EvaluationList: Codable, Sendable, Equatable {
    public var endpoint: String
    public var version: String
    public var evaluations: [EvaluationRecord]
    public init(endpoint: String, version: String, evaluations: [EvaluationRecord]) {
        self.endpoint = endpoint; self.version = version; self.evaluations = evaluations
    }
}

/// The latest evaluation of a version, kept on the version for the Endpoint screen's provenance.
public struct EvaluationStamp: Codable, Sendable, Equatable {
    public var suite: String
    public var sha256: String
    public var submittedBy: String
    public var submittedAt: Date
    public init(suite: String, sha256: String, submittedBy: String, submittedAt: Date) {
        self.suite = suite; self.sha256 = sha256; self.submittedBy = submittedBy; self.submittedAt = submittedAt
    }

    public init(_ r: EvaluationRecord) {
        self.init(suite: r.document.suite, sha256: r.sha256, submittedBy: r.submittedBy, submittedAt: r.submittedAt)
    }
}

/// An endpoint's evaluation policy (spec, DESIGN §13): the requirements a version's evaluation
/// must meet for its gate to pass, e.g.
/// `{require: [{metric: auc, min: 0.90}, {metric: p99LatencyMs, max: 300}, {metric: auc, minVsBaseline: -0.005}]}`.
public struct EvaluationPolicy: Codable, Sendable, Equatable {
    public struct Requirement: Codable, Sendable, Equatable {
        public var metric: String
        public var min: Double?
        public var max: Double?
        /// The least `value − baseline's value` allowed (−0.005: at most 0.005 worse than the baseline).
        public var minVsBaseline: Double?
        /// The most `value − baseline's value` allowed (20: at most 20 above the baseline).
        public var maxVsBaseline: Double?

        public init(metric: String, min: Double? = nil, max: Double? = nil, minVsBaseline: Double? = nil, maxVsBaseline: Double? = nil) {
            self.metric = metric; self.min = min; self.max = max; self.minVsBaseline = minVsBaseline; self.maxVsBaseline = maxVsBaseline
        }

        var usesBaseline: Bool { minVsBaseline != nil || maxVsBaseline != nil }
    }

    public var require: [Requirement]

    public static let maxRequirements = 50

    public init(require: [Requirement]) { self.require = require }

    enum CodingKeys: String, CodingKey { case require }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        require = try c.decode([Requirement].self, forKey: .require)
        if let p = problem { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: p)) }
    }

    /// Whether any requirement compares against the baseline version's evaluation.
    public var usesBaseline: Bool { require.contains { $0.usesBaseline } }

    /// What is wrong with the policy, in a sentence naming the requirement, or nil.
    public var problem: String? {
        if require.isEmpty { return "evaluation.require is empty; give at least one requirement, like {metric: auc, min: 0.9}, or leave evaluation out" }
        if require.count > Self.maxRequirements { return "evaluation.require has \(require.count) requirements; the limit is \(Self.maxRequirements)" }
        for (i, r) in require.enumerated() {
            let key = "evaluation.require[\(i)]"
            if let p = Self.metricNameProblem(r.metric) { return "\(key): \(p)" }
            let bounds = [("min", r.min), ("max", r.max), ("minVsBaseline", r.minVsBaseline), ("maxVsBaseline", r.maxVsBaseline)]
            if bounds.allSatisfy({ $0.1 == nil }) {
                return "\(key) (\(r.metric)) needs min, max, minVsBaseline or maxVsBaseline"
            }
            for case let (name, value?) in bounds where !value.isFinite {
                return "\(key).\(name) is \(value); it must be a finite number"
            }
            if let lo = r.min, let hi = r.max, lo > hi {
                return "\(key) (\(r.metric)): min \(Self.number(lo)) is above max \(Self.number(hi)), so no value passes"
            }
            if let lo = r.minVsBaseline, let hi = r.maxVsBaseline, lo > hi {
                return "\(key) (\(r.metric)): minVsBaseline \(Self.number(lo)) is above maxVsBaseline \(Self.number(hi)), so no value passes"
            }
        }
        return nil
    }

    /// Metric names appear in summaries on operators' screens and in YAML keys: `[A-Za-z0-9_.-]{1,64}`.
    static func metricNameProblem(_ name: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-".utf8)
        if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy({ allowed.contains($0) }) {
            return "metric name '\(Names.printable(name, limit: 40))' must be 1 to 64 letters, digits, '_', '.' or '-'"
        }
        return nil
    }

    /// The gate this policy gives a version with evaluation `document`, and a summary naming each
    /// requirement and value ("auc 0.871 < 0.900; p99LatencyMs 210 <= 300"). Failed when any
    /// requirement is missed or its metric is missing from the document; pending when the rest pass
    /// but a baseline comparison cannot be made (no baseline evaluation, or it lacks the metric):
    /// evidence that is not there yet is not a failure, and not a pass either.
    public func evaluate(_ document: EvaluationDocument, baseline: EvaluationDocument?) -> (GateStatus, String) {
        var failed = false, undecided = false
        var parts: [String] = []
        for r in require {
            guard let value = document.metrics[r.metric] else {
                failed = true
                parts.append("\(r.metric) missing from the evaluation")
                continue
            }
            if let lo = r.min {
                let ok = value >= lo
                failed = failed || !ok
                parts.append("\(r.metric) \(Self.pair(value, ok ? ">=" : "<", lo))")
            }
            if let hi = r.max {
                let ok = value <= hi
                failed = failed || !ok
                parts.append("\(r.metric) \(Self.pair(value, ok ? "<=" : ">", hi))")
            }
            if r.usesBaseline {
                guard let b = baseline?.metrics[r.metric] else {
                    undecided = true
                    parts.append(baseline == nil ? "\(r.metric) vs baseline: no baseline evaluation yet"
                                                 : "\(r.metric) vs baseline: the baseline's evaluation lacks \(r.metric)")
                    continue
                }
                let delta = value - b
                if let lo = r.minVsBaseline {
                    let ok = delta >= lo
                    failed = failed || !ok
                    parts.append("\(r.metric) \(Self.signed(delta, like: lo)) vs baseline \(ok ? ">=" : "<") \(Self.signed(lo, like: delta))")
                }
                if let hi = r.maxVsBaseline {
                    let ok = delta <= hi
                    failed = failed || !ok
                    parts.append("\(r.metric) \(Self.signed(delta, like: hi)) vs baseline \(ok ? "<=" : ">") \(Self.signed(hi, like: delta))")
                }
            }
        }
        let status: GateStatus = failed ? .failed : undecided ? .pending : .passed
        var summary = parts.joined(separator: "; ")
        if summary.count > 1000 { summary = String(summary.prefix(999)) + "…" }
        return (status, summary)
    }

    /// `0.871 < 0.900`: both sides with the same number of decimals, as few as show them apart
    /// (at least three for fractions, none for whole numbers).
    static func pair(_ a: Double, _ op: String, _ b: Double) -> String {
        let d = decimals(a, b)
        return "\(fixed(a, d)) \(op) \(fixed(b, d))"
    }

    static func signed(_ x: Double, like other: Double) -> String {
        let s = fixed(x, decimals(x, other))
        return x >= 0 ? "+" + s : s
    }

    static func decimals(_ a: Double, _ b: Double) -> Int {
        if a == a.rounded() && b == b.rounded() && abs(a) < 1e15 && abs(b) < 1e15 { return 0 }
        var d = 3
        while d < 9 && a != b && fixed(a, d) == fixed(b, d) { d += 1 }
        return d
    }

    static func fixed(_ x: Double, _ decimals: Int) -> String {
        if decimals == 0 { return String(Int64(x)) }
        return String(format: "%.\(decimals)f", x)
    }

    static func number(_ x: Double) -> String { SLO.number(x) }
}
