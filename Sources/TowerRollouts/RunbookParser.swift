import Foundation
import Yams

extension Runbook {
    /// The largest runbook file or body read; a plan is a few hundred bytes.
    public static let maxBytes = 1 << 20
    public static let maxSteps = 100
    public static let maxChecks = 20

    /// Reads a runbook file's YAML strictly: unknown keys, wrong types and impossible plans are
    /// refused with the file and the key.
    public static func parse(yaml: String, file: String? = nil) throws(RunbookError) -> Runbook {
        if yaml.utf8.count > maxBytes {
            throw RunbookError(file: file, key: "", "the runbook is \(yaml.utf8.count) bytes; the limit is \(maxBytes) (1 MiB)")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw RunbookError(file: file, key: "", "not valid YAML: \(error)")
        }
        guard let node else { throw RunbookError(file: file, key: "", "the runbook is empty") }
        return try parse(RunbookValue(yaml: node, path: "", file: file), file: file)
    }

    /// Reads a runbook from its value tree (YAML, or the `runbook` object of a JSON request).
    public static func parse(_ value: RunbookValue, file: String? = nil) throws(RunbookError) -> Runbook {
        var r = Reader(file: file)
        return try r.runbook(value)
    }
}

/// The strict reader. Every `fail` names the key path.
private struct Reader {
    let file: String?

    func fail(_ key: String, _ problem: String) -> RunbookError { RunbookError(file: file, key: key, problem) }

    func map(_ v: RunbookValue, _ key: String, allowed: [String], what: String) throws(RunbookError) -> [String: RunbookValue] {
        guard case .map(let pairs) = v else { throw fail(key, "\(what) must be a mapping, not \(v.kind)") }
        var out: [String: RunbookValue] = [:]
        for (k, x) in pairs {
            let sub = key.isEmpty ? k : "\(key).\(k)"
            guard allowed.contains(k) else {
                throw fail(sub, "unknown key '\(k)'; \(what) takes \(allowed.joined(separator: ", "))")
            }
            if out[k] != nil { throw fail(sub, "'\(k)' is given twice") }
            out[k] = x
        }
        return out
    }

    func int(_ v: RunbookValue, _ key: String) throws(RunbookError) -> Int {
        switch v {
        case .int(let i): return i
        case .number(let d) where d == d.rounded() && abs(d) < 1e9: return Int(d)
        default: throw fail(key, "must be a whole number, not \(v.kind)")
        }
    }

    func number(_ v: RunbookValue, _ key: String) throws(RunbookError) -> Double {
        switch v {
        case .int(let i): return Double(i)
        case .number(let d) where d.isFinite: return d
        default: throw fail(key, "must be a number, not \(v.kind)")
        }
    }

    func duration(_ v: RunbookValue, _ key: String) throws(RunbookError) -> Double {
        let seconds: Double
        switch v {
        case .int(let i): seconds = Double(i)
        case .number(let d): seconds = d
        case .string(let s):
            guard let d = RunbookDuration.parse(s) else {
                throw fail(key, "'\(s)' is not a duration; write it like 30s, 2m, 1h or 500ms")
            }
            seconds = d
        default: throw fail(key, "must be a duration like 30s or 2m, not \(v.kind)")
        }
        if !seconds.isFinite || seconds < 0 { throw fail(key, "a duration cannot be negative (\(RunbookDuration.plain(seconds))s)") }
        if seconds > 7 * 86_400 { throw fail(key, "\(RunbookDuration.format(seconds)) is longer than a week; use an open pause ({}) and promote instead") }
        return seconds
    }

    mutating func runbook(_ v: RunbookValue) throws(RunbookError) -> Runbook {
        let m = try map(v, "", allowed: ["name", "steps", "analysis", "onComplete"], what: "a runbook")
        guard let nameValue = m["name"] else { throw fail("name", "is missing; a runbook needs a name") }
        guard case .string(let name) = nameValue else { throw fail("name", "must be a string, not \(nameValue.kind)") }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 || name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } ?? false }) {
            throw fail("name", "must be one line of 1 to 100 characters")
        }
        guard let stepsValue = m["steps"] else { throw fail("steps", "is missing; a runbook needs at least one setWeight step") }
        guard case .list(let list) = stepsValue else { throw fail("steps", "must be a list, not \(stepsValue.kind)") }
        if list.count > Runbook.maxSteps { throw fail("steps", "has \(list.count) steps; the limit is \(Runbook.maxSteps)") }
        var steps: [RunbookStep] = []
        var last: (weight: Int, index: Int)? = nil
        for (i, sv) in list.enumerated() {
            let key = "steps[\(i)]"
            let s = try map(sv, key, allowed: ["setWeight", "pause"], what: "a step")
            guard s.count == 1, let (k, x) = s.first else {
                throw fail(key, "a step is exactly one of setWeight or pause")
            }
            if k == "setWeight" {
                let w = try int(x, "\(key).setWeight")
                if w < 0 || w > 100 { throw fail("\(key).setWeight", "\(w) is not a weight; a weight is a whole percent from 0 to 100") }
                if let last, w < last.weight {
                    throw fail("\(key).setWeight", "\(w) goes down from \(last.weight) at steps[\(last.index)]; a rollout only moves traffic towards the target (abort to go back)")
                }
                last = (w, i)
                steps.append(.setWeight(w))
            } else {
                switch x {
                case .map(let pairs) where pairs.isEmpty:
                    steps.append(.pause(seconds: nil))
                case .map:
                    let p = try map(x, "\(key).pause", allowed: ["duration"], what: "a pause")
                    steps.append(.pause(seconds: try p["duration"].map { v throws(RunbookError) in try duration(v, "\(key).pause.duration") }))
                default:
                    steps.append(.pause(seconds: try duration(x, "\(key).pause")))
                }
            }
        }
        guard let last else { throw fail("steps", "has no setWeight step, so it would move no traffic") }
        _ = last
        var onComplete = Runbook.OnComplete.keep
        if let oc = m["onComplete"] {
            guard case .string(let s) = oc, let o = Runbook.OnComplete(rawValue: s) else {
                throw fail("onComplete", "must be one of \(Runbook.OnComplete.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            onComplete = o
        }
        let book = Runbook(name: name, steps: steps, analysis: try m["analysis"].map { v throws(RunbookError) in try analysis(v) }, onComplete: onComplete)
        if onComplete == .drainBaseline && book.finalWeight != 100 {
            throw fail("onComplete", "drainBaseline needs the last setWeight to be 100, not \(book.finalWeight): the baseline still carries traffic")
        }
        return book
    }

    func analysis(_ v: RunbookValue) throws(RunbookError) -> RunbookAnalysis {
        let m = try map(v, "analysis", allowed: ["interval", "failureLimit", "inconclusiveLimit", "checks"], what: "analysis")
        guard let iv = m["interval"] else { throw fail("analysis.interval", "is missing; say how often to check, like 30s") }
        let interval = try duration(iv, "analysis.interval")
        if interval < 1 { throw fail("analysis.interval", "must be at least 1s") }
        func limit(_ k: String) throws(RunbookError) -> Int {
            guard let x = m[k] else { return 0 }
            let n = try int(x, "analysis.\(k)")
            if n < 0 || n > 1000 { throw fail("analysis.\(k)", "must be from 0 to 1000, not \(n)") }
            return n
        }
        guard let cv = m["checks"] else { throw fail("analysis.checks", "is missing; give at least one check") }
        guard case .list(let list) = cv else { throw fail("analysis.checks", "must be a list, not \(cv.kind)") }
        if list.isEmpty { throw fail("analysis.checks", "is empty; give at least one check or leave analysis out") }
        if list.count > Runbook.maxChecks { throw fail("analysis.checks", "has \(list.count) checks; the limit is \(Runbook.maxChecks)") }
        var checks: [RunbookCheck] = []
        for (i, c) in list.enumerated() {
            let key = "analysis.checks[\(i)]"
            let cm = try map(c, key, allowed: ["metric", "min", "max", "judge"], what: "a check")
            if let j = cm["judge"] {
                if cm.count != 1 { throw fail(key, "a judge check takes only judge: baseline") }
                guard case .string("baseline") = j else { throw fail("\(key).judge", "must be baseline (the target judged against the baseline)") }
                checks.append(.judgeBaseline)
                continue
            }
            guard let mv = cm["metric"] else { throw fail(key, "a check needs metric (with min or max) or judge: baseline") }
            guard case .string(let ms) = mv, let metric = RunbookMetric(rawValue: ms) else {
                let given: String = if case .string(let s) = mv { "'\(s)'" } else { mv.kind }
                throw fail("\(key).metric", "unknown metric \(given); known: \(RunbookMetric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let lo = try cm["min"].map { v throws(RunbookError) in try number(v, "\(key).min") }
            let hi = try cm["max"].map { v throws(RunbookError) in try number(v, "\(key).max") }
            if lo == nil && hi == nil { throw fail(key, "a metric check needs min or max") }
            if let lo, let hi, lo > hi { throw fail(key, "min \(RunbookDuration.plain(lo)) is above max \(RunbookDuration.plain(hi)), so no value passes") }
            if metric == .errorRatio, let hi, hi < 0 || hi > 1 { throw fail("\(key).max", "errorRatio is a ratio from 0 to 1 (0.01 is 1 %), not \(RunbookDuration.plain(hi))") }
            checks.append(.metric(metric, min: lo, max: hi))
        }
        return RunbookAnalysis(interval: interval, failureLimit: try limit("failureLimit"), inconclusiveLimit: try limit("inconclusiveLimit"), checks: checks)
    }
}

extension Runbook {
    /// The runbook as a value tree in the shape the parser reads, so what is stored and sent
    /// round-trips through the same checks.
    public var value: RunbookValue {
        var fields: [(String, RunbookValue)] = [("name", .string(name))]
        fields.append(("steps", .list(steps.map { s in
            switch s {
            case .setWeight(let w): .map([("setWeight", .int(w))])
            case .pause(let d?): .map([("pause", .string(RunbookDuration.format(d)))])
            case .pause(nil): .map([("pause", .map([]))])
            }
        })))
        if let a = analysis {
            fields.append(("analysis", .map([
                ("interval", .string(RunbookDuration.format(a.interval))),
                ("failureLimit", .int(a.failureLimit)),
                ("inconclusiveLimit", .int(a.inconclusiveLimit)),
                ("checks", .list(a.checks.map { c in
                    switch c {
                    case .judgeBaseline: .map([("judge", .string("baseline"))])
                    case .metric(let m, let lo, let hi):
                        .map([("metric", .string(m.rawValue))] + (lo.map { [("min", RunbookValue.number($0))] } ?? [])
                             + (hi.map { [("max", RunbookValue.number($0))] } ?? []))
                    }
                })),
            ])))
        }
        fields.append(("onComplete", .string(onComplete.rawValue)))
        return .map(fields)
    }
}

extension Runbook: Codable {
    public init(from decoder: any Decoder) throws {
        let v = try RunbookValue(from: decoder)
        do { self = try Runbook.parse(v) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
