import Foundation

/// What is declared about an endpoint (`PUT /v1/endpoints/{name}`, the seed YAML and `tower apply`
/// files): its path, owner, versions, artifacts, baseline, SLO, judge settings and evaluation
/// policy. Two shapes (DESIGN §13):
/// - a *declarative* spec gives no version a `weight` or `gate`: it touches only spec, and the
///   registry keeps every existing version's weight, drain and gate (`tower apply`, deployers);
/// - a *full* spec gives every version both (an admin's `PUT`, the seed, `tower demo`).
/// Routing state (drains, revisions) is the registry's and is never part of a spec.
public struct EndpointSpec: Codable, Sendable, Equatable {
    public struct VersionSpec: Codable, Sendable, Equatable {
        public var name: String
        public var artifact: Artifact
        /// State, not spec: only a full spec gives it.
        public var weight: Int?
        /// State, not spec: only a full spec gives it (and changing it by hand is an admin override).
        public var gate: GateStatus?
        public var gateSummary: String?
        public var stage: Stage
        /// `host:port` of the version's model server (see `Version.upstream`).
        public var upstream: String?
        public init(name: String, artifact: Artifact, weight: Int? = nil, gate: GateStatus? = nil, gateSummary: String? = nil, stage: Stage,
                    upstream: String? = nil) {
            self.name = name; self.artifact = artifact; self.weight = weight; self.gate = gate
            self.gateSummary = gateSummary; self.stage = stage; self.upstream = upstream
        }
    }

    public var name: String
    public var path: String
    public var owner: String
    public var versions: [VersionSpec]
    /// Why the spec changes; recorded in the audit. Optional for specs (a seed has none).
    public var reason: String?
    /// An admin's explicit decision to give weight to a version whose gate has not passed.
    public var override: Bool?
    /// The version the others are judged against; must be one of `versions`. A spec without it
    /// clears it (a spec is the whole declaration).
    public var baseline: String?
    public var slo: SLO?
    /// How strictly the canaries are judged; absent fields (or no `judge`) take the defaults.
    public var judge: JudgeSpec?
    /// What a version's evaluation must show for its gate to pass (DESIGN §13).
    public var evaluation: EvaluationPolicy?
    /// The weights a declarative spec gives an endpoint it creates (`tower apply --initial-weights
    /// v1=100`); without them a new endpoint starts out of service. Ignored once the endpoint exists:
    /// from then on only operators and rollouts move traffic.
    public var initialWeights: [String: Int]?

    public init(name: String, path: String, owner: String, versions: [VersionSpec], reason: String? = nil, override: Bool? = nil,
                baseline: String? = nil, slo: SLO? = nil, judge: JudgeSpec? = nil, evaluation: EvaluationPolicy? = nil,
                initialWeights: [String: Int]? = nil) {
        self.name = name; self.path = path; self.owner = owner; self.versions = versions
        self.reason = reason; self.override = override; self.baseline = baseline; self.slo = slo; self.judge = judge
        self.evaluation = evaluation; self.initialWeights = initialWeights
    }

    /// True when no version carries state (weight, gate or its summary): the spec `tower apply` sends.
    public var isDeclarative: Bool {
        versions.allSatisfy { $0.weight == nil && $0.gate == nil && $0.gateSummary == nil }
    }

    static func pathProblem(_ path: String) -> String? {
        if !path.hasPrefix("/") { return "path '\(Names.printable(path))' must start with '/'" }
        if path.utf8.count > 256 { return "path is longer than 256 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.".utf8)
        if path.utf8.contains(where: { !allowed.contains($0) }) {
            return "path '\(Names.printable(path))' may hold only letters, digits and / - _ ."
        }
        if path.contains("//") || path.contains("/../") || path.hasSuffix("/..") {
            return "path '\(path)' must not contain '//' or '..' segments"
        }
        return nil
    }

    static func artifactProblem(_ a: Artifact, version: String) -> String? {
        if a.uri.isEmpty || a.uri.utf8.count > 1024 || a.uri.contains(where: { $0.isWhitespace }) {
            return "artifact uri of \(version) must be 1 to 1024 characters without spaces"
        }
        let d = a.digest
        let hex = Set("0123456789abcdef".utf8)
        if !d.hasPrefix("sha256:") || d.utf8.count != 71 || !d.utf8.dropFirst(7).allSatisfy({ hex.contains($0) }) {
            return "artifact digest of \(version) must be 'sha256:' and 64 lower-case hex digits, not '\(Names.printable(d, limit: 80))'"
        }
        return nil
    }

    /// Builds the endpoint this spec declares. When it replaces an existing endpoint, versions that
    /// were draining or drained stay so (a spec does not undrain), the endpoint's state is kept, and
    /// an existing version's artifact may not change (artifacts are immutable: add a version).
    /// A declarative spec keeps every existing version's weight, drain and gate; a version it adds
    /// enters at weight 0 with the gate `evaluated` gives it (pending when nothing was submitted);
    /// a version it leaves out is removed only if it carries no traffic. `actor` is recorded as
    /// `appliedBy` on the versions this spec adds or changes.
    public func endpoint(replacing existing: Endpoint?, revision: Int64, at now: Date, by actor: String,
                         evaluated: (String) -> (gate: GateStatus, summary: String, stamp: EvaluationStamp)? = { _ in nil }) throws(RoutingError) -> Endpoint {
        if let r = reason, r.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .invalid("reason is empty; say why the spec changes, or leave reason out")
        }
        if versions.count > 32 { throw .invalid("an endpoint has at most 32 versions, not \(versions.count)") }
        let declarative = isDeclarative
        if !declarative {
            for s in versions where s.weight == nil || s.gate == nil {
                throw .invalid("\(Names.printable(s.name)) has no \(s.weight == nil ? "weight" : "gate"); give every version a weight and a gate (a full spec, admin only) or none (a declarative spec)")
            }
            if initialWeights != nil {
                throw .invalid("initialWeights is for declarative specs; a full spec gives each version its weight")
            }
        }
        if let old = existing {
            for s in versions {
                if let v = old.version(s.name), v.artifact != s.artifact {
                    throw .conflict("\(s.name)'s artifact is \(v.artifact.uri) (\(v.artifact.digest)); artifacts are immutable, so add a version (like \(Self.nextName(after: old))) instead of changing \(s.name)")
                }
            }
        }
        func carried(_ s: VersionSpec, _ old: Version?) -> (String?, EvaluationStamp?) {
            guard let old else { return (actor, nil) }
            let same = old.stage == s.stage && old.upstream == s.upstream
            return (same ? old.appliedBy : actor, old.latestEvaluation)
        }
        var vs: [Version] = []
        var state = existing?.state ?? .serving
        if declarative {
            if let old = existing {
                let kept = Set(versions.map(\.name))
                for v in old.versions where !kept.contains(v.name) && v.weight > 0 {
                    throw .conflict("\(v.name) carries \(v.weight)% of '\(name)'s traffic, so it cannot be left out of the spec; an operator shifts its traffic away or drains it first")
                }
            }
            let initial = existing == nil ? initialWeights : nil
            if let initial {
                for v in initial.keys.sorted() where !versions.contains(where: { $0.name == v }) {
                    throw .invalid("initialWeights names \(Names.printable(v)), which is not a version of the spec")
                }
                let total = initial.values.reduce(0, +)
                if total != 100 { throw .invalid("initialWeights add up to \(total); they must add up to 100") }
            } else if existing == nil {
                // Nothing routes to it until an operator shifts traffic onto it (DESIGN §13).
                state = .outOfService
            }
            for s in versions {
                let old = existing?.version(s.name)
                let (appliedBy, stamp) = carried(s, old)
                if let old {
                    vs.append(Version(name: s.name, artifact: s.artifact, weight: old.weight, state: old.state, drainingSince: old.drainingSince,
                                      gate: old.gate, gateSummary: old.gateSummary, stage: s.stage, upstream: s.upstream,
                                      appliedBy: appliedBy, latestEvaluation: stamp, promotedFrom: old.promotedFrom))
                } else {
                    let e = evaluated(s.name)
                    vs.append(Version(name: s.name, artifact: s.artifact, weight: initial?[s.name] ?? 0, gate: e?.gate ?? .pending,
                                      gateSummary: e?.summary ?? "no evaluation submitted yet", stage: s.stage, upstream: s.upstream,
                                      appliedBy: appliedBy, latestEvaluation: e?.stamp))
                }
            }
        } else {
            for s in versions {
                let old = existing?.version(s.name)
                let (appliedBy, stamp) = carried(s, old)
                vs.append(Version(name: s.name, artifact: s.artifact, weight: s.weight ?? 0,
                                  state: old?.state ?? .serving, drainingSince: old?.drainingSince,
                                  gate: s.gate ?? .pending, gateSummary: s.gateSummary, stage: s.stage, upstream: s.upstream,
                                  appliedBy: appliedBy, latestEvaluation: stamp,
                                  // Where a version came from stays with it: a spec does not re-declare provenance.
                                  promotedFrom: old?.artifact == s.artifact ? old?.promotedFrom : nil))
            }
            for v in vs where v.state != .serving && v.weight != 0 {
                throw .conflict("\(v.name) is \(v.state.rawValue); its weight in the spec must be 0 until it is undrained")
            }
        }
        return try Endpoint(name: name, path: path, owner: owner, state: state,
                            revision: revision, versions: vs, updatedAt: now, updatedBy: actor, baseline: baseline, slo: slo, judge: judge,
                            evaluation: evaluation)
    }

    /// A version name that does not exist yet, for the hint in the immutability refusal: `v7` after `v6`.
    static func nextName(after e: Endpoint) -> String {
        let numbers = e.versions.compactMap { v -> Int? in v.name.hasPrefix("v") ? Int(v.name.dropFirst()) : nil }
        return "v\((numbers.max() ?? 0) + 1)"
    }
}

extension Endpoint {
    /// What a declarative spec of this endpoint says: everything `tower apply` manages and nothing
    /// that people and rollouts change. `tower export` writes it; `tower diff` compares files with it.
    public var declaredSpec: EndpointSpec {
        EndpointSpec(name: name, path: path, owner: owner,
                     versions: versions.map { .init(name: $0.name, artifact: $0.artifact, stage: $0.stage, upstream: $0.upstream) },
                     baseline: baseline, slo: slo, judge: judge, evaluation: evaluation)
    }

    /// Whether `other` differs from this endpoint only in its bookkeeping (revision, time, actor):
    /// then applying it would change nothing, and makes no revision.
    public func sameState(as other: Endpoint) -> Bool {
        var o = other
        o.revision = revision; o.updatedAt = updatedAt; o.updatedBy = updatedBy
        return o == self
    }
}
