import TowerDomain
import TowerMetrics
import TowerSources
import TowerTraces

/// The parsers that read bytes a remote party chose: each is a libFuzzer target. A target only has
/// to return (a value or a typed error); a crash, a trap or a sanitizer report is the finding.
enum FuzzTarget: String, CaseIterable {
    case exposition, openmetrics, prometheus, jaeger, tempo, zipkin
    /// Declarative endpoint specs (`tower apply -f`): files a pipeline's repository holds.
    case spec
    /// Signed promotion bundles (`tower promote import`): files carried between enclaves.
    case bundle

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
        case .spec:
            // Whatever the reader accepts, export must write so that it reads back the same: a
            // difference would make `tower diff` report changes forever.
            guard let specs = try? SpecFile.parse(String(decoding: bytes, as: UTF8.self)) else { return }
            let again = try? SpecFile.parse(SpecExport.yaml(specs))
            if again != specs { fatalError("spec export does not read back as what was read") }
        case .bundle:
            // The whole reading of a promotion bundle: strict parse, canonical form, decoding,
            // signature and digests. The canonical reader alone too, on bytes without the newline.
            _ = try? PromotionBundle.read(bytes)
            _ = try? CanonicalJSON.parse(bytes)
            // The fast reader may decline anything, but what it takes the general path must take
            // as the same bundle: otherwise a check would depend on which path a file went.
            let body = bytes.last == 0x0A ? Array(bytes.dropLast()) : bytes
            if let fast = PromotionBundle.decodeFast(body) {
                guard let general = try? PromotionBundle.decodeGeneral(body), general == fast else {
                    fatalError("the fast bundle reader took a file the general path refuses or reads otherwise")
                }
            }
        }
    }
}
