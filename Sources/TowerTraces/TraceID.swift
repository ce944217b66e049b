import Foundation

/// Trace and span IDs in the one form Tower keeps: lower-case hex, trace 32 digits, span 16.
///
/// The wire uses hex (Jaeger, Zipkin, OTLP JSON; 16-digit trace IDs for 64-bit traces, any case)
/// or base64 of the raw bytes (Tempo and other gogo-jsonpb output). The two never collide: hex IDs
/// are 16 or 32 characters, base64 of 8 or 16 bytes is 11/12 or 22/24.
public enum TraceIDs {
    /// A trace ID as 32 lower-case hex digits; 64-bit IDs are left-padded with zeros.
    public static func trace(_ raw: String) throws(TraceSourceError) -> String {
        guard let bytes = bytes(raw), bytes.count == 16 || bytes.count == 8 else {
            throw .invalidID("'\(shown(raw))' is not a trace ID (16 or 32 hex digits, or base64 of 8 or 16 bytes)")
        }
        guard bytes.contains(where: { $0 != 0 }) else { throw .invalidID("the trace ID is all zeros") }
        return String(repeating: "0", count: 32 - 2 * bytes.count) + hex(bytes)
    }

    /// A span ID as 16 lower-case hex digits.
    public static func span(_ raw: String) throws(TraceSourceError) -> String {
        guard let bytes = bytes(raw), bytes.count == 8 else {
            throw .invalidID("'\(shown(raw))' is not a span ID (16 hex digits, or base64 of 8 bytes)")
        }
        guard bytes.contains(where: { $0 != 0 }) else { throw .invalidID("the span ID is all zeros") }
        return hex(bytes)
    }

    /// The IDs opening every decoded span, checked alike for every backend: both present, then all
    /// well-formed, refused as `.malformed` saying where (`at`) and in the backend's own field names.
    /// `parent` gets the trace ID in its one form (Jaeger matches its references against it).
    static func spanIDs(trace rawTrace: String?, span rawSpan: String?, fields: (trace: String, span: String), at: String,
                        parent: (_ traceID: String) throws -> String?) throws(TraceSourceError) -> (trace: String, span: String, parent: String?) {
        guard let rawTrace, !rawTrace.isEmpty else { throw .malformed("\(at): no \(fields.trace)") }
        guard let rawSpan, !rawSpan.isEmpty else { throw .malformed("\(at): no \(fields.span)") }
        do {
            let traceID = try trace(rawTrace)
            return (traceID, try span(rawSpan), try parent(traceID))
        } catch {
            throw .malformed("\(at): \(error)")
        }
    }

    /// A parent span ID, where absent, empty and all-zero all mean "no parent" (OTLP and Jaeger
    /// write the root's parent those ways).
    static func parent(_ raw: String?) throws(TraceSourceError) -> String? {
        guard let raw, !raw.isEmpty else { return nil }
        if let b = bytes(raw), b.count == 8, b.allSatisfy({ $0 == 0 }) { return nil }
        return try span(raw)
    }

    /// Tempo's search results print trace IDs as hex with leading zeros trimmed
    /// (`d6e9329d67b6146a`), so any 1…32 hex digits are read as hex there, never as base64.
    static func trimmedHexTrace(_ raw: String) throws(TraceSourceError) -> String {
        guard (1...32).contains(raw.utf8.count), raw.utf8.allSatisfy(isHexDigit) else {
            throw .invalidID("'\(shown(raw))' is not a hex trace ID")
        }
        return try trace(String(repeating: "0", count: 32 - raw.utf8.count) + raw)
    }

    private static func bytes(_ raw: String) -> [UInt8]? {
        let u = Array(raw.utf8)
        if (u.count == 16 || u.count == 32) && u.allSatisfy(isHexDigit) {
            return stride(from: 0, to: u.count, by: 2).map { nibble(u[$0]) << 4 | nibble(u[$0 + 1]) }
        }
        // Base64, standard or URL alphabet, padded or not; Foundation wants standard and padded.
        guard (11...24).contains(u.count) else { return nil }
        var s = String(raw.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while s.utf8.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c)
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        c <= 57 ? c - 48 : (c | 0x20) - 87
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A bad ID as it may be shown in a message: short, printable.
    static func shown(_ raw: String) -> String {
        let clean = String(raw.unicodeScalars.prefix(48).map { $0.properties.isWhitespace || $0.value < 32 || $0.value == 127 ? "?" : Character($0) })
        return raw.unicodeScalars.count > 48 ? clean + "…" : clean
    }
}
