import Foundation
import Testing
import TowerSim

/// Envoy's admin answers as Envoy writes them (RoutesConfigDump.DynamicRouteConfig, snake_case;
/// `/stats` as `name: value` lines).
@Suite struct EnvoyAdminTests {
    static let dump = #"""
        {"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig","version_info":"3f2a",
         "route_config":{"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","name":"tower",
          "virtual_hosts":[{"name":"tower","domains":["*"],"routes":[
           {"name":"alpha","match":{"path_separated_prefix":"/v1/models/alpha"},
            "route":{"weighted_clusters":{"clusters":[{"name":"alpha--v1","weight":100},{"name":"alpha--v2"}]}}},
           {"name":"beta","match":{"path_separated_prefix":"/v1/models/beta"},"direct_response":{"status":503}}]}]},
         "last_updated":"2026-11-27T10:00:00.000Z"}]}
        """#

    @Test func routesAreReadAsEnvoyHoldsThem() {
        let body = Array(Self.dump.utf8)
        let alpha = EnvoyAdmin.route("alpha", configDump: body)
        #expect(alpha == .weighted(["alpha--v1": 100, "alpha--v2": 0]), "a weight left out is 0")
        #expect(alpha?.versions(of: "alpha") == ["v1": 100, "v2": 0])
        #expect(EnvoyAdmin.route("beta", configDump: body) == .direct(503))
        #expect(EnvoyAdmin.route("beta", configDump: body)?.versions(of: "beta") == nil)
        #expect(EnvoyAdmin.route("gamma", configDump: body) == nil)
        #expect(EnvoyAdmin.route("alpha", routeConfig: "other", configDump: body) == nil)
        #expect(EnvoyAdmin.route("alpha", configDump: Array("not json".utf8)) == nil)
    }

    @Test func countersAreReadFromStatsLines() {
        let text = "cluster.alpha--v1.upstream_rq_total: 405\ncluster.alpha--v2.upstream_rq_total: 35\nserver.version: 9e55\n"
        #expect(EnvoyAdmin.counters(text) == ["cluster.alpha--v1.upstream_rq_total": 405, "cluster.alpha--v2.upstream_rq_total": 35])
    }
}
