/// What a judgement says, per metric and overall. `no-data` is a figure that could not be read (or
/// was not a valid histogram or count); `inconclusive` is data that was read but is too little.
public enum Verdict: String, Codable, Sendable, Equatable, CaseIterable {
    case pass
    case fail
    case inconclusive
    case noData = "no-data"

    /// The overall verdict of a version from its metrics' verdicts: any `fail` fails (a test and a
    /// tolerance are behind it); only all `pass` passes; a missing figure outranks "too few samples",
    /// because waiting will not cure it.
    public static func combined(_ verdicts: [Verdict]) -> Verdict {
        if verdicts.contains(.fail) { return .fail }
        if !verdicts.isEmpty && verdicts.allSatisfy({ $0 == .pass }) { return .pass }
        if verdicts.isEmpty || verdicts.contains(.noData) { return .noData }
        return .inconclusive
    }

    /// `combined([a, b])` without the array: a version's latency and errors, judged for every
    /// version of every endpoint on each refresh.
    public static func combined(_ a: Verdict, _ b: Verdict) -> Verdict {
        if a == .fail || b == .fail { return .fail }
        if a == .pass && b == .pass { return .pass }
        if a == .noData || b == .noData { return .noData }
        return .inconclusive
    }
}
