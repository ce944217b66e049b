import Foundation
import TowerDomain

/// Writes declarative specs as the YAML `SpecFile` reads (`tower export`): keys in a fixed order,
/// every string double-quoted (JSON's escapes, which YAML shares), numbers as `SLO.notation` writes
/// them, so export → apply → diff finds nothing and the same state always exports the same bytes.
public enum SpecExport {
    public static func yaml(_ specs: [EndpointSpec]) -> String {
        specs.map(yaml).joined(separator: "---\n")
    }

    public static func yaml(_ s: EndpointSpec) -> String {
        var out = "name: \(q(s.name))\npath: \(q(s.path))\nowner: \(q(s.owner))\n"
        if let b = s.baseline { out += "baseline: \(q(b))\n" }
        if let slo = s.slo {
            out += "slo: " + flow([("availability", slo.availability.map(n)), ("latencyMs", slo.latencyMs.map(n)),
                                   ("latencyTarget", slo.latencyTarget.map(n)), ("period", slo.period.map(q))]) + "\n"
        }
        if let j = s.judge {
            out += "judge: " + flow([("latencyTolerance", j.latencyTolerance.map(n)), ("errorTolerancePoints", j.errorTolerancePoints.map(n)),
                                     ("minSamples", j.minSamples.map { String($0) }), ("confidence", j.confidence.map(n))]) + "\n"
        }
        if let e = s.evaluation {
            out += "evaluation:\n  require:\n"
            for r in e.require {
                out += "    - " + flow([("metric", q(r.metric)), ("min", r.min.map(n)), ("max", r.max.map(n)),
                                         ("minVsBaseline", r.minVsBaseline.map(n)), ("maxVsBaseline", r.maxVsBaseline.map(n))]) + "\n"
            }
        }
        out += "versions:\n"
        for v in s.versions {
            out += "  - name: \(q(v.name))\n"
            out += "    artifact: {uri: \(q(v.artifact.uri)), digest: \(q(v.artifact.digest))}\n"
            out += "    stage: \(v.stage.rawValue)\n"
            if let u = v.upstream { out += "    upstream: \(q(u))\n" }
        }
        return out
    }

    /// A YAML double-quoted scalar: JSON's escapes, plus `\u` for every character YAML does not
    /// allow unescaped in a stream (DEL, the C1 controls, U+FEFF) or reads as a line break (U+0085,
    /// U+2028, U+2029), so an artifact URI holding one still reads back as itself.
    static func q(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20...0x7E, 0xA0...0x2027, 0x202A...0xD7FF, 0xE000...0xFEFE, 0xFF00...0xFFFD, 0x10000...:
                out.unicodeScalars.append(u)
            default:
                out += "\\u" + String(repeating: "0", count: 4 - min(4, String(u.value, radix: 16).count)) + String(u.value, radix: 16)
            }
        }
        return out + "\""
    }
    static func n(_ x: Double) -> String { SLO.number(x) }

    static func flow(_ fields: [(String, String?)]) -> String {
        "{" + fields.compactMap { k, v in v.map { "\(k): \($0)" } }.joined(separator: ", ") + "}"
    }
}

/// What applying a spec would change, in lines a person reads (`tower diff`, `tower apply --dry-run`).
public enum SpecDiff {
    public enum Change: Sendable, Equatable {
        case create(EndpointSpec)
        case update(EndpointSpec, lines: [String])
        case delete(String)

        public var endpoint: String {
            switch self {
            case .create(let s), .update(let s, _): s.name
            case .delete(let n): n
            }
        }
    }

    /// The changes that turn `current` into `desired`. Endpoints not in `desired` are deleted only
    /// when `pruneOwner` is given and they belong to that owner.
    public static func plan(desired: [EndpointSpec], current: [Endpoint], pruneOwner: String? = nil) -> [Change] {
        let byName = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [Change] = []
        for s in desired {
            guard let e = byName[s.name] else { out.append(.create(s)); continue }
            let lines = diff(e.declaredSpec, s)
            if !lines.isEmpty { out.append(.update(s, lines: lines)) }
        }
        if let owner = pruneOwner {
            let wanted = Set(desired.map(\.name))
            for e in current.sorted(by: { $0.name < $1.name }) where e.owner == owner && !wanted.contains(e.name) {
                out.append(.delete(e.name))
            }
        }
        return out
    }

    /// `- old` / `+ new` lines for each field that differs, naming the field.
    public static func diff(_ old: EndpointSpec, _ new: EndpointSpec) -> [String] {
        var lines: [String] = []
        func field(_ name: String, _ a: String?, _ b: String?) {
            guard a != b else { return }
            if let a { lines.append("  - \(name): \(a)") }
            if let b { lines.append("  + \(name): \(b)") }
        }
        field("path", SpecExport.q(old.path), SpecExport.q(new.path))
        field("owner", SpecExport.q(old.owner), SpecExport.q(new.owner))
        field("baseline", old.baseline.map(SpecExport.q), new.baseline.map(SpecExport.q))
        field("slo", old.slo?.notation, new.slo?.notation)
        field("judge", old.judge?.notation, new.judge?.notation)
        field("evaluation", old.evaluation.map(notation), new.evaluation.map(notation))
        let oldVersions = Dictionary(old.versions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newNames = Set(new.versions.map(\.name))
        for v in old.versions where !newNames.contains(v.name) {
            lines.append("  - version \(v.name): \(versionText(v))")
        }
        for v in new.versions {
            guard let o = oldVersions[v.name] else { lines.append("  + version \(v.name): \(versionText(v))"); continue }
            if o != v {
                lines.append("  - version \(v.name): \(versionText(o))")
                lines.append("  + version \(v.name): \(versionText(v))")
            }
        }
        return lines
    }

    static func versionText(_ v: EndpointSpec.VersionSpec) -> String {
        "{artifact: \(v.artifact.uri) \(v.artifact.digest), stage: \(v.stage.rawValue)\(v.upstream.map { ", upstream: \($0)" } ?? "")}"
    }

    static func notation(_ p: EvaluationPolicy) -> String {
        "[" + p.require.map { r in
            SpecExport.flow([("metric", r.metric), ("min", r.min.map(SpecExport.n)), ("max", r.max.map(SpecExport.n)),
                             ("minVsBaseline", r.minVsBaseline.map(SpecExport.n)), ("maxVsBaseline", r.maxVsBaseline.map(SpecExport.n))])
        }.joined(separator: ", ") + "]"
    }

    /// The plan as text: `+ create`, `~ update` with its lines, `- delete`.
    public static func text(_ changes: [Change]) -> String {
        changes.map { c in
            switch c {
            case .create(let s): "+ create \(s.name) (\(s.versions.map(\.name).joined(separator: ", ")); out of service until traffic is shifted onto it)"
            case .update(let s, let lines): "~ update \(s.name)\n" + lines.joined(separator: "\n")
            case .delete(let n): "- delete \(n)"
            }
        }.joined(separator: "\n")
    }
}
