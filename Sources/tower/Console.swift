import ArgumentParser
import Foundation
import TerminalUI
import TerminalUICurses
import TowerConsole
import TowerDomain
import TowerRuntime
import TowerMetrics
import TowerTraces
import TowerSources

/// `tower` with no verb: the live console.
struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "The live console (the default).")
    @Option(help: "Registry URL (default: the context's).") var registry: String?
    @Option(help: "File holding the API token (default: the context's, then $TOWER_TOKEN).") var tokenFile: String?
    @Option(help: "Context from the config file.") var context: String?
    @Option(help: "Config file (default: $XDG_CONFIG_HOME/tower/config.yaml).") var config: String?
    @Flag(help: "Refuse every action.") var readOnly = false
    @OptionGroup var look: LookOptions
    @OptionGroup var sources: SourceOptions
    @OptionGroup var tls: TLSFlags

    func run() async throws {
        let cfg: TowerConfig
        let ctx: TowerContext?
        let token: String?
        let flags: SourceFlags
        let start: ConsoleSources
        do {
            cfg = try TowerConfig.load(path: config ?? TowerConfig.defaultPath())
            ctx = try cfg.context(named: context, registryFlag: registry)
            token = try TokenSource.read(file: tokenFile ?? ctx?.tokenFile)
            flags = try sources.flags()
            start = try Self.sources(flags, ctx)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let url = registry ?? ctx?.registry else {
            throw ValidationError("no registry: pass --registry URL, choose a context with --context, or try 'tower demo'")
        }
        // `:ctx NAME` takes the registry, token and sources of NAME, with the flags given at start
        // still winning over its fields (except --registry and --token-file, which named the
        // starting registry). --read-only holds for every context: a session started read-only
        // must not become writable by a switch.
        let readOnlyFlag = readOnly
        // The config file is read again at each `:ctx`, so a context added or changed since the
        // console started is the one used.
        let configPath = config ?? TowerConfig.defaultPath()
        let hooks = ConsoleHooks(switchContext: { name in
            let cfg = try TowerConfig.load(path: configPath)
            guard let c = try cfg.context(named: name) else { throw ConfigError("no context named '\(name)'") }
            return ContextSwitch(client: try RegistryClient.make(url: c.registry, token: try TokenSource.read(file: c.tokenFile), tls: c.tls),
                                 readOnly: readOnlyFlag || c.readOnly == true, sources: try Self.sources(flags, c),
                                 banner: try bannerColor(c), tlsUnverified: c.tlsUnverified)
        }, resolveTheme: look.themeResolver(), listContexts: {
            let cfg = try TowerConfig.load(path: configPath)
            return cfg.contexts.map(\.name)
        })
        let client: RegistryClient
        do { client = try RegistryClient.make(url: url, token: token, tls: tls.over(ctx?.tls)) } catch { throw ValidationError("\(error)") }
        let status = try await runConsole(client: client, sources: start, contextName: ctx?.name ?? "direct",
                                          readOnly: readOnly || ctx?.readOnly == true, banner: try bannerColor(ctx), look: look, hooks: hooks,
                                          tlsUnverified: ctx?.tlsUnverified == true)
        if let status { throw ExitCode(128 + status) }
    }

    static func sources(_ flags: SourceFlags, _ ctx: TowerContext?) throws -> ConsoleSources {
        let s = try SourceSettings.resolve(flags, context: ctx)
        return ConsoleSources(metrics: try s.metricsSources(), traces: try s.traceSource(), traceMapping: s.traceMapping)
    }
}

/// Theme and keymap: flags, then files in `$XDG_CONFIG_HOME/tower/`; `NO_COLOR` turns colour off.
struct LookOptions: ParsableArguments {
    @Option(help: "Theme: default, light, high-contrast, monochrome, colorblind, or a file name in $XDG_CONFIG_HOME/tower/themes.")
    var theme = "default"
    @Option(help: "Keymap YAML (default: $XDG_CONFIG_HOME/tower/keymap.yaml if it exists).")
    var keymap: String?

    var configDirectory: String { (TowerConfig.defaultPath() as NSString).deletingLastPathComponent }
    var noColor: Bool { !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty }

    func themeResolver() -> @Sendable (String) throws -> Theme {
        let dir = configDirectory + "/themes", noColor = noColor
        return { name in try Theme.resolve(named: name, userDirectory: dir, noColor: noColor) }
    }

    func resolved() throws -> (Theme, Keymap) {
        do {
            return (try themeResolver()(theme), try Keymap.load(path: keymap ?? configDirectory + "/keymap.yaml"))
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Opens the terminal, runs the loop on its own thread (it blocks in poll(2), which must not hold
/// one of the few threads Swift's concurrency pool has), and restores the terminal however it ends.
func runConsole(client: RegistryClient, sources: ConsoleSources, contextName: String, readOnly: Bool, banner: Color? = nil,
                look: LookOptions, hooks: ConsoleHooks, tlsUnverified: Bool = false) async throws -> Int32? {
    let (theme, keymap) = try look.resolved()
    let backend: CursesBackend
    do { backend = try CursesBackend(colorsAllowed: !look.noColor) } catch { throw ValidationError("\(error)") }
    let size = backend.size
    var state = ConsoleState(width: size.width, height: size.height, now: Date(), contextName: contextName, readOnly: readOnly,
                             banner: banner, keymap: keymap, theme: theme)
    state.timeZone = .current
    state.tlsUnverified = tlsUnverified
    let loop = try ConsoleLoop(backend: backend, client: client, sources: sources, state: state, hooks: hooks)
    return await withCheckedContinuation { (c: CheckedContinuation<Int32?, Never>) in
        let t = Thread { c.resume(returning: loop.run()) }
        t.stackSize = 4 << 20
        t.start()
    }
}

/// A context's `banner` as a colour (a theme colour name or `#rrggbb`); a typo is an error at
/// start, not a production context that silently looks like any other.
func bannerColor(_ c: TowerContext?) throws -> Color? {
    guard let name = c?.banner else { return nil }
    guard let color = Theme.parseColor(name) else {
        throw ValidationError("context '\(c?.name ?? "")': banner '\(name)' is not a colour; use a name like red or bright-red, or #rrggbb")
    }
    return color
}
