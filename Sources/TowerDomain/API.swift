import Foundation

/// Request and response bodies of the registry API (DESIGN §4), shared by server and clients.

public struct ShiftRequest: Codable, Sendable, Equatable {
    public var weights: [String: Int]
    public var reason: String
    public var override: Bool?
    public init(weights: [String: Int], reason: String, override: Bool? = nil) {
        self.weights = weights; self.reason = reason; self.override = override
    }
}

/// Drain and undrain: without `version`, the whole endpoint.
public struct DrainRequest: Codable, Sendable, Equatable {
    public var version: String?
    public var reason: String
    public init(version: String? = nil, reason: String) { self.version = version; self.reason = reason }
}

/// Without `toRevision`, the revision before the current one.
public struct RollbackRequest: Codable, Sendable, Equatable {
    public var toRevision: Int64?
    public var reason: String
    public var override: Bool?
    public init(toRevision: Int64? = nil, reason: String, override: Bool? = nil) {
        self.toRevision = toRevision; self.reason = reason; self.override = override
    }
}

public struct EndpointList: Codable, Sendable, Equatable {
    public var endpoints: [Endpoint]
    /// The audit sequence number this list reflects: watch with `after=auditSeq` to hear of what
    /// changes next without missing anything.
    public var auditSeq: Int64
    /// The registry's drain timeout: a client resolves `draining` → `drained` on its own clock with
    /// it (`Endpoint.resolvingDrains`), since that change makes no revision and so no watch event.
    /// Absent from older registries.
    public var drainTimeoutSeconds: Double?
    public init(endpoints: [Endpoint], auditSeq: Int64, drainTimeoutSeconds: Double? = nil) {
        self.endpoints = endpoints; self.auditSeq = auditSeq; self.drainTimeoutSeconds = drainTimeoutSeconds
    }
}

/// One entry of an endpoint's history: the routing it had at that revision and how it got there.
public struct RevisionRecord: Codable, Sendable, Equatable {
    public var revision: Int64
    public var time: Date
    public var actor: String
    public var action: AuditAction
    public var reason: String
    public var summary: String
    public var endpoint: Endpoint
    public init(revision: Int64, time: Date, actor: String, action: AuditAction, reason: String, summary: String, endpoint: Endpoint) {
        self.revision = revision; self.time = time; self.actor = actor; self.action = action
        self.reason = reason; self.summary = summary; self.endpoint = endpoint
    }
}

public struct RevisionList: Codable, Sendable, Equatable {
    public var endpoint: String
    public var revisions: [RevisionRecord]
    public init(endpoint: String, revisions: [RevisionRecord]) { self.endpoint = endpoint; self.revisions = revisions }
}

public struct AuditPage: Codable, Sendable, Equatable {
    public var entries: [AuditEntry]
    /// The highest sequence number in the log, whether or not this page reaches it.
    public var lastSeq: Int64
    public init(entries: [AuditEntry], lastSeq: Int64) { self.entries = entries; self.lastSeq = lastSeq }
}

/// The registry's own walk of its audit chain (`GET /v1/audit/verify`).
public struct AuditVerification: Codable, Sendable, Equatable {
    public var intact: Bool
    public var entries: Int
    public var firstBreak: ChainBreak?
    public init(intact: Bool, entries: Int, firstBreak: ChainBreak?) { self.intact = intact; self.entries = entries; self.firstBreak = firstBreak }
}

/// The long-poll answer: what happened after `after`, or nothing when the wait timed out.
public struct WatchResponse: Codable, Sendable, Equatable {
    public var events: [AuditEntry]
    public var lastSeq: Int64
    public init(events: [AuditEntry], lastSeq: Int64) { self.events = events; self.lastSeq = lastSeq }
}

/// RFC 9457 problem details. For 412 it carries the endpoint's current state and who changed it.
public struct Problem: Codable, Sendable, Equatable, Error {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var current: Endpoint?
    public var changedBy: String?
    public var changedAt: Date?

    public init(status: Int, title: String, detail: String, type: String = "about:blank",
                current: Endpoint? = nil, changedBy: String? = nil, changedAt: Date? = nil) {
        self.type = type; self.title = title; self.status = status; self.detail = detail
        self.current = current; self.changedBy = changedBy; self.changedAt = changedAt
    }
}

extension RoutingError {
    public var httpStatus: Int {
        switch kind {
        case .invalid: 422
        case .conflict: 409
        case .notFound: 404
        case .forbidden: 403
        }
    }
}

/// One-line descriptions of what a change did, for the audit and the history.
public enum ChangeSummary {
    public static func describe(before: Endpoint?, after: Endpoint?) -> String {
        guard let after else { return "endpoint deleted" }
        guard let before else {
            let spec = [after.baseline.map { "baseline \($0)" }, after.slo.map { "slo \($0.notation)" },
                        after.judge.map { "judge \($0.notation)" }].compactMap { $0 }
            return "created: " + after.versions.map { "\($0.name) \($0.weight)" }.joined(separator: ", ")
                + (spec.isEmpty ? "" : "; " + spec.joined(separator: ", "))
        }
        var parts: [String] = []
        if before.state != after.state { parts.append("endpoint \(before.state.rawValue)→\(after.state.rawValue)") }
        for v in after.versions {
            guard let old = before.version(v.name) else { parts.append("\(v.name) added (\(v.weight))"); continue }
            var p: [String] = []
            if old.weight != v.weight { p.append("\(old.weight)→\(v.weight)") }
            if old.state != v.state { p.append("\(old.state.rawValue)→\(v.state.rawValue)") }
            if old.gate != v.gate { p.append("gate \(old.gate.rawValue)→\(v.gate.rawValue)") }
            if old.upstream != v.upstream { p.append("upstream \(old.upstream ?? "none")→\(v.upstream ?? "none")") }
            if old.stage != v.stage { p.append("stage \(old.stage.rawValue)→\(v.stage.rawValue)") }
            if !p.isEmpty { parts.append("\(v.name) " + p.joined(separator: " ")) }
        }
        for v in before.versions where after.version(v.name) == nil { parts.append("\(v.name) removed") }
        if before.baseline != after.baseline { parts.append("baseline \(before.baseline ?? "none")→\(after.baseline ?? "none")") }
        if before.slo != after.slo { parts.append("slo \(before.slo?.notation ?? "none")→\(after.slo?.notation ?? "none")") }
        if before.judge != after.judge { parts.append("judge \(before.judge?.notation ?? "none")→\(after.judge?.notation ?? "none")") }
        if before.evaluation != after.evaluation { parts.append(after.evaluation == nil ? "evaluation policy removed" : "evaluation policy changed") }
        if before.path != after.path { parts.append("path \(before.path)→\(after.path)") }
        if before.owner != after.owner { parts.append("owner \(before.owner)→\(after.owner)") }
        return parts.isEmpty ? "no routing change" : parts.joined(separator: ", ")
    }
}

/// What `POST /v1/promotions` answers when a bundle lands: the endpoint with the new version, and
/// what the audit entry recorded.
public struct PromotionImportResult: Codable, Sendable, Equatable {
    public var endpoint: Endpoint
    public var version: String
    public var bundle: String
    public var bundleSha256: String
    public var signer: String
    public var sourceRegistry: String
    public var auditSeq: Int64
    public init(endpoint: Endpoint, version: String, bundle: String, bundleSha256: String, signer: String, sourceRegistry: String, auditSeq: Int64) {
        self.endpoint = endpoint; self.version = version; self.bundle = bundle; self.bundleSha256 = bundleSha256
        self.signer = signer; self.sourceRegistry = sourceRegistry; self.auditSeq = auditSeq
    }
}
