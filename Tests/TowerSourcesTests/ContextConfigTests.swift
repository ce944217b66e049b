import Foundation
import Synchronization
import Testing
import TowerDomain
@testable import TowerMetrics
@testable import TowerTraces
@testable import TowerSources

/// config.yaml: contexts that carry their sources, read strictly, with errors as sentences; and
/// how flags and a context are put together.
@Suite struct ContextConfigTests {
    static let full = """
        currentContext: prod
        contexts:
        - name: prod
          registry: https://registry.prod:8443
          tokenFile: ~/.config/tower/prod.token
          readOnly: false
          banner: red
          metrics:
            prometheus: https://prom.prod:9090
            scrape: [http://10.0.0.5:9901/stats/prometheus]
            profile: envoy
            interval: 5
            timeout: 2.5
            tokenFile: ~/.config/tower/prom.token
            queries:
              requestRate: 'sum by (endpoint, version) (rate(my_requests_total[1m]))'
          traces:
            kind: zipkin
            url: http://127.0.0.1:9411
            service: gateway
            operation: "POST {path}"
        - {name: local, registry: "http://127.0.0.1:8470"}
        """

    static func parse(_ yaml: String) throws -> TowerConfig { try TowerConfig.parse(yaml, file: "/home/op/.config/tower/config.yaml") }

    /// The error's sentence for `yaml`, which must not parse.
    static func failure(_ yaml: String) -> String {
        do {
            _ = try parse(yaml)
            return "parsed"
        } catch {
            return "\(error)"
        }
    }

    static func context(_ body: String) -> String {
        "currentContext: p\ncontexts:\n- name: p\n  registry: http://x\n" + body.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    // MARK: Decoding

    @Test func aFullContextDecodesEveryField() throws {
        let cfg = try Self.parse(Self.full)
        #expect(cfg.currentContext == "prod")
        let prod = try #require(try cfg.context(named: nil))
        #expect(prod == TowerContext(
            name: "prod", registry: "https://registry.prod:8443", tokenFile: "~/.config/tower/prod.token", readOnly: false, banner: "red",
            metrics: MetricsSettings(prometheus: "https://prom.prod:9090", scrape: ["http://10.0.0.5:9901/stats/prometheus"], profile: "envoy",
                                     interval: 5, timeout: 2.5, tokenFile: "~/.config/tower/prom.token",
                                     queries: ["requestRate": "sum by (endpoint, version) (rate(my_requests_total[1m]))"]),
            traces: TraceSettings(kind: .zipkin, url: "http://127.0.0.1:9411", service: "gateway", operation: "POST {path}")))
        let local = try #require(try cfg.context(named: "local"))
        #expect(local.metrics == nil && local.traces == nil)
    }

    /// Environments must not mix (issue 11): `--registry` without `--context` takes nothing from
    /// the current context, whose sources and token belong to another registry.
    @Test func aRegistryFlagWithoutAContextStartsFromNone() throws {
        let cfg = try Self.parse(Self.full)
        #expect(try cfg.context(named: nil, registryFlag: "http://elsewhere:8470") == nil)
        #expect(try cfg.context(named: nil, registryFlag: nil)?.name == "prod", "no flag: the current context")
        #expect(try cfg.context(named: "local", registryFlag: "http://elsewhere:8470")?.name == "local", "both named: the context's sources are asked for")
    }

    @Test func oneScrapeURLMayBeWrittenWithoutAList() throws {
        let cfg = try Self.parse(Self.context("metrics: {scrape: http://127.0.0.1:9464/metrics}"))
        #expect(cfg.contexts[0].metrics?.scrape == ["http://127.0.0.1:9464/metrics"])
    }

    @Test func anEmptyOrCommentOnlyFileIsAnEmptyConfig() throws {
        #expect(try Self.parse("") == TowerConfig())
        #expect(try Self.parse("# nothing yet\n\n") == TowerConfig())
    }

    @Test func theShippedExampleParses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/config.yaml").path
        let cfg = try TowerConfig.load(path: path)
        #expect(cfg.contexts.map(\.name) == ["local", "prod", "prod-direct"])
        for c in cfg.contexts { _ = try SourceSettings.resolve(SourceFlags(), context: c) }
        let prod = try SourceSettings.resolve(SourceFlags(), context: try cfg.context(named: "prod"))
        #expect(prod.profile == .envoy && prod.prometheus?.tokenFile == "~/.config/tower/prom.token" && prod.traces?.kind == .jaeger)
        #expect(try cfg.context(named: "prod")?.registryReplicas == ["https://registry-a.prod:8443", "https://registry-b.prod:8443"])
    }

    @Test func aMissingFileIsAnEmptyConfig() throws {
        #expect(try TowerConfig.load(path: NSTemporaryDirectory() + "no-such-\(UUID().uuidString).yaml") == TowerConfig())
    }

    // MARK: Errors name the file and the key

    @Test(arguments: [
        (context("metrics: {promethues: http://y}"), "unknown key 'metrics.promethues' in context 'p'; known there: prometheus, scrape"),
        (context("colour: red"), "unknown key 'colour' in context 'p'; known there: name, registry"),
        ("colour: red\n", "unknown key 'colour'; known there: currentContext, contexts"),
        (context("traces: {kind: zipkin, url: http://z, servce: gw}"), "unknown key 'traces.servce' in context 'p'"),
        (context("metrics: {interval: fast}"), "'metrics.interval' in context 'p' must be a number"),
        (context("metrics: {interval: 0}"), "'metrics.interval' in context 'p' must be more than 0 seconds, not 0"),
        (context("metrics: {timeout: -1}"), "'metrics.timeout' in context 'p' must be more than 0 seconds, not -1"),
        (context("readOnly: maybe"), "'readOnly' in context 'p' must be true or false"),
        (context("metrics: 5"), "'metrics' in context 'p' must be a mapping"),
        (context("metrics: {scrape: {a: b}}"), "'metrics.scrape' in context 'p' must be a URL or a list of URLs"),
        (context("metrics: {queries: [a]}"), "'metrics.queries' in context 'p' must be a mapping of query names to PromQL"),
        (context("metrics: {profile: istio}"), "'metrics.profile' in context 'p': unknown metrics profile 'istio'; known: generic, envoy"),
        (context("metrics: {queries: {rps: 'sum(x)'}}"), "'metrics.queries' in context 'p': unknown query 'rps'; known: requestRate, errorRate, bucketRate"),
        (context("metrics: {queries: {errorRate: '  '}}"), "the query for errorRate is empty"),
        (context("traces: {kind: honeycomb, url: http://z}"), "'traces.kind' in context 'p': unknown trace backend 'honeycomb'; known: jaeger, tempo, zipkin"),
        (context("traces: {kind: zipkin}"), "'traces.url' in context 'p' is missing"),
        ("contexts:\n- name: p\n", "'registry' in context 'p' is missing"),
        ("contexts:\n- registry: http://x\n", "'contexts[0].name' is missing"),
        ("contexts: 5\n", "'contexts' must be a list of contexts"),
        ("contexts: [5]\n", "'contexts[0]' must be a mapping"),
        ("contexts:\n- {name: p, registry: ''}\n", "'registry' in context 'p' must be the registry's URL"),
        ("contexts:\n- {name: p, registry: a}\n- {name: p, registry: b}\n", "two contexts are named 'p'"),
        ("contexts:\n- name: p\n  registry: [http://x\n", "not valid YAML"),
    ])
    func errorsAreSentencesNamingTheFileAndTheKey(_ yaml: String, _ expected: String) {
        let said = Self.failure(yaml)
        #expect(said.hasPrefix("/home/op/.config/tower/config.yaml: "), "\(said)")
        #expect(said.contains(expected), "\(said)")
        #expect(!said.contains("CodingKeys") && !said.contains("Index 0") && !said.contains("UnknownKey"), "\(said)")
    }

    @Test func anUnreadableFileIsAnErrorNotAnEmptyConfig() throws {
        let dir = NSTemporaryDirectory() + "tower-cfg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/config.yaml", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ConfigError("cannot read \(dir)/config.yaml")) { try TowerConfig.load(path: dir + "/config.yaml") }
    }

    // MARK: Flags over the context over the defaults

    static let prod = TowerContext(
        name: "prod", registry: "https://r", tokenFile: nil, readOnly: nil, banner: nil,
        metrics: MetricsSettings(prometheus: "https://prom.prod:9090", scrape: ["http://10.0.0.5:9901/stats/prometheus"], profile: "envoy",
                                 interval: 7, timeout: 2, tokenFile: "/etc/tower/prom.token", queries: ["requestRate": "sum by (endpoint, version) (x)"]),
        traces: TraceSettings(kind: .jaeger, url: "http://jaeger:16686", service: "{endpoint}-svc", operation: "predict"))

    @Test func withoutFlagsOrContextTheDefaultsHold() throws {
        let s = try SourceSettings.resolve(SourceFlags(), context: nil)
        #expect(s == SourceSettings())
        #expect(s.prometheus == nil && s.scrape.isEmpty && s.profile == .generic && s.interval == 5 && s.timeout == nil && s.traces == nil)
        #expect(s.traceMapping == TraceMapping(service: "gateway", operation: "POST {path}"))
        #expect(try s.metricsSources().isEmpty && s.traceSource() == nil)
    }

    @Test func theContextFillsWhatNoFlagGives() throws {
        let s = try SourceSettings.resolve(SourceFlags(), context: Self.prod)
        #expect(s.prometheus == .init(url: "https://prom.prod:9090", tokenFile: "/etc/tower/prom.token", queries: ["requestRate": "sum by (endpoint, version) (x)"]))
        #expect(s.scrape == ["http://10.0.0.5:9901/stats/prometheus"])
        #expect(s.profile == .envoy && s.interval == 7 && s.timeout == 2)
        #expect(s.traces == TraceSettings(kind: .jaeger, url: "http://jaeger:16686"))
        #expect(s.traceMapping == TraceMapping(service: "{endpoint}-svc", operation: "predict"))
    }

    @Test func eachFlagGivenWinsOverItsFieldAlone() throws {
        var f = SourceFlags()
        f.interval = 1
        var s = try SourceSettings.resolve(f, context: Self.prod)
        #expect(s.interval == 1 && s.profile == .envoy && s.timeout == 2 && s.prometheus?.url == "https://prom.prod:9090")

        f = SourceFlags(scrape: ["http://a/metrics", "http://b/metrics"], profile: "generic", timeout: 0.5, traceOperation: "")
        s = try SourceSettings.resolve(f, context: Self.prod)
        #expect(s.scrape == ["http://a/metrics", "http://b/metrics"] && s.profile == .generic && s.timeout == 0.5 && s.interval == 7)
        #expect(s.prometheus?.url == "https://prom.prod:9090", "the context's Prometheus stays: only --scrape was given")
        #expect(s.traceMapping == TraceMapping(service: "{endpoint}-svc", operation: nil), "an empty operation matches any")

        f = SourceFlags(traces: "zipkin=http://127.0.0.1:9411", traceService: "edge")
        s = try SourceSettings.resolve(f, context: Self.prod)
        #expect(s.traces == TraceSettings(kind: .zipkin, url: "http://127.0.0.1:9411"))
        #expect(s.traceMapping == TraceMapping(service: "edge", operation: "predict"))
    }

    @Test func noneSwitchesOffWhatTheContextSets() throws {
        let s = try SourceSettings.resolve(SourceFlags(prometheus: "none", scrape: ["none"], traces: "none"), context: Self.prod)
        #expect(s.prometheus == nil && s.scrape.isEmpty && s.traces == nil)
        #expect(try s.metricsSources().isEmpty)
    }

    @Test func theContextsPrometheusTokenGoesOnlyToTheContextsPrometheus() throws {
        var s = try SourceSettings.resolve(SourceFlags(prometheus: "http://elsewhere:9090"), context: Self.prod)
        #expect(s.prometheus?.url == "http://elsewhere:9090" && s.prometheus?.tokenFile == nil)
        s = try SourceSettings.resolve(SourceFlags(prometheus: "http://elsewhere:9090", prometheusTokenFile: "/tmp/mine"), context: Self.prod)
        #expect(s.prometheus?.tokenFile == "/tmp/mine")
        s = try SourceSettings.resolve(SourceFlags(prometheusTokenFile: "/tmp/mine"), context: Self.prod)
        #expect(s.prometheus?.url == "https://prom.prod:9090" && s.prometheus?.tokenFile == "/tmp/mine")
    }

    @Test func thePrometheusTokenIsReadFromItsFileAndOnlyThere() throws {
        let read = Mutex<[String]>([])
        let s = try SourceSettings.resolve(SourceFlags(timeout: 1.5), context: Self.prod)
        let sources = try s.metricsSources { file throws(ConfigError) in read.withLock { $0.append(file) }; return "s3cret" }
        #expect(read.withLock { $0 } == ["/etc/tower/prom.token"])
        let prom = try #require(sources.first as? PrometheusMetricsSource)
        #expect(prom.client.baseURL == "https://prom.prod:9090" && prom.client.timeout == .milliseconds(1500) && prom.interval == 7)
        #expect(prom.profile.kind == .envoy && prom.profile.queries[.requestRate] == "sum by (endpoint, version) (x)")
        let scrape = try #require(sources.last as? ScrapeMetricsSource)
        #expect(scrape.urls == ["http://10.0.0.5:9901/stats/prometheus"] && scrape.profile == .envoy && scrape.interval == 7)
        #expect(!"\(sources)".contains("s3cret"))

        // No token file: no Authorization, and never $TOWER_TOKEN (that is the registry's).
        read.withLock { $0 = [] }
        _ = try SourceSettings.resolve(SourceFlags(prometheus: "http://p:9090"), context: nil).metricsSources { f throws(ConfigError) in
            read.withLock { $0.append(f) }; return "x"
        }
        #expect(read.withLock { $0 }.isEmpty)
    }

    @Test func anUnreadablePrometheusTokenFileIsSaidAtStartWithoutItsContents() throws {
        let dir = NSTemporaryDirectory() + "tower-tok-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "  \n".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir + "/empty")
        let empty = SourceSettings(prometheus: .init(url: "http://p", tokenFile: dir + "/empty", queries: [:]))
        #expect(throws: ConfigError("token file \(dir)/empty is empty")) { try empty.metricsSources() }
        let missing = SourceSettings(prometheus: .init(url: "http://p", tokenFile: dir + "/missing", queries: [:]))
        #expect(throws: ConfigError("cannot read token file \(dir)/missing")) { try missing.metricsSources() }
        try "s3cret\n".write(toFile: dir + "/ok", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir + "/ok")
        let ok = SourceSettings(prometheus: .init(url: "http://p", tokenFile: dir + "/ok", queries: [:]))
        #expect(try ok.metricsSources().count == 1)
    }

    @Test(arguments: [
        (SourceFlags(profile: "istio"), "unknown metrics profile 'istio'; known: generic, envoy"),
        (SourceFlags(traces: "honeycomb=http://h"), "unknown trace backend 'honeycomb'; known: jaeger, tempo, zipkin"),
        (SourceFlags(traces: "zipkin"), "--traces must be KIND=URL"),
        (SourceFlags(scrape: []), "--scrape needs at least one URL"),
        (SourceFlags(interval: 0), "the interval must be a number of seconds above 0"),
        (SourceFlags(timeout: -2), "the timeout must be a number of seconds above 0"),
        (SourceFlags(prometheus: " "), "--prometheus is empty"),
    ])
    func badFlagsAreClearErrors(_ flags: SourceFlags, _ expected: String) {
        do {
            _ = try SourceSettings.resolve(flags, context: nil)
            Issue.record("accepted \(flags)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func aQueryOverrideIsCheckedAgainstTheProfileWhateverItsOrigin() throws {
        var ctx = Self.prod
        ctx.metrics?.queries = ["bucketRate": "sum by (endpoint, version, le) (rate(x_bucket[$window]))"]
        let s = try SourceSettings.resolve(SourceFlags(profile: "generic"), context: ctx)
        let prom = try #require(try s.metricsSources { _ throws(ConfigError) in "t" }.first as? PrometheusMetricsSource)
        #expect(prom.profile.kind == .generic && prom.profile.queries[.bucketRate] == "sum by (endpoint, version, le) (rate(x_bucket[1m]))")
    }
}
