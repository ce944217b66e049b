import Foundation

/// What an admin declares about an endpoint (`PUT /v1/endpoints/{name}`, and the seed YAML):
/// its path, owner, versions, artifacts, gates, initial weights, baseline and SLO. Routing state (drains,
/// revisions) is the registry's and is not part of a spec.
public struct EndpointSpec: Codable, Sendable, Equatable {
    public struct VersionSpec: Codable, Sendable, Equatable {
        public var name: String
        public var artifact: Artifact
        public var weight: Int
        public var gate: GateStatus
        public var gateSummary: String?
        public var stage: Stage
        /// `host:port` of the version's model server (see `Version.upstream`).
        public var upstream: String?
        public init(name: String, artifact: Artifact, weight: Int, gate: GateStatus, gateSummary: String? = nil, stage: Stage,
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

    public init(name: String, path: String, owner: String, versions: [VersionSpec], reason: String? = nil, override: Bool? = nil,
                baseline: String? = nil, slo: SLO? = nil, judge: JudgeSpec? = nil) {
        self.name = name; self.path = path; self.owner = owner; self.versions = versions
        self.reason = reason; self.override = override; self.baseline = baseline; self.slo = slo; self.judge = judge
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
    /// were draining or drained stay so (a spec does not undrain), and the endpoint's state is kept.
    public func endpoint(replacing existing: Endpoint?, revision: Int64, at now: Date, by actor: String) throws(RoutingError) -> Endpoint {
        if let r = reason, r.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .invalid("reason is empty; say why the spec changes, or leave reason out")
        }
        if versions.count > 32 { throw .invalid("an endpoint has at most 32 versions, not \(versions.count)") }
        let vs = versions.map { s -> Version in
            let old = existing?.version(s.name)
            return Version(name: s.name, artifact: s.artifact, weight: s.weight,
                           state: old?.state ?? .serving, drainingSince: old?.drainingSince,
                           gate: s.gate, gateSummary: s.gateSummary, stage: s.stage, upstream: s.upstream,
                           // Where a version came from stays with it: a spec does not re-declare provenance.
                           promotedFrom: old?.artifact == s.artifact ? old?.promotedFrom : nil)
        }
        for v in vs where v.state != .serving && v.weight != 0 {
            throw .conflict("\(v.name) is \(v.state.rawValue); its weight in the spec must be 0 until it is undrained")
        }
        return try Endpoint(name: name, path: path, owner: owner, state: existing?.state ?? .serving,
                            revision: revision, versions: vs, updatedAt: now, updatedBy: actor, baseline: baseline, slo: slo, judge: judge)
    }
}
