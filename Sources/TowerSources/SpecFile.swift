import Foundation
import TowerDomain
import Yams

/// Why a spec file was refused: the file, the document within it, the key, and what is wrong.
public struct SpecFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based index of the YAML document in the file; nil when the problem is the file's own.
    public var document: Int?
    public var key: String
    public var problem: String

    public init(file: String, document: Int?, key: String, _ problem: String) {
        self.file = file; self.document = document; self.key = key; self.problem = problem
    }

    public var description: String {
        var s = file
        if let document { s += ", document \(document)" }
        if !key.isEmpty { s += ", \(key)" }
        return s + ": " + problem
    }
}

/// Declarative endpoint specs as files (DESIGN §13, `tower apply -f`): YAML in the seed's shape
/// without the state fields, one or many documents per file (`---`), or a folder of `.yaml`/`.yml`
/// files. Read strictly: an unknown key, a wrong type, a weight or gate (state, not spec), or a spec
/// the registry would refuse is an error naming the file and the key.
public enum SpecFile {
    /// The largest file read; a thousand endpoints fit in well under a megabyte.
    public static let maxBytes = 16 << 20
    /// Nodes visited per document: YAML aliases can make a small file a very large tree.
    static let maxNodes = 200_000

    /// Every spec under `path` (a file, or a folder's `.yaml` and `.yml` files in name order).
    public static func read(path: String) throws(SpecFileError) -> [EndpointSpec] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SpecFileError(file: path, document: nil, key: "", "no such file or folder")
        }
        var files = [path]
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            if files.isEmpty { throw SpecFileError(file: path, document: nil, key: "", "the folder holds no .yaml or .yml file") }
        }
        var specs: [EndpointSpec] = []
        var seen: [String: String] = [:]
        for file in files {
            for spec in try parse(try load(file), file: file) {
                if let first = seen[spec.name] {
                    throw SpecFileError(file: file, document: nil, key: "name", "endpoint '\(spec.name)' is declared twice (also in \(first))")
                }
                seen[spec.name] = file
                specs.append(spec)
            }
        }
        return specs
    }

    static func load(_ file: String) throws(SpecFileError) -> String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        if let size = attrs?[.size] as? Int, size > maxBytes {
            throw SpecFileError(file: file, document: nil, key: "", "the file is \(size) bytes; the limit is \(maxBytes) (16 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SpecFileError(file: file, document: nil, key: "", "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecFileError(file: file, document: nil, key: "", "the file is not UTF-8 text")
        }
        return text
    }

    /// The specs in one file's text.
    public static func parse(_ yaml: String, file: String = "<input>") throws(SpecFileError) -> [EndpointSpec] {
        if yaml.utf8.count > maxBytes {
            throw SpecFileError(file: file, document: nil, key: "", "the text is \(yaml.utf8.count) bytes; the limit is \(maxBytes) (16 MiB)")
        }
        // Documents one by one from the parser: `compose_all`'s sequence ends quietly at an error
        // (a key given twice, say), which would read a broken file as fewer specs.
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: yaml)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch {
            throw SpecFileError(file: file, document: nodes.count + 1, key: "", "not valid YAML: \(error)")
        }
        var specs: [EndpointSpec] = []
        for (i, node) in nodes.enumerated() {
            var r = Reader(file: file, document: i + 1)
            // An empty document (a trailing `---`) declares nothing.
            if node.null != nil { continue }
            specs.append(try r.spec(node))
        }
        return specs
    }
}

/// The strict reader of one document.
private struct Reader {
    let file: String
    let document: Int
    var nodes = 0

    func fail(_ key: String, _ problem: String) -> SpecFileError { SpecFileError(file: file, document: document, key: key, problem) }

    mutating func count(_ key: String) throws(SpecFileError) {
        nodes += 1
        if nodes > SpecFile.maxNodes { throw fail(key, "the document has more than \(SpecFile.maxNodes) values (YAML aliases?); no spec needs that many") }
    }

    static let stateKeys: [String: String] = [
        "weight": "weight is state, not spec: traffic moves by `tower shift` and rollouts (a new endpoint may take --initial-weights)",
        "gate": "gate is state, not spec: it follows from evaluations (`tower gate submit`)",
        "gateSummary": "gateSummary is state, not spec: it follows from evaluations (`tower gate submit`)",
        "state": "state is the registry's, not spec",
        "revision": "revision is the registry's, not spec",
    ]

    mutating func map(_ node: Node, _ key: String, allowed: [String], what: String) throws(SpecFileError) -> [String: (Node, String)] {
        try count(key)
        guard let m = node.mapping else { throw fail(key, "\(what) must be a mapping, not \(kind(node))") }
        var out: [String: (Node, String)] = [:]
        for (k, v) in m {
            guard let name = k.scalar?.string else { throw fail(key, "a key of \(what) is not a plain word") }
            let sub = key.isEmpty ? name : "\(key).\(name)"
            if let why = Self.stateKeys[name], !allowed.contains(name) { throw fail(sub, why) }
            guard allowed.contains(name) else { throw fail(sub, "unknown key '\(Names.printable(name, limit: 40))'; \(what) takes \(allowed.joined(separator: ", "))") }
            if out[name] != nil { throw fail(sub, "'\(name)' is given twice") }
            out[name] = (v, sub)
        }
        return out
    }

    func kind(_ n: Node) -> String {
        switch n {
        case .scalar: n.null != nil ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    mutating func string(_ n: Node, _ key: String) throws(SpecFileError) -> String {
        try count(key)
        guard case .scalar(let s) = n else { throw fail(key, "must be a string, not \(kind(n))") }
        // An unquoted `~`, `null` or nothing is YAML's null, not a string.
        if s.style == .plain && n.null != nil { throw fail(key, "must be a string, not null") }
        return s.string
    }

    mutating func number(_ n: Node, _ key: String) throws(SpecFileError) -> Double {
        try count(key)
        guard case .scalar(let s) = n, s.style == .plain, let d = n.float ?? n.int.map(Double.init) else {
            throw fail(key, "must be a number, not \(kind(n) == "a scalar" ? "'\(Names.printable(n.string ?? "", limit: 40))'" : kind(n))")
        }
        if !d.isFinite { throw fail(key, "must be a finite number, not \(Names.printable(s.string, limit: 40))") }
        return d
    }

    mutating func int(_ n: Node, _ key: String) throws(SpecFileError) -> Int {
        let d = try number(n, key)
        guard d == d.rounded(), abs(d) < 1e9 else { throw fail(key, "must be a whole number, not \(Names.printable(n.string ?? "", limit: 40))") }
        return Int(d)
    }

    mutating func list(_ n: Node, _ key: String) throws(SpecFileError) -> [Node] {
        try count(key)
        guard let s = n.sequence else { throw fail(key, "must be a list, not \(kind(n))") }
        return Array(s)
    }

    mutating func spec(_ node: Node) throws(SpecFileError) -> EndpointSpec {
        let m = try map(node, "", allowed: ["name", "path", "owner", "versions", "baseline", "slo", "judge", "evaluation"], what: "an endpoint spec")
        func need(_ k: String, _ hint: String) throws(SpecFileError) -> (Node, String) {
            guard let v = m[k] else { throw fail(k, "is missing; \(hint)") }
            return v
        }
        let (nameNode, _) = try need("name", "an endpoint spec needs a name, like name: alpha")
        let name = try string(nameNode, "name")
        if let p = Names.problem(with: name, kind: "endpoint") { throw fail("name", p) }
        let (pathNode, _) = try need("path", "an endpoint spec needs the gateway path, like path: /v1/models/\(name)")
        let path = try string(pathNode, "path")
        let (ownerNode, _) = try need("owner", "an endpoint spec needs an owning team, like owner: team-x")
        let owner = try string(ownerNode, "owner")
        let (versionsNode, _) = try need("versions", "an endpoint spec needs at least one version")
        var versions: [EndpointSpec.VersionSpec] = []
        for (i, v) in try list(versionsNode, "versions").enumerated() {
            versions.append(try version(v, "versions[\(i)]"))
        }
        var spec = EndpointSpec(name: name, path: path, owner: owner, versions: versions)
        if let (b, k) = m["baseline"] { spec.baseline = try string(b, k) }
        if let (s, k) = m["slo"] { spec.slo = try slo(s, k) }
        if let (j, k) = m["judge"] { spec.judge = try judge(j, k) }
        if let (e, k) = m["evaluation"] { spec.evaluation = try evaluation(e, k) }
        // The registry's own checks, run here so a pipeline learns of a bad spec before it connects.
        do { _ = try spec.endpoint(replacing: nil, revision: 1, at: Date(timeIntervalSince1970: 0), by: "tower apply") } catch {
            throw fail(Self.keyOf(error.detail), error.detail)
        }
        return spec
    }

    /// The key a domain refusal is about, from its wording ("slo.period is 91d" → slo.period).
    static func keyOf(_ detail: String) -> String {
        for prefix in ["slo", "judge", "evaluation", "path", "owner", "baseline"] where detail.hasPrefix(prefix) || detail.contains(" \(prefix) ") {
            return prefix
        }
        return detail.hasPrefix("evaluation.require") ? "evaluation" : "versions"
    }

    mutating func version(_ node: Node, _ key: String) throws(SpecFileError) -> EndpointSpec.VersionSpec {
        let m = try map(node, key, allowed: ["name", "artifact", "stage", "upstream"], what: "a version")
        guard let (nameNode, nk) = m["name"] else { throw fail("\(key).name", "is missing; a version needs a name, like v1") }
        let name = try string(nameNode, nk)
        guard let (artNode, ak) = m["artifact"] else { throw fail("\(key).artifact", "is missing; a version needs its artifact {uri, digest}") }
        let a = try map(artNode, ak, allowed: ["uri", "digest"], what: "an artifact")
        guard let (uri, uk) = a["uri"] else { throw fail("\(ak).uri", "is missing") }
        guard let (digest, dk) = a["digest"] else { throw fail("\(ak).digest", "is missing; give the artifact's sha256:… digest") }
        let artifact = Artifact(uri: try string(uri, uk), digest: try string(digest, dk))
        guard let (stageNode, sk) = m["stage"] else { throw fail("\(key).stage", "is missing; one of dev, staging, prod") }
        let stageText = try string(stageNode, sk)
        guard let stage = Stage(rawValue: stageText) else { throw fail(sk, "'\(Names.printable(stageText, limit: 40))' is not a stage; one of dev, staging, prod") }
        var v = EndpointSpec.VersionSpec(name: name, artifact: artifact, stage: stage)
        if let (u, k) = m["upstream"] { v.upstream = try string(u, k) }
        return v
    }

    mutating func slo(_ node: Node, _ key: String) throws(SpecFileError) -> SLO {
        let m = try map(node, key, allowed: ["availability", "latencyMs", "latencyTarget", "period"], what: "slo")
        var s = SLO()
        if let (n, k) = m["availability"] { s.availability = try number(n, k) }
        if let (n, k) = m["latencyMs"] { s.latencyMs = try number(n, k) }
        if let (n, k) = m["latencyTarget"] { s.latencyTarget = try number(n, k) }
        if let (n, k) = m["period"] { s.period = try string(n, k) }
        if let p = s.problem { throw fail(key, p) }
        return s
    }

    mutating func judge(_ node: Node, _ key: String) throws(SpecFileError) -> JudgeSpec {
        let m = try map(node, key, allowed: ["latencyTolerance", "errorTolerancePoints", "minSamples", "confidence"], what: "judge")
        var j = JudgeSpec()
        if let (n, k) = m["latencyTolerance"] { j.latencyTolerance = try number(n, k) }
        if let (n, k) = m["errorTolerancePoints"] { j.errorTolerancePoints = try number(n, k) }
        if let (n, k) = m["minSamples"] { j.minSamples = try int(n, k) }
        if let (n, k) = m["confidence"] { j.confidence = try number(n, k) }
        if let p = j.problem { throw fail(key, p) }
        return j
    }

    mutating func evaluation(_ node: Node, _ key: String) throws(SpecFileError) -> EvaluationPolicy {
        let m = try map(node, key, allowed: ["require"], what: "evaluation")
        guard let (req, rk) = m["require"] else { throw fail("\(key).require", "is missing; list what an evaluation must show, like - {metric: auc, min: 0.9}") }
        var rs: [EvaluationPolicy.Requirement] = []
        for (i, r) in try list(req, rk).enumerated() {
            let k = "\(rk)[\(i)]"
            let rm = try map(r, k, allowed: ["metric", "min", "max", "minVsBaseline", "maxVsBaseline"], what: "a requirement")
            guard let (metric, mk) = rm["metric"] else { throw fail("\(k).metric", "is missing; name the metric the requirement is about") }
            var q = EvaluationPolicy.Requirement(metric: try string(metric, mk))
            if let (n, nk) = rm["min"] { q.min = try number(n, nk) }
            if let (n, nk) = rm["max"] { q.max = try number(n, nk) }
            if let (n, nk) = rm["minVsBaseline"] { q.minVsBaseline = try number(n, nk) }
            if let (n, nk) = rm["maxVsBaseline"] { q.maxVsBaseline = try number(n, nk) }
            rs.append(q)
        }
        let policy = EvaluationPolicy(require: rs)
        if let p = policy.problem { throw fail(key, p) }
        return policy
    }
}
