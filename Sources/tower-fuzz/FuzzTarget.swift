import TowerDomain
import TowerMetrics
import TowerTraces

/// The parsers that read bytes a remote party chose: each is a libFuzzer target. A target only has
/// to return (a value or a typed error); a crash, a trap or a sanitizer report is the finding.
enum FuzzTarget: String, CaseIterable {
    case exposition, openmetrics, prometheus, jaeger, tempo, zipkin, bundle

    func run(_ bytes: [UInt8]) {
        switch self {
        case .exposition:
            _ = try? ExpositionParser(format: .text, policy: .strict).parse(bytes)
            // The skip policy walks the error paths further: it must never throw on a bad line.
            _ = try? ExpositionParser(format: .text, policy: .skipInvalidLines).parse(bytes)
        case .openmetrics:
            _ = try? ExpositionParser(format: .openMetrics, policy: .strict).parse(bytes)
            _ = try? ExpositionParser(format: .openMetrics, policy: .skipInvalidLines).parse(bytes)
        case .prometheus:
            _ = try? PrometheusQueryResponse.decode(bytes)
        case .jaeger:
            _ = try? JaegerDecoder.decodeV3Traces(bytes)
            _ = try? JaegerDecoder.decodeV1Traces(bytes)
        case .tempo:
            _ = try? TempoDecoder.decodeSearch(bytes)
            _ = try? TempoDecoder.decodeTrace(bytes)
        case .zipkin:
            _ = try? ZipkinDecoder.decodeTraces(bytes)
            _ = try? ZipkinDecoder.decodeTrace(bytes)
        case .bundle:
            // The whole reading of a promotion bundle: strict parse, canonical form, decoding,
            // signature and digests. The canonical reader alone too, on bytes without the newline.
            _ = try? PromotionBundle.read(bytes)
            _ = try? CanonicalJSON.parse(bytes)
        }
    }
}
