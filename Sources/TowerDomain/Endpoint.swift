import Foundation

public enum EndpointState: String, Codable, Sendable, Equatable {
    case serving
    case outOfService = "out-of-service"
}

public enum VersionState: String, Codable, Sendable, Equatable {
    case serving, draining, drained
}

public enum GateStatus: String, Codable, Sendable, Equatable {
    case passed, failed, pending
}

public enum Stage: String, Codable, Sendable, Equatable {
    case dev, staging, prod
}

public struct Artifact: Codable, Sendable, Equatable {
    public var uri: String
    /// `sha256:` followed by 64 lower-case hex digits.
    public var digest: String
    public init(uri: String, digest: String) { self.uri = uri; self.digest = digest }
}

public struct Version: Codable, Sendable, Equatable {
    public var name: String
    public var artifact: Artifact
    /// Whole percent of the endpoint's traffic; 0 for draining and drained versions.
    public var weight: Int
    public var state: VersionState
    /// When the current drain started; `draining` turns into `drained` once the drain timeout passes.
    public var drainingSince: Date?
    public var gate: GateStatus
    /// The evaluation's summary, e.g. "accuracy 0.912 < 0.930 baseline".
    public var gateSummary: String?
    public var stage: Stage
    /// `host:port` where this version's model server listens; the gateway's cluster for the version
    /// points there. Nil until one is declared: the gateway then answers 503 for its share.
    public var upstream: String?
    /// Provenance: who applied the spec that added this version (or last changed its spec).
    public var appliedBy: String?
    /// Provenance: the latest evaluation submitted for this version, which set its gate.
    public var latestEvaluation: EvaluationStamp?
    /// Set when the version was imported from a signed promotion bundle; nil for one declared here.
    public var promotedFrom: VersionPromotion?

    public init(name: String, artifact: Artifact, weight: Int, state: VersionState = .serving,
                drainingSince: Date? = nil, gate: GateStatus, gateSummary: String? = nil, stage: Stage,
                upstream: String? = nil, appliedBy: String? = nil, latestEvaluation: EvaluationStamp? = nil,
                promotedFrom: VersionPromotion? = nil) {
        self.name = name; self.artifact = artifact; self.weight = weight; self.state = state
        self.drainingSince = drainingSince; self.gate = gate; self.gateSummary = gateSummary; self.stage = stage
        self.upstream = upstream; self.appliedBy = appliedBy; self.latestEvaluation = latestEvaluation
        self.promotedFrom = promotedFrom
    }
}

/// A model endpoint and its routing state. Decoding and `validated()` check DESIGN §3's invariants,
/// so an `Endpoint` that exists is one the gateway can be programmed with.
public struct Endpoint: Codable, Sendable, Equatable {
    public var name: String
    public var path: String
    public var owner: String
    public var state: EndpointState
    public var revision: Int64
    public var versions: [Version]
    public var updatedAt: Date
    public var updatedBy: String
    /// The version others are judged against, when the spec names one (else the one with the most
    /// weight). Spec, not routing: only a `PUT` by an admin changes it.
    public var baseline: String?
    /// The endpoint's objectives, when it has any. Spec, not routing, like `baseline`.
    public var slo: SLO?
    /// How strictly its canaries are judged, when the spec says (else the defaults). Spec, not routing.
    public var judge: JudgeSpec?
    /// What a version's evaluation must show for its gate to pass (DESIGN §13). Spec, not routing.
    public var evaluation: EvaluationPolicy?

    public init(name: String, path: String, owner: String, state: EndpointState = .serving, revision: Int64,
                versions: [Version], updatedAt: Date, updatedBy: String, baseline: String? = nil, slo: SLO? = nil,
                judge: JudgeSpec? = nil, evaluation: EvaluationPolicy? = nil) throws(RoutingError) {
        self.name = name; self.path = path; self.owner = owner; self.state = state; self.revision = revision
        self.versions = versions; self.updatedAt = updatedAt; self.updatedBy = updatedBy
        self.baseline = baseline; self.slo = slo; self.judge = judge; self.evaluation = evaluation
        try validate()
    }

    enum CodingKeys: String, CodingKey { case name, path, owner, state, revision, versions, updatedAt, updatedBy, baseline, slo, judge, evaluation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        path = try c.decode(String.self, forKey: .path)
        owner = try c.decode(String.self, forKey: .owner)
        state = try c.decode(EndpointState.self, forKey: .state)
        revision = try c.decode(Int64.self, forKey: .revision)
        versions = try c.decode([Version].self, forKey: .versions)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
        updatedBy = try c.decode(String.self, forKey: .updatedBy)
        baseline = try c.decodeIfPresent(String.self, forKey: .baseline)
        slo = try c.decodeIfPresent(SLO.self, forKey: .slo)
        judge = try c.decodeIfPresent(JudgeSpec.self, forKey: .judge)
        evaluation = try c.decodeIfPresent(EvaluationPolicy.self, forKey: .evaluation)
        do { try validate() } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.detail))
        }
    }

    public func version(_ name: String) -> Version? { versions.first { $0.name == name } }

    /// Every version's weight, by name (draining and drained ones carry 0).
    public var weights: [String: Int] {
        Dictionary(uniqueKeysWithValues: versions.map { ($0.name, $0.weight) })
    }

    public var servingVersions: [Version] { versions.filter { $0.state == .serving } }

    /// DESIGN §3's invariants. Gates are checked where weight moves (`RoutingChange`), since an
    /// admin's audited override may legitimately leave weight on a version whose gate failed.
    public func validate() throws(RoutingError) {
        if let p = Names.problem(with: name, kind: "endpoint") { throw .invalid(p) }
        if let p = EndpointSpec.pathProblem(path) { throw .invalid(p) }
        if owner.trimmingCharacters(in: .whitespaces).isEmpty { throw .invalid("owner is empty") }
        // Owners and gate summaries are drawn on operators' screens next to the audit's reasons.
        if Names.hasUnsafeCharacters(owner) {
            throw .invalid("owner '\(Names.printable(owner))' must be one line without control characters, line separators or bidirectional overrides")
        }
        if revision < 1 { throw .invalid("revision \(revision) is not positive") }
        if versions.isEmpty { throw .invalid("endpoint '\(name)' has no versions") }
        var seen = Set<String>()
        for v in versions {
            if let p = Names.problem(with: v.name, kind: "version") { throw .invalid(p) }
            if !seen.insert(v.name).inserted { throw .invalid("version '\(v.name)' appears twice") }
            if let p = EndpointSpec.artifactProblem(v.artifact, version: v.name) { throw .invalid(p) }
            if let g = v.gateSummary, Names.hasUnsafeCharacters(g) {
                throw .invalid("gateSummary of \(v.name) must be one line without control characters, line separators or bidirectional overrides")
            }
            if let u = v.upstream, case .failure(let e) = Upstream.parse(u, version: v.name) { throw e }
            if let a = v.appliedBy, Names.hasUnsafeCharacters(a) {
                throw .invalid("appliedBy of \(v.name) must be one line without control characters, line separators or bidirectional overrides")
            }
            if let p = v.promotedFrom, [p.registry, p.signer, p.bundle, p.importedBy].contains(where: { $0.isEmpty || Names.hasUnsafeCharacters($0) }) {
                throw .invalid("promotedFrom of \(v.name) must name its registry, signer, bundle and importer on one line each")
            }
            if v.weight < 0 || v.weight > 100 {
                throw .invalid("weight of \(v.name) is \(v.weight); a weight is a whole percent from 0 to 100")
            }
            if v.state != .serving && v.weight != 0 {
                throw .invalid("\(v.name) is \(v.state.rawValue) and must carry weight 0, not \(v.weight)")
            }
        }
        let total = servingVersions.reduce(0) { $0 + $1.weight }
        if total != 100 && state == .serving {
            throw .invalid("the weights of serving versions add up to \(total); they must add up to 100")
        }
        if let b = baseline, version(b) == nil {
            throw .invalid("baseline '\(Names.printable(b))' is not a version of '\(name)'; it has \(versions.map(\.name).joined(separator: ", "))")
        }
        if let p = slo?.problem { throw .invalid(p) }
        if let p = judge?.problem { throw .invalid(p) }
        if let p = evaluation?.problem { throw .invalid(p) }
    }

    /// Draining versions whose drain timeout has passed are drained: no new requests went to them
    /// since the drain began, so in-flight ones have had their time. Resolved on read rather than by a
    /// background writer because it changes no routing, and so no revision.
    public func resolvingDrains(now: Date, timeout: TimeInterval) -> Endpoint {
        var copy = self
        for i in copy.versions.indices where copy.versions[i].state == .draining {
            if let since = copy.versions[i].drainingSince, now.timeIntervalSince(since) >= timeout {
                copy.versions[i].state = .drained
            }
        }
        return copy
    }

    /// The earliest moment at which `resolvingDrains` would change this endpoint, if any.
    public func nextDrainDeadline(timeout: TimeInterval) -> Date? {
        versions.compactMap { $0.state == .draining ? $0.drainingSince?.addingTimeInterval(timeout) : nil }.min()
    }
}
