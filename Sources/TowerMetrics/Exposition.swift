import Foundation

// The data model of a parsed metrics page (Prometheus text 0.0.4 or OpenMetrics 1.0), shared by the
// parser (ExpositionParser.swift) and the scrape derivation (ScrapeWindow.swift).

/// Which exposition format a body is in. Chosen from the response's `Content-Type`, as Prometheus
/// does: the two formats differ in ways that change values (timestamps are milliseconds in 0.0.4
/// and seconds in OpenMetrics), so guessing from the body would be wrong.
public enum ExpositionFormat: String, Sendable, Equatable, CaseIterable {
    /// `text/plain; version=0.0.4` (also Prometheus 3's `version=1.0.0`, which only adds quoted names).
    case text
    /// `application/openmetrics-text; version=1.0.0`.
    case openMetrics

    /// What to send as `Accept` when scraping: OpenMetrics preferred, text accepted.
    public static let acceptHeader = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"

    /// The format named by a `Content-Type` header value, or nil when it names neither text format
    /// (missing, protobuf, HTML error pages …). The caller decides the fallback; Prometheus 3 fails
    /// the scrape unless `fallback_scrape_protocol` is set, and `.text` is the usual fallback.
    public init?(contentType: String?) {
        guard let contentType else { return nil }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch mediaType.trimmingCharacters(in: .whitespaces).lowercased() {
        case "application/openmetrics-text": self = .openMetrics
        case "text/plain": self = .text
        default: return nil
        }
    }
}

/// A metric family's type. The text format has the first five (`untyped` is read as `.unknown`);
/// OpenMetrics adds the rest.
public enum MetricType: String, Sendable, Equatable, CaseIterable {
    case counter, gauge, histogram, summary, unknown
    case gaugeHistogram = "gaugehistogram", stateSet = "stateset", info
}

public struct ExpositionLabel: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// An OpenMetrics exemplar (` # {trace_id="…"} 0.67 1520879607.789` after a sample's value).
public struct ExpositionExemplar: Sendable, Equatable {
    public var labels: [ExpositionLabel]
    public var value: Double
    /// Milliseconds since the epoch (the wire has seconds).
    public var timestampMs: Int64?
    public init(labels: [ExpositionLabel], value: Double, timestampMs: Int64? = nil) {
        self.labels = labels; self.value = value; self.timestampMs = timestampMs
    }
}

/// One sample line. `_created`, `_bucket`, `_sum`, `_count`, `_gsum`, `_gcount` and `_info` series
/// are samples like any other, under their full name; `type` is that of the family they belong to.
public struct ExpositionSample: Sendable, Equatable {
    public var name: String
    /// In the order written. Duplicate names are rejected by the parser.
    public var labels: [ExpositionLabel]
    public var value: Double
    /// Milliseconds since the epoch, whatever the format wrote (0.0.4: ms; OpenMetrics: seconds).
    public var timestampMs: Int64?
    /// The type of the family that the last `# TYPE` line declared, if this sample belongs to it
    /// (same name, or name plus a suffix that type allows); otherwise `.unknown`.
    public var type: MetricType
    public var exemplar: ExpositionExemplar?

    public init(name: String, labels: [ExpositionLabel] = [], value: Double, timestampMs: Int64? = nil,
                type: MetricType = .unknown, exemplar: ExpositionExemplar? = nil) {
        self.name = name; self.labels = labels; self.value = value; self.timestampMs = timestampMs
        self.type = type; self.exemplar = exemplar
    }

    public func label(_ name: String) -> String? {
        for l in labels where l.name == name { return l.value }
        return nil
    }
}

/// What `# TYPE`, `# HELP` and `# UNIT` said about one family.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var type: MetricType
    public var help: String?
    public var unit: String?
    public init(name: String, type: MetricType = .unknown, help: String? = nil, unit: String? = nil) {
        self.name = name; self.type = type; self.help = help; self.unit = unit
    }
}

public struct ExpositionDocument: Sendable {
    public var format: ExpositionFormat
    public var samples: [ExpositionSample]
    /// In order of first mention.
    public var families: [MetricFamily]
    /// Lines skipped under `.skipInvalidLines` (the first `maxWarnings` of them) and document-level
    /// problems such as a missing `# EOF`. Always empty under `.strict`, which throws instead.
    public var warnings: [ExpositionError]
    /// How many lines were skipped in all, including those beyond `warnings`.
    public var skippedLines: Int

    public init(format: ExpositionFormat, samples: [ExpositionSample] = [], families: [MetricFamily] = [],
                warnings: [ExpositionError] = [], skippedLines: Int = 0) {
        self.format = format; self.samples = samples; self.families = families
        self.warnings = warnings; self.skippedLines = skippedLines
    }

    public func family(_ name: String) -> MetricFamily? { families.first { $0.name == name } }
}

/// Why a body (or one line of it) could not be read. `line` is 1-based; `excerpt` is the start of the
/// offending line with control characters and invalid UTF-8 replaced, safe to print in a terminal.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case syntax               // a token is missing or malformed
        case invalidValue         // the sample or exemplar value is not a number
        case invalidTimestamp
        case invalidType          // `# TYPE` names a type that this format does not have
        case invalidUTF8          // a label value, quoted name or HELP text is not UTF-8
        case duplicateLabel
        case lineTooLong          // longer than `maxLineBytes`
        case missingEOF           // OpenMetrics body without `# EOF`: truncated
        case contentAfterEOF
        case missingFinalNewline  // text body whose last line has no `\n`: likely truncated
        case exemplarNotAllowed   // exemplars exist only in OpenMetrics
    }

    public var line: Int
    public var kind: Kind
    public var detail: String
    public var excerpt: String

    public init(line: Int, kind: Kind, detail: String, excerpt: String = "") {
        self.line = line; self.kind = kind; self.detail = detail; self.excerpt = excerpt
    }

    public var description: String {
        excerpt.isEmpty ? "line \(line): \(detail)" : "line \(line): \(detail): \(excerpt)"
    }
}
