import Foundation
import TerminalUI
import TowerAnalysis
import TowerDomain
import TowerRollouts

/// Screens form a stack: Esc pops.
public enum Screen: Equatable, Sendable {
    case overview
    case endpoint(String)
    case audit
    case traces(String)
    case trace(String)
    case help
    /// One audit entry whole, by sequence number.
    case auditEntry(Int64)
}

/// The trace list of an endpoint and the trace open in the waterfall.
public struct TraceView: Equatable, Sendable {
    public var endpoint = ""
    public var path = ""
    /// Only this version's traces (`v` toggles it to the version selected on the Endpoint screen).
    public var version: String?
    /// The endpoint's p99 when the list was asked for: where the search for slow traces starts.
    public var p99Ms: Double?
    public var summaries: [TraceSummary] = []
    public var selection = 0
    public var loading = false
    public var error: String?
    public var trace: Trace?
    public var spanSelection = 0
}

/// How the overview orders endpoints (`o` cycles).
public enum SortOrder: String, CaseIterable, Sendable {
    /// Trouble first: page-level burn and failing verdicts, then ticket-level burn, then out of
    /// service, draining, failed gates, then by name.
    case attention
    case name
    /// Most recently changed first.
    case changed
    /// Fastest SLO burn first (page, then ticket, then by rate); endpoints without an SLO last.
    case burn
    /// Live figures, worst first; endpoints without the figure last.
    case errors, p99, rps

    var next: SortOrder { SortOrder.allCases[(SortOrder.allCases.firstIndex(of: self)! + 1) % SortOrder.allCases.count] }
}

/// A metrics or trace source as the header shows it.
public struct SourceHealth: Equatable, Sendable {
    public var name: String
    public var lastSuccess: Date?
    public var lastError: String?
    /// What the source warned about with its last answer (e.g. Prometheus truncated a result).
    public var warnings: [String] = []
    public init(name: String, lastSuccess: Date? = nil, lastError: String? = nil, warnings: [String] = []) {
        self.name = name; self.lastSuccess = lastSuccess; self.lastError = lastError; self.warnings = warnings
    }
}

/// Live figures per endpoint (`alpha`) and per version (`alpha/v2`), with p99 history for the
/// sparklines and the health of each source.
public struct Telemetry: Equatable, Sendable {
    public var figures: [String: Figures] = [:]
    public var history: [String: [Double?]] = [:]
    public var sources: [SourceHealth] = []
    /// Verdicts per endpoint, then per version (the baseline has none), from the figures' window
    /// counts; absent when the source gave no counts.
    public var judgements: [String: [String: Judgement]] = [:]
    /// Figures older than this are drawn as stale (two refresh intervals).
    public var staleAfter: TimeInterval = 10
    /// The window the live rates and quantiles are over, shown in the ERR column's title ("ERR/1m").
    public var windowSeconds: Int?
    public static let historyLength = 60

    public init() {}
    public var enabled: Bool { !sources.isEmpty }

    public static func key(_ endpoint: String, _ version: String? = nil) -> String { FigureKey.make(endpoint, version) }

    public func isStale(_ f: Figures, now: Date) -> Bool { now.timeIntervalSince(f.readAt) > staleAfter }
}

/// The gateways (Envoys) as the header shows them: whether they hold the registry's latest routing.
public struct GatewaySync: Equatable, Sendable {
    /// How often the console asks, and how long an unanswered request counts as in flight.
    public static let interval: TimeInterval = 2
    public static let requestLostAfter: TimeInterval = 15
    /// Out of sync for less than this is a change still propagating (Envoy polls every 0.5–1 s).
    public static let behindAfter: TimeInterval = 5
    /// A gateway that has not polled for longer than this is silent.
    public static let silentAfter: TimeInterval = 10

    /// The last list read; empty until one was, and for a registry that tracks no gateways.
    public var gateways: [GatewayStatus] = []
    /// When each node (by id) was first seen out of sync; absent while it is in sync. The registry
    /// does not say since when, so this is the console's own clock.
    public var outOfSyncSince: [String: Date] = [:]
    public var loadedAt: Date?
    public var lastError: String?
    public var requestedAt: Date?
    public var inFlight = false
    /// A change was applied while a request was in flight, whose answer may predate it: ask again
    /// as soon as it is back.
    public var followUp = false
    public init() {}
}

/// The audit log as the audit screen shows it.
public struct AuditView: Equatable, Sendable {
    public var entries: [AuditEntry] = []
    /// The registry's verdict on the whole chain, and whether the entries shown link up.
    public var verification: AuditVerification?
    public var linksIntact = true
    public var selection = 0
    public var loadedAt: Date?
    /// The endpoint the log is of, when opened from its Endpoint screen; nil for the whole log.
    public var endpoint: String?
}

/// A change the operator asked for, as the registry client will send it.
public struct ChangeRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case shift([String: Int])
        case drain(version: String?)
        case undrain(version: String?)
        case rollback(toRevision: Int64?)
        /// `pause`, `resume`, `promote` or `abort` of the endpoint's rollout.
        case rollout(RolloutMove)
        /// Start a rollout of `target` with the runbook file at `runbook` (read by the runtime).
        case startRollout(runbook: String, target: String)
    }
    public var endpoint: String
    public var expected: Int64
    public var kind: Kind
    public var reason: String
}

/// Why a submitted change did not happen, as the console shows it.
public enum ChangeFailure: Equatable, Sendable {
    /// 412: someone else changed the endpoint; `current` is its state now.
    case stale(current: Endpoint?, detail: String)
    /// The registry refused (401, 403, 409, 422 …) with its own explanation.
    case refused(status: Int, detail: String)
    /// No answer from the registry, and certainly nothing changed.
    case unreachable(String)
    /// The change was sent and its answer lost: the sentence says what a fresh read showed.
    case outcomeUnknown(String)
}

/// The one confirmation dialog every action goes through.
public struct Dialog: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case reason, typedName, weights(Int) }
    public var request: ChangeRequest
    public var title: String
    /// Weights before and after, by version, for the before → after table.
    public var before: [String: Int]
    public var after: [String: Int]
    /// For whole-endpoint drains: the operator must type the endpoint's name.
    public var needsTypedName: Bool
    public var typedName = ""
    public var focus: Field = .reason
    public var submitting = false
    public var error: String?
    /// After a 412: what the endpoint looks like now, offered for re-applying.
    public var conflict: Endpoint?
    /// Rollback: the revisions to choose from (newest first) and the chosen one.
    public var revisions: [RevisionRecord] = []
    public var revisionIndex = 0
    /// Rollout start: the runbook file chosen from `RolloutsView.runbooks`.
    public var runbookIndex = 0
    /// Weight editor: the versions being edited, in order.
    public var editorVersions: [String] = []
}

public struct ConsoleState: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var screens: [Screen] = [.overview]
    public var endpoints: [Endpoint] = [] { didSet { refreshVisible() } }
    public var auditSeq: Int64 = 0
    /// The registry's drain timeout, from its last list: `draining` turns into `drained` on the
    /// console's clock, as it does in the registry, without waiting for an event that never comes.
    public var drainTimeout: TimeInterval?
    /// When the registry last answered, and why it did not since.
    public var lastRead: Date?
    public var registryError: String?
    /// With several registry replicas, the one answering (`host:port`); nil with one registry.
    public var registryReplica: String?
    /// Set while the last answer came from memory of a replica cut off from its database (no
    /// fresh replica answered): the routing shown may lack changes. The next fresh answer clears it.
    public var registryStale: RegistryStale?
    public var now: Date
    public var selection = 0
    public var versionSelection = 0
    public var filter = "" { didSet { if filter != oldValue { refreshVisible() } } }
    public var filterEditing = false
    /// The `:` command line while it is open.
    public var command: String?
    public var sort: SortOrder = .attention { didSet { if sort != oldValue { refreshVisible() } } }
    public var audit = AuditView()
    public var telemetry = Telemetry()
    public var traces = TraceView()
    public var gateways = GatewaySync()
    public var readOnly: Bool
    public var contextName: String
    public var dialog: Dialog?
    public var toast: String?
    public var revisions: [String: [RevisionRecord]] = [:]
    /// SLO burn per endpoint, polled by the runtime on its own, slower cadence.
    public var slo = SLOView()
    /// Change impact per revision shown on an Endpoint screen; history does not change, so kept.
    public var impact: [RevisionKey: ImpactState] = [:]
    /// The window either side of a revision the impact is judged over.
    public var impactWindow = ImpactPolicy.windowSeconds
    /// The rollout of each endpoint whose rollout was read (the one on screen), and why a read failed.
    public var rollouts = RolloutsView()
    public var quitting = false
    /// ASCII only (the locale is not UTF-8).
    public var ascii = false
    public var keymap: Keymap
    public var theme: Theme

    /// The context's banner colour: a production context can be told apart at a glance.
    public var banner: Color?
    /// A server of the context is reached without verifying its certificate (`insecureSkipVerify`):
    /// the header says `TLS UNVERIFIED` for as long as it is so.
    public var tlsUnverified = false
    /// Clock times on screen ("no new traffic since 03:12:09") are in this zone: the terminal's
    /// own in the console, UTC where frames must not depend on the machine (tests).
    public var timeZone = TimeZone(identifier: "UTC")!

    public init(width: Int, height: Int, now: Date, contextName: String = "default", readOnly: Bool = false,
                banner: Color? = nil, keymap: Keymap = .standard, theme: Theme = .standard) {
        self.width = width; self.height = height; self.now = now; self.contextName = contextName
        self.readOnly = readOnly; self.banner = banner; self.keymap = keymap; self.theme = theme
    }

    public var screen: Screen { screens.last ?? .overview }

    /// The endpoints the overview shows: filtered by substring, or by regex when the filter is
    /// written `/like this/`.
    /// Derived from endpoints, filter and sort whenever one of them changes, not on every frame:
    /// with a thousand endpoints, sorting per frame would be most of the frame's cost.
    public private(set) var visibleEndpoints: [Endpoint] = []

    private mutating func refreshVisible() {
        visibleEndpoints = sorted(filtered)
        rolloutsChanged()
    }

    /// The widest mark the overview's ROLLOUT column has to show (0: none, so no column); kept
    /// here, like `alertWidth`, so a frame does not compute every row's mark to lay out (with a
    /// thousand endpoints that tripled the frame's time).
    public private(set) var rolloutWidth = 0

    /// After the rollouts read or the rows shown changed.
    mutating func rolloutsChanged() {
        let g = Glyphs(ascii: ascii)
        rolloutWidth = visibleEndpoints.reduce(0) { max($0, RolloutText.overviewMark($1, self, g)?.text.count ?? 0) }
    }

    /// The widest mark the overview's ALERT column has to show (0: no row is marked, so the
    /// column is left out); kept here so a frame does not compute every row's mark to lay out.
    public private(set) var alertWidth = 0

    /// After verdicts or burn changed: the marks' width, and the order again (the attention and
    /// burn orders read them), keeping the selected endpoint selected.
    mutating func healthChanged() {
        let g = Glyphs(ascii: ascii)
        alertWidth = endpoints.reduce(0) { max($0, VerdictText.flag($1, self, g)?.text.count ?? 0) }
        guard sort != .name && sort != .changed else { return }
        let selected = screen == .overview ? selectedEndpoint?.name : nil
        refreshVisible()
        if let selected, let i = visibleEndpoints.firstIndex(where: { $0.name == selected }) { selection = i }
    }

    /// Drains whose timeout has passed on the console's clock are shown drained (the registry
    /// resolves them on read, with no revision, so no watch event tells of it). Reassigns the
    /// endpoints only when one changes: that re-sorts the overview.
    mutating func resolveDrains() {
        guard let timeout = drainTimeout,
              endpoints.contains(where: { $0.nextDrainDeadline(timeout: timeout).map { $0 <= now } ?? false }) else { return }
        let selected = screen == .overview ? selectedEndpoint?.name : nil
        endpoints = endpoints.map { $0.resolvingDrains(now: now, timeout: timeout) }
        if let selected, let i = visibleEndpoints.firstIndex(where: { $0.name == selected }) { selection = i }
    }

    /// How urgent an endpoint's live health is: 0 page-level burn or a failing verdict on a version
    /// that takes traffic, 1 ticket-level burn, 2 nothing known to be wrong.
    func healthRank(_ e: Endpoint) -> Int {
        let alert = slo.readings[e.name]?.status.overallAlert ?? .none
        if alert == .page || !Judging.failing(e, telemetry.judgements[e.name]).isEmpty { return 0 }
        return alert == .ticket ? 1 : 2
    }

    private func sorted(_ list: [Endpoint]) -> [Endpoint] {
        switch sort {
        case .name: return list.sorted { $0.name < $1.name }
        case .changed: return list.sorted { ($0.updatedAt, $1.name) > ($1.updatedAt, $0.name) }
        case .attention:
            // Live health first (burn, and verdicts on errors and latency: a raw error ratio is not
            // ranked on, as it is not flagged, without a test behind it), then routing states, then
            // gates on versions that carry traffic: a failed gate on a 0-weight staging version is
            // not an incident.
            func rank(_ e: Endpoint) -> Int {
                let health = healthRank(e)
                if health < 2 { return health }
                if e.state == .outOfService { return 2 }
                if e.versions.contains(where: { $0.state == .draining }) { return 3 }
                if e.versions.contains(where: { $0.gate == .failed && $0.weight > 0 }) { return 4 }
                if e.versions.contains(where: { $0.gate == .pending && $0.weight > 0 }) { return 5 }
                return 6
            }
            return list.sorted { (rank($0), $0.name) < (rank($1), $1.name) }
        case .errors, .p99, .rps:
            // Descending; no figure (never read, or no such series) after every figure.
            let figure: (Figures) -> Double? = sort == .errors ? { $0.errorRatio } : sort == .p99 ? { $0.p99Ms } : { $0.rps }
            func key(_ e: Endpoint) -> Double {
                guard let v = telemetry.figures[Telemetry.key(e.name)].flatMap(figure), v.isFinite else { return -.infinity }
                return v
            }
            return list.sorted { a, b in
                let ka = key(a), kb = key(b)
                return ka != kb ? ka > kb : a.name < b.name
            }
        case .burn:
            // Descending alert and rate (negated, so one tuple comparison sorts); no reading last.
            func key(_ e: Endpoint) -> (Int, Int, Double) {
                guard let b = slo.readings[e.name].flatMap({ BurnFigure.of($0.status) }) else { return (1, 0, 0) }
                return (0, -(b.alert == .page ? 2 : b.alert == .ticket ? 1 : 0), -b.rate)
            }
            return list.sorted { a, b in
                let ka = key(a), kb = key(b)
                return (ka.0, ka.1, ka.2, a.name) < (kb.0, kb.1, kb.2, b.name)
            }
        }
    }

    private var filtered: [Endpoint] {
        guard !filter.isEmpty else { return endpoints }
        if filter.count > 2, filter.hasPrefix("/"), filter.hasSuffix("/"),
           let re = try? Regex(String(filter.dropFirst().dropLast())) {
            return endpoints.filter { (try? re.firstMatch(in: $0.name)) != nil || (try? re.firstMatch(in: $0.owner)) != nil }
        }
        let f = filter.lowercased()
        return endpoints.filter { $0.name.contains(f) || $0.owner.lowercased().contains(f) }
    }

    /// Audit entries matching the filter (actor, endpoint, action or reason).
    public var visibleAudit: [AuditEntry] {
        guard !filter.isEmpty else { return audit.entries }
        let f = filter.lowercased()
        return audit.entries.filter {
            $0.actor.lowercased().contains(f) || $0.endpoint.contains(f) || $0.action.rawValue.contains(f) || $0.reason.lowercased().contains(f)
        }
    }

    public var selectedEndpoint: Endpoint? {
        switch screen {
        case .endpoint(let name): endpoints.first { $0.name == name }
        default: visibleEndpoints.indices.contains(selection) ? visibleEndpoints[selection] : nil
        }
    }

    /// An endpoint error ratio the overview draws red.
    static let errorAlarm = 0.01

    /// A read this recent is the registry's latest: the long poll (25 s) would have said otherwise.
    public static let liveWithin: TimeInterval = 30

    /// True when the data on screen is older than two watch cycles or the registry is failing.
    public var isStale: Bool {
        guard let lastRead else { return true }
        return registryError != nil && now.timeIntervalSince(lastRead) > 2
    }
}
