import Foundation

/// The fleet's metrics in the `generic` profile (DESIGN §5): `http_requests_total{endpoint,version,code}`
/// and `http_request_duration_seconds{endpoint,version}` as a classic histogram. Written by hand
/// rather than with swift-prometheus so that the exposition is byte-for-byte what the scrape tests
/// expect and label order is stable.
public struct SimMetrics: Sendable {
    public static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Key: Hashable, Comparable {
        var endpoint: String
        var version: String
        static func < (a: Key, b: Key) -> Bool { (a.endpoint, a.version) < (b.endpoint, b.version) }
    }

    struct Series {
        var codes: [Int: Double] = [:]
        /// Non-cumulative counts per bucket; the last slot is +Inf.
        var bucketCounts = [Double](repeating: 0, count: SimMetrics.buckets.count + 1)
        var sum: Double = 0
        var count: Double = 0
    }

    private var series: [Key: Series] = [:]

    public init() {}

    public mutating func record(endpoint: String, version: String, code: Int, seconds: Double) {
        let k = Key(endpoint: endpoint, version: version)
        var s = series[k] ?? Series()
        s.codes[code, default: 0] += 1
        let i = Self.buckets.firstIndex { seconds <= $0 } ?? Self.buckets.count
        s.bucketCounts[i] += 1
        s.sum += seconds
        s.count += 1
        series[k] = s
    }

    /// Prometheus text exposition 0.0.4.
    public func exposition() -> String {
        var out = "# HELP http_requests_total Requests served, by endpoint, version and status code.\n# TYPE http_requests_total counter\n"
        let keys = series.keys.sorted()
        for k in keys {
            for (code, n) in series[k]!.codes.sorted(by: { $0.key < $1.key }) {
                out += "http_requests_total{endpoint=\"\(k.endpoint)\",version=\"\(k.version)\",code=\"\(code)\"} \(Self.number(n))\n"
            }
        }
        out += "# HELP http_request_duration_seconds Time to answer a request.\n# TYPE http_request_duration_seconds histogram\n"
        for k in keys {
            let s = series[k]!
            let labels = "endpoint=\"\(k.endpoint)\",version=\"\(k.version)\""
            var cumulative = 0.0
            for (i, le) in Self.buckets.enumerated() {
                cumulative += s.bucketCounts[i]
                out += "http_request_duration_seconds_bucket{\(labels),le=\"\(Self.number(le))\"} \(Self.number(cumulative))\n"
            }
            out += "http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(Self.number(s.count))\n"
            out += "http_request_duration_seconds_sum{\(labels)} \(Self.number(s.sum))\n"
            out += "http_request_duration_seconds_count{\(labels)} \(Self.number(s.count))\n"
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
