import Foundation
import TerminalUI
import TowerAnalysis
import TowerDomain
import TowerRollouts

public enum Message: Equatable, Sendable {
    case key(KeyEvent)
    case resize(width: Int, height: Int)
    case tick(Date)
    /// `stale`: the `Tower-Stale` sentence of a replica that served the list from memory, its
    /// database unreachable (nil for a fresh read).
    case endpointsLoaded(EndpointList, at: Date, stale: String? = nil)
    case registryFailed(String, at: Date)
    /// A long poll came back without news: the registry is alive and what is shown is current,
    /// unless the answer was marked `stale` (as `endpointsLoaded`).
    case registryAlive(at: Date, stale: String? = nil)
    /// With several registry replicas: the one answering now (`host:port`), told when it changes.
    case registryReplica(String)
    case revisionsLoaded(endpoint: String, [RevisionRecord])
    case changeApplied(Endpoint)
    case changeFailed(ChangeFailure)
    case auditLoaded([AuditEntry], AuditVerification?, at: Date)
    case contextSwitched(name: String, readOnly: Bool, banner: Color? = nil, tlsUnverified: Bool = false)
    case themeLoaded(Theme)
    /// A metrics source answered: figures by `Telemetry.key`.
    case figuresLoaded(source: String, [String: Figures], at: Date, warnings: [String] = [])
    case sourceFailed(source: String, String, at: Date)
    /// Another context's metrics sources replaced the old ones: their names, when figures go stale,
    /// and the window their rates are over (nil when the sources do not say or disagree).
    case sourcesChanged([String], staleAfter: TimeInterval, window: Int? = nil)
    /// The triage list of an endpoint, searched with `version` as the filter.
    case tracesLoaded(endpoint: String, [TraceSummary], version: String? = nil)
    case traceLoaded(Trace)
    case traceFailed(String)
    /// p99 history back-filled by one range query.
    case historyLoaded([String: [Double?]])
    /// Burn per endpoint with an SLO, from the runtime's slower poll.
    case burnLoaded([String: SLOReading], at: Date)
    /// The source could not read burn rates (it cannot, or it failed).
    case burnFailed(String, at: Date)
    /// The windows around a revision (change impact), or why they could not be read.
    case impactLoaded(endpoint: String, revision: Int64, ImpactWindows)
    case impactFailed(endpoint: String, revision: Int64, String)
    /// `GET /v1/gateways` answered (an older registry's 404 arrives as an empty list).
    case gatewaysLoaded(GatewayList, at: Date)
    /// It did not; the registry's own health is told by the endpoint reads, not by this.
    case gatewaysFailed(String, at: Date)
    /// `GET …/rollout` answered, read at `at` by the console's clock.
    case rolloutLoaded(RolloutStatus, at: Date)
    case rolloutFailed(endpoint: String, String, at: Date)
    /// `GET /v1/rollouts` answered, read at `at`; a failed read only leaves the list to age.
    case rolloutListLoaded(RolloutList, at: Date)
    /// A rollout action or start the dialog submitted was accepted.
    case rolloutChanged(RolloutStatus, verb: String)
    /// The runbook files `R` can choose from, and the folder they are in (or why it could not be read).
    case runbooksListed(folder: String, [String], error: String?)
    /// Something the operator asked for could not be done (unknown context or theme …).
    case notice(String)
}

/// What `update` asks the runtime to do: plain data, so tests can inspect it.
public enum Effect: Equatable, Sendable {
    case loadEndpoints
    case watch(after: Int64)
    case loadRevisions(String)
    case submit(ChangeRequest)
    /// The newest audit entries, of one endpoint when it is given.
    case loadAudit(endpoint: String? = nil)
    case loadGateways
    /// Failing and slowest traces (`TraceMapping.triage`), only `version`'s when given, the
    /// slow search starting from `p99Ms` when known.
    case searchTraces(endpoint: String, path: String, version: String? = nil, p99Ms: Double? = nil)
    case loadTrace(String)
    case switchContext(String)
    /// `:ctx` alone: say which contexts the config file has now.
    case listContexts
    case loadTheme(String)
    /// Poll burn rates for these endpoints' SLOs (empty stops); sent when the set changes.
    case pollBurn([String: SLO])
    /// Read the figures of the `windowSeconds` before and after a revision made at `at`.
    case loadImpact(endpoint: String, revision: Int64, at: Date, windowSeconds: Int)
    /// Read the rollout of this endpoint.
    case loadRollout(String)
    /// Read every endpoint's rollout (the overview's marks).
    case loadRolloutList
    /// List the runbook files of the context (for `R`).
    case listRunbooks
    case quit
}
