import Foundation

/// The only ways routing moves (DESIGN §3). `step` is resolved client-side into a `shift`;
/// `rollback` is resolved by the registry, which holds history, into `restore`.
public enum RoutingChange: Sendable, Equatable {
    /// Set the weights; a serving version left out gets 0.
    case shift([String: Int])
    case drainVersion(String)
    case drainEndpoint
    case undrainVersion(String)
    case undrainEndpoint
    /// Make routing equal that of an earlier revision.
    case restore(Endpoint)

    public var action: AuditAction {
        switch self {
        case .shift: .shift
        case .drainVersion, .drainEndpoint: .drain
        case .undrainVersion, .undrainEndpoint: .undrain
        case .restore: .rollback
        }
    }

    public var version: String? {
        switch self {
        case .drainVersion(let v), .undrainVersion(let v): v
        default: nil
        }
    }
}

extension Endpoint {
    /// The endpoint after `change`, or why the change is refused. Revision, time and actor are the
    /// caller's to set; this decides routing only. `override` lets an admin give weight to a version
    /// whose gate has not passed.
    public func applying(_ change: RoutingChange, now: Date, role: Role, override: Bool = false) throws(RoutingError) -> Endpoint {
        if override && role < .admin {
            throw .forbidden("only an admin may override an evaluation gate; your role is \(role.rawValue)")
        }
        var next = self
        switch change {
        case .shift(let requested):
            try next.shift(requested)
        case .drainVersion(let v):
            try next.drain(version: v, now: now)
        case .drainEndpoint:
            if state == .outOfService { throw .conflict("endpoint '\(name)' is already out of service") }
            next.state = .outOfService
        case .undrainVersion(let v):
            guard let i = versions.firstIndex(where: { $0.name == v }) else { throw unknownVersion(v) }
            if versions[i].state == .serving { throw .conflict("\(v) is already serving") }
            next.versions[i].state = .serving
            next.versions[i].weight = 0
            next.versions[i].drainingSince = nil
        case .undrainEndpoint:
            if state == .serving { throw .conflict("endpoint '\(name)' is already serving") }
            if servingVersions.allSatisfy({ $0.weight == 0 }) {
                throw .conflict("endpoint '\(name)' has never served, so there is no split to return to; shift traffic onto it instead (like v1=100)")
            }
            next.state = .serving
        case .restore(let target):
            try next.restore(target, now: now)
        }
        try next.validate()
        try next.checkGates(against: self, override: override)
        return next
    }

    public func unknownVersion(_ v: String) -> RoutingError {
        .invalid("endpoint '\(name)' has no version '\(Names.printable(v))'; it has \(versions.map(\.name).joined(separator: ", "))")
    }

    private mutating func shift(_ requested: [String: Int]) throws(RoutingError) {
        // An endpoint a declarative spec created has never served: its versions all carry 0, so
        // there is no split for undrain to return to. The first shift brings it into service.
        let neverServed = state == .outOfService && servingVersions.allSatisfy { $0.weight == 0 }
        if state == .outOfService && !neverServed {
            throw .conflict("endpoint '\(name)' is out of service; undrain it before shifting traffic")
        }
        for (v, w) in requested.sorted(by: { $0.key < $1.key }) {
            guard let ver = version(v) else { throw unknownVersion(v) }
            if w < 0 || w > 100 { throw .invalid("weight of \(v) is \(w); a weight is a whole percent from 0 to 100") }
            if ver.state != .serving && w > 0 {
                throw .conflict("\(v) is \(ver.state.rawValue); undrain it before giving it weight")
            }
        }
        let total = requested.values.reduce(0, +)
        if total != 100 { throw .invalid("the weights add up to \(total); they must add up to 100") }
        for i in versions.indices { versions[i].weight = requested[versions[i].name] ?? 0 }
        if neverServed { state = .serving }
    }

    private mutating func drain(version v: String, now: Date) throws(RoutingError) {
        guard let i = versions.firstIndex(where: { $0.name == v }) else { throw unknownVersion(v) }
        if versions[i].state != .serving { throw .conflict("\(v) is already \(versions[i].state.rawValue)") }
        let freed = versions[i].weight
        if freed > 0 && state == .serving {
            // Only versions that may take traffic receive the drained version's share.
            let recipients = Dictionary(uniqueKeysWithValues: versions.filter {
                $0.name != v && $0.state == .serving && $0.gate == .passed
            }.map { ($0.name, $0.weight) })
            if recipients.isEmpty {
                throw .conflict("no other serving version with a passed gate can take \(v)'s \(freed)%; take the whole endpoint out of service instead")
            }
            let shared = Weights.distribute(freed, among: recipients)
            for j in versions.indices { if let w = shared[versions[j].name] { versions[j].weight = w } }
        } else if freed > 0 {
            // Out of service: nothing is routed now, but the kept weights must still add up for undrain.
            let recipients = Dictionary(uniqueKeysWithValues: versions.filter { $0.name != v && $0.state == .serving }.map { ($0.name, $0.weight) })
            if recipients.isEmpty { throw .conflict("\(v) is the only serving version of '\(name)'") }
            let shared = Weights.distribute(freed, among: recipients)
            for j in versions.indices { if let w = shared[versions[j].name] { versions[j].weight = w } }
        }
        versions[i].weight = 0
        versions[i].state = .draining
        versions[i].drainingSince = now
    }

    private mutating func restore(_ target: Endpoint, now: Date) throws(RoutingError) {
        for old in target.versions where old.weight > 0 && version(old.name) == nil {
            throw .conflict("revision \(target.revision) routed \(old.weight)% to \(old.name), which no longer exists")
        }
        state = target.state
        for i in versions.indices {
            guard let old = target.version(versions[i].name) else {
                // A version added since then takes no traffic, as it had none then.
                versions[i].weight = 0
                continue
            }
            switch (old.state, versions[i].state) {
            case (.serving, _):
                versions[i].state = .serving
                versions[i].drainingSince = nil
            case (_, .serving):
                versions[i].state = .draining
                versions[i].drainingSince = now
            default:
                break // it was not serving then and is not now: leave its drain as it is
            }
            versions[i].weight = old.weight
        }
    }

    /// A version whose gate has not passed may not gain weight, unless an admin overrides.
    func checkGates(against before: Endpoint, override: Bool) throws(RoutingError) {
        for v in versions where v.gate != .passed && v.weight > (before.version(v.name)?.weight ?? 0) {
            if override { continue }
            let summary = v.gateSummary.map { " (\($0))" } ?? ""
            throw .conflict("\(v.name)'s evaluation gate is \(v.gate.rawValue)\(summary), so it cannot take more traffic; an admin may override with a reason")
        }
    }

    /// Versions whose gate has not passed and that gained weight: the override that `applying` allowed.
    public func gateOverrides(comparedTo before: Endpoint?) -> [String] {
        versions.filter { $0.gate != .passed && $0.weight > (before?.version($0.name)?.weight ?? 0) }.map(\.name)
    }
}
