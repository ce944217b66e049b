import TerminalUI

/// Everything a key can do. The help screen is generated from this table, so it cannot drift.
public enum Action: String, CaseIterable, Sendable, Codable {
    case up, down, open, back, quit, help, filter, command, sort
    case stepUp = "step-up", stepDown = "step-down", editWeights = "edit-weights"
    case drain, undrain, drainEndpoint = "drain-endpoint", rollback, traces
    case rolloutStart = "rollout-start", rolloutPause = "rollout-pause", rolloutPromote = "rollout-promote", rolloutAbort = "rollout-abort"
    case traceVersion = "trace-version"

    public var help: String {
        switch self {
        case .up: "move up"
        case .down: "move down"
        case .open: "open: an endpoint, its history, an entry; apply a dialog"
        case .back: "go back / cancel"
        case .quit: "quit"
        case .help: "this help"
        case .filter: "filter endpoints (text, or /regex/)"
        case .command: "command line: :audit :endpoints :ctx [NAME] :theme NAME :q"
        case .sort: "sort the overview: attention, name, last change, burn, errors, p99, rps (↓ marks the column)"
        case .stepUp: "version: +5 points of traffic"
        case .stepDown: "version: -5 points of traffic"
        case .editWeights: "edit every version's weight"
        case .drain: "drain the selected version"
        case .undrain: "undrain the selected version (or the endpoint)"
        case .drainEndpoint: "take the whole endpoint out of service"
        case .rollback: "roll back to an earlier revision"
        case .traces: "slowest and failing traces of the selection"
        case .rolloutStart: "start a rollout of the selected version with a runbook"
        case .rolloutPause: "pause the rollout, or resume it"
        case .rolloutPromote: "promote the rollout: skip the current pause"
        case .rolloutAbort: "abort the rollout: the target's traffic back to the baseline"
        case .traceVersion: "traces: just the version selected on Endpoint (toggle)"
        }
    }
}

extension Action {
    /// Changes routing: refused in a read-only context, so neither offered nor listed there.
    var changesRouting: Bool {
        [.stepUp, .stepDown, .editWeights, .drain, .undrain, .drainEndpoint, .rollback,
         .rolloutStart, .rolloutPause, .rolloutPromote, .rolloutAbort].contains(self)
    }

    /// Whether the key does anything on `screen` (the help screen lists only those).
    func applies(on screen: Screen) -> Bool {
        switch self {
        case .up, .down, .back, .quit, .help, .command: true
        case .filter: screen == .overview || screen == .audit
        case .sort: screen == .overview
        case .open:
            switch screen { case .overview, .endpoint, .audit, .traces: true; default: false }
        case .stepUp, .stepDown, .editWeights, .drain, .undrain, .rolloutStart, .rolloutPause, .rolloutPromote, .rolloutAbort:
            if case .endpoint = screen { true } else { false }
        case .drainEndpoint, .rollback, .traces:
            switch screen { case .overview, .endpoint: true; default: false }
        case .traceVersion:
            if case .traces = screen { true } else { false }
        }
    }
}

public struct Keymap: Equatable, Sendable {
    public var bindings: [Action: [KeyEvent]]

    public init(bindings: [Action: [KeyEvent]]) { self.bindings = bindings }

    public static let standard = Keymap(bindings: [
        .up: [.char("k"), .up], .down: [.char("j"), .down], .open: [.enter], .back: [.escape],
        .quit: [.char("q")], .help: [.char("?")], .filter: [.char("/")], .command: [.char(":")], .sort: [.char("o")],
        .stepUp: [.char("+")], .stepDown: [.char("-")], .editWeights: [.char("s")],
        .drain: [.char("d")], .undrain: [.char("u")], .drainEndpoint: [.char("D")], .rollback: [.char("r")], .traces: [.char("t")],
        .rolloutStart: [.char("R")], .rolloutPause: [.char("p")], .rolloutPromote: [.char("P")], .rolloutAbort: [.char("A")],
        .traceVersion: [.char("v")],
    ])

    public func action(for key: KeyEvent) -> Action? {
        for a in Action.allCases where bindings[a]?.contains(key) == true { return a }
        return nil
    }

    public func keys(_ a: Action) -> String { (bindings[a] ?? []).map(\.name).joined(separator: "/") }
}
