import TerminalUI
import TowerConsole
import TowerMetrics
import TowerSources
import TowerTraces

/// The sources a context reads: metrics polled by the effect runner, traces searched on demand.
public struct ConsoleSources: Sendable {
    public var metrics: [any MetricsSource]
    public var traces: (any TraceSource)?
    public var traceMapping: TraceMapping

    public init(metrics: [any MetricsSource] = [], traces: (any TraceSource)? = nil, traceMapping: TraceMapping = TraceMapping()) {
        self.metrics = metrics; self.traces = traces; self.traceMapping = traceMapping
    }
}

/// What `:ctx NAME` switches to.
public struct ContextSwitch: Sendable {
    public var client: RegistryClient
    public var readOnly: Bool
    /// The new context's sources; nil keeps the ones the console has.
    public var sources: ConsoleSources?
    public var banner: Color?
    /// The context turns certificate verification off somewhere (`TLS UNVERIFIED` in the header).
    public var tlsUnverified: Bool

    public init(client: RegistryClient, readOnly: Bool, sources: ConsoleSources? = nil, banner: Color? = nil, tlsUnverified: Bool = false) {
        self.client = client; self.readOnly = readOnly; self.sources = sources; self.banner = banner; self.tlsUnverified = tlsUnverified
    }
}

/// What the runtime needs from its host to follow `:ctx` and `:theme`: how to resolve a name.
/// The starting context's client and sources are given to `ConsoleLoop` itself.
public struct ConsoleHooks: Sendable {
    public var switchContext: @Sendable (String) throws -> ContextSwitch
    public var resolveTheme: @Sendable (String) throws -> Theme
    /// The contexts `:ctx` alone lists, from the config file as it is now.
    public var listContexts: @Sendable () throws -> [String]

    public init(switchContext: @escaping @Sendable (String) throws -> ContextSwitch,
                resolveTheme: @escaping @Sendable (String) throws -> Theme,
                listContexts: @escaping @Sendable () throws -> [String] = { [] }) {
        self.switchContext = switchContext
        self.resolveTheme = resolveTheme
        self.listContexts = listContexts
    }

    /// For hosts whose contexts change only the registry: the sources stay as they are.
    public init(resolveContext: @escaping @Sendable (String) throws -> (RegistryClient, readOnly: Bool),
                resolveTheme: @escaping @Sendable (String) throws -> Theme) {
        self.init(switchContext: { name in
            let (client, readOnly) = try resolveContext(name)
            return ContextSwitch(client: client, readOnly: readOnly)
        }, resolveTheme: resolveTheme)
    }
}
