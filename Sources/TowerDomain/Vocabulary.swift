/// The one table of words for routing states, gates and actors. Every surface that names them in
/// prose (console screens, dialogs and toasts, `tower status`/`audit`/`rollout status` text, the
/// operator guide) takes its words from here, so an operator reads the same word for the same
/// thing everywhere. JSON output keeps the API's enum values (`out-of-service`): those are the
/// contract, and scripts match on them.
public enum Vocabulary {
    /// A word, and the fixed abbreviation a narrow column may use instead (often the word itself).
    public struct Term: Sendable, Equatable {
        public let word: String
        public let short: String
        public init(_ word: String, short: String? = nil) { self.word = word; self.short = short ?? word }
    }

    public static func term(_ s: EndpointState) -> Term {
        switch s {
        case .serving: Term("serving")
        case .outOfService: Term("out of service", short: "out")
        }
    }

    public static func term(_ s: VersionState) -> Term {
        switch s {
        case .serving: Term("serving")
        case .draining: Term("draining")
        case .drained: Term("drained")
        }
    }

    public static func term(_ g: GateStatus) -> Term {
        switch g {
        case .passed: Term("passed")
        case .failed: Term("failed")
        case .pending: Term("pending")
        }
    }

    /// An admin's audited change that moved weight past a gate that had not passed.
    public static let override = Term("override", short: "ovr")

    public static func word(_ s: EndpointState) -> String { term(s).word }
    public static func word(_ s: VersionState) -> String { term(s).word }
    public static func word(_ g: GateStatus) -> String { term(g).word }

    /// The one-letter mark after a version's weight in a split (`v2 0d`): none while serving.
    public static func splitMark(_ s: VersionState) -> String {
        switch s {
        case .serving: ""
        case .draining: "d"
        case .drained: "x"
        }
    }

    /// Every term, in the order the operator guide lists them.
    public static let terms: [Term] =
        [term(EndpointState.serving), term(EndpointState.outOfService), term(VersionState.draining), term(VersionState.drained),
         term(GateStatus.passed), term(GateStatus.failed), term(GateStatus.pending), override]

    // MARK: actors

    /// The actor a rollout's own changes are recorded under: `rollout:<id>`, as in the audit log.
    public static let rolloutActorPrefix = "rollout:"
    public static func rolloutActor(_ id: Int64) -> String { rolloutActorPrefix + String(id) }
    public static func isRollout(_ actor: String) -> Bool { actor.hasPrefix(rolloutActorPrefix) }

    /// Who made a change, as every surface writes it: the token's name, then its role in
    /// parentheses where the role is known (`otto (operator)`); a rollout as `rollout:<id>`.
    public static func actor(_ name: String, role: Role? = nil) -> String {
        guard let role else { return Names.printable(name) }
        return "\(Names.printable(name)) (\(role.rawValue))"
    }

    // MARK: checking a surface

    /// The stems a state or gate word starts with, in any spelling a surface might invent
    /// (`serve`, `drain`, `OUT`, `OVR`, `pass`): a word with one of them must be a word of the table.
    static let stems = ["serv", "drain", "out", "oos", "pass", "fail", "pend", "overr", "ovr"]

    /// The words in `text` that look like a state or gate but are not the table's (nor one of the
    /// words of its phrases, such as `service` in `out of service`). Empty when a surface keeps to
    /// the table. Case matters: `OUT` is not `out`.
    public static func strayWords(in text: String) -> [String] {
        let allowed = Set(terms.flatMap { $0.word.split(separator: " ").map(String.init) + [$0.short] })
        // Hyphens join: `out-of-service` is the API's value, not the word.
        let words = text.split(whereSeparator: { !$0.isLetter && $0 != "-" }).map(String.init)
        return words.filter { w in
            let lower = w.lowercased()
            return stems.contains { lower.hasPrefix($0) } && !allowed.contains(w)
        }
    }
}
