import TowerDomain

/// An Envoy bootstrap that takes its clusters (CDS) and routes (RDS) from the registry over
/// REST-JSON xDS: Envoy polls `POST /v3/discovery:clusters` and `:routes` every `refreshDelay`
/// (plus up to as much again of jitter). Its REST fetcher sends no headers, so the token travels
/// in `node.metadata.tower_token`; the file therefore holds a secret and should be written with
/// mode 0600.
public enum EnvoyBootstrap {
    /// The static cluster through which Envoy reaches the registry.
    public static let registryClusterName = "tower_registry"

    public static func yaml(nodeID: String, nodeCluster: String, token: String?, registryHost: String, registryPort: Int,
                            listenerPort: Int, adminPort: Int, refreshDelay: Double = 0.5, statsFlushSeconds: Int = 1,
                            listenerAddress: String = "127.0.0.1", zipkin: (host: String, port: Int)? = nil,
                            tls: UpstreamTLS? = nil) -> String {
        yaml(nodeID: nodeID, nodeCluster: nodeCluster, token: token, registries: [(registryHost, registryPort)], listenerPort: listenerPort,
             adminPort: adminPort, refreshDelay: refreshDelay, statsFlushSeconds: statsFlushSeconds, listenerAddress: listenerAddress,
             zipkin: zipkin, tls: tls)
    }

    /// With several registry replicas, the registry cluster has an endpoint for each and checks
    /// their `/readyz` every second, so a dead replica leaves the rotation within about two polls
    /// rather than failing every other one.
    public static func yaml(nodeID: String, nodeCluster: String, token: String?, registries: [(host: String, port: Int)],
                            listenerPort: Int, adminPort: Int, refreshDelay: Double = 0.5, statsFlushSeconds: Int = 1,
                            listenerAddress: String = "127.0.0.1", zipkin: (host: String, port: Int)? = nil,
                            tls: UpstreamTLS? = nil) -> String {
        // Strings are written as JSON strings, which YAML reads as double-quoted scalars: a node id
        // or token cannot break out of its field whatever it holds.
        func q(_ s: String) -> String { String(decoding: CanonicalJSON.string(s).bytes, as: UTF8.self) }
        let hosts = registries.map { r in
            (host: r.host.hasPrefix("[") && r.host.hasSuffix("]") ? String(r.host.dropFirst().dropLast()) : r.host, port: r.port)
        }
        let allAddresses = hosts.allSatisfy { Upstream.isIPv4($0.host) || Upstream.isIPv6($0.host) }
        let endpoints = hosts.map { h in
            "        - endpoint:\n            address:\n              socket_address: {address: \(q(h.host)), port_value: \(h.port)}"
        }.joined(separator: "\n")
        let healthChecks = hosts.count < 2 ? "" : """
                health_checks:
                - timeout: 1s
                  interval: 1s
                  unhealthy_threshold: 1
                  healthy_threshold: 1
                  http_health_check: {path: /readyz}

            """
        let configSource = """
                resource_api_version: V3
                api_config_source:
                  api_type: REST
                  transport_api_version: V3
                  cluster_names: [\(registryClusterName)]
                  refresh_delay: \(duration(refreshDelay))
                  request_timeout: 1s
            """
        var out = """
            # Envoy bootstrap written by `tower-registry envoy-bootstrap`: clusters and routes come from
            # the registry (REST-JSON xDS, polled). It may hold a registry token: keep it private.
            node:
              id: \(q(nodeID))
              cluster: \(q(nodeCluster))

            """
        if let token {
            out += """
                  metadata:
                    tower_token: \(q(token))

                """
        }
        out += """
            admin:
              address:
                socket_address: {address: 127.0.0.1, port_value: \(adminPort)}
            stats_flush_interval: \(max(1, statsFlushSeconds))s
            dynamic_resources:
              cds_config:
            \(configSource)
            static_resources:
              clusters:
              - name: \(registryClusterName)
                type: \(allAddresses ? "STATIC" : "STRICT_DNS")
                connect_timeout: 1s
                load_assignment:
                  cluster_name: \(registryClusterName)
                  endpoints:
                  - lb_endpoints:
            \(endpoints)
            \(healthChecks)\(tls.map { transportSocket($0, hosts: hosts.map(\.host)) } ?? "")\(zipkin.map { z in tracesCluster(host: z.host, port: z.port) } ?? "")\(listenersKey)
              - name: ingress
                address:
                  socket_address: {address: \(q(listenerAddress)), port_value: \(listenerPort)}
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: ingress
            \(zipkin == nil ? "" : tracing)\(rdsKey)
                        route_config_name: \(XDS.defaultRouteConfigName)
                        config_source:
            \(indent(configSource, by: 10))
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router

            """
        return out
    }

    /// How Envoy reaches a registry that serves TLS: the CA its certificate must chain to, and
    /// Envoy's own certificate when the registry maps client certificates to identities (then the
    /// bootstrap needs no token).
    public struct UpstreamTLS: Sendable, Equatable {
        public var caFile: String
        public var certFile: String?
        public var keyFile: String?
        public init(caFile: String, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile; self.certFile = certFile; self.keyFile = keyFile
        }
    }

    /// The registry cluster's UpstreamTlsContext, at the indentation of the cluster's fields: TLS
    /// 1.2 at least, the registry's certificate checked against the CA and against the host Envoy
    /// dials (as a SAN, IP or DNS), and SNI when the host is a name.
    /// With several replicas, one cluster has one TLS context: the certificate must name one of
    /// the replicas, and SNI is sent only when they all share one name.
    static func transportSocket(_ tls: UpstreamTLS, hosts: [String]) -> String {
        func q(_ s: String) -> String { String(decoding: CanonicalJSON.string(s).bytes, as: UTF8.self) }
        func isAddress(_ h: String) -> Bool { Upstream.isIPv4(h) || Upstream.isIPv6(h) }
        var lines = [
            "    transport_socket:",
            "      name: envoy.transport_sockets.tls",
            "      typed_config:",
            "        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        ]
        let names = Set(hosts.filter { !isAddress($0) })
        if names.count == 1, hosts.allSatisfy({ !isAddress($0) }), let name = names.first { lines.append("        sni: \(q(name))") }
        lines += [
            "        common_tls_context:",
            "          tls_params: {tls_minimum_protocol_version: TLSv1_2}",
            "          validation_context:",
            "            trusted_ca: {filename: \(q(tls.caFile))}",
            "            match_typed_subject_alt_names:",
        ]
        var seen = Set<String>()
        for host in hosts where seen.insert(host).inserted {
            lines += [
                "            - san_type: \(isAddress(host) ? "IP_ADDRESS" : "DNS")",
                "              matcher: {exact: \(q(host))}",
            ]
        }
        if let cert = tls.certFile, let key = tls.keyFile {
            lines += [
                "          tls_certificates:",
                "          - certificate_chain: {filename: \(q(cert))}",
                "            private_key: {filename: \(q(key))}",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // Interpolated lines carry their own indentation, so the line after them starts at column 0.
    static let listenersKey = "  listeners:"
    static let rdsKey = "          rds:"

    /// The collector Envoy reports its spans to (Zipkin v2 JSON over HTTP).
    public static let tracesClusterName = "tower_traces"

    /// Envoy's own span for every request, reported to a Zipkin v2 collector, with B3 headers to
    /// the model server so its spans join the same trace. `collector_endpoint_version` must be
    /// given: its zero value is a rejected placeholder (wire-formats §5.5). Lines at the HCM's
    /// indentation.
    static let tracing = [
        "          tracing:",
        "            provider:",
        "              name: envoy.tracers.zipkin",
        "              typed_config:",
        "                \"@type\": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
        "                collector_cluster: \(tracesClusterName)",
        "                collector_endpoint: /api/v2/spans",
        "                collector_endpoint_version: HTTP_JSON",
        "                trace_id_128bit: true",
    ].joined(separator: "\n") + "\n"

    /// The collector's static cluster, at the indentation of the other static clusters.
    static func tracesCluster(host: String, port: Int) -> String {
        let address = Upstream.isIPv4(host) || Upstream.isIPv6(host)
        let q = String(decoding: CanonicalJSON.string(host).bytes, as: UTF8.self)
        return [
            "  - name: \(tracesClusterName)",
            "    type: \(address ? "STATIC" : "STRICT_DNS")",
            "    connect_timeout: 1s",
            "    load_assignment:",
            "      cluster_name: \(tracesClusterName)",
            "      endpoints:",
            "      - lb_endpoints:",
            "        - endpoint:",
            "            address:",
            "              socket_address: {address: \(q), port_value: \(port)}",
        ].joined(separator: "\n") + "\n"
    }

    /// A protobuf JSON duration to the millisecond ("0.5s", "1s"); at least 10 ms, since Envoy
    /// would otherwise poll in a tight loop.
    static func duration(_ seconds: Double) -> String {
        let ms = seconds.isFinite ? max(10, Int((seconds * 1000).rounded())) : 1000
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        var frac = String(ms % 1000)
        frac = String(repeating: "0", count: 3 - frac.count) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        return "\(ms / 1000).\(frac)s"
    }

    static func indent(_ text: String, by n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }
}
