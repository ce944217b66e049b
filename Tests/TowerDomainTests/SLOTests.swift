import Foundation
import Testing
@testable import TowerDomain

@Suite struct SLOTests {
    static let alpha = SLO(availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: "30d")

    @Test func theDemoSLOIsValidAndReadsItsPeriod() {
        #expect(Self.alpha.problem == nil)
        #expect(Self.alpha.periodSeconds == 30 * 86_400)
        #expect(SLO(availability: 0.99).periodSeconds == 30 * 86_400, "no period means the default 30d")
        #expect(SLO(availability: 0.99, period: "12h").periodSeconds == 12 * 3_600)
        #expect(SLO(latencyMs: 250.5, latencyTarget: 0.95).problem == nil, "a latency objective alone is enough")
    }

    @Test(arguments: [
        (SLO(), "slo needs at least one objective"),
        (SLO(period: "30d"), "slo needs at least one objective"),
        (SLO(availability: 1), "slo.availability is 1; it must be a share between 0 and 1, exclusive"),
        (SLO(availability: 0), "slo.availability is 0;"),
        (SLO(availability: 99.9), "slo.availability is 99.9;"),
        (SLO(availability: -0.5), "slo.availability is -0.5;"),
        (SLO(availability: .nan), "slo.availability is nan;"),
        (SLO(latencyMs: 300, latencyTarget: 1.0), "slo.latencyTarget is 1;"),
        (SLO(latencyMs: 0, latencyTarget: 0.99), "slo.latencyMs is 0; it must be a number of milliseconds greater than 0"),
        (SLO(latencyMs: -5, latencyTarget: 0.99), "slo.latencyMs is -5;"),
        (SLO(latencyMs: .infinity, latencyTarget: 0.99), "slo.latencyMs is inf;"),
        (SLO(latencyMs: 300), "slo.latencyMs needs slo.latencyTarget"),
        (SLO(availability: 0.999, latencyTarget: 0.99), "slo.latencyTarget needs slo.latencyMs"),
        (SLO(availability: 0.999, period: "30"), "slo.period '30' must be a whole number of days or hours"),
        (SLO(availability: 0.999, period: "1w"), "slo.period '1w' must be"),
        (SLO(availability: 0.999, period: "030d"), "slo.period '030d' must be"),
        (SLO(availability: 0.999, period: "-1d"), "slo.period '-1d' must be"),
        (SLO(availability: 0.999, period: "0h"), "slo.period '0h' must be"),
        (SLO(availability: 0.999, period: "91d"), "slo.period is 91d; it must be from 1h to 90d"),
        (SLO(availability: 0.999, period: "2161h"), "slo.period is 2161h;"),
    ])
    func invalidSLOsAreNamedByField(slo: SLO, expected: String) {
        let problem = slo.problem
        #expect(problem?.hasPrefix(expected) == true || problem?.contains(expected) == true, "problem was: \(problem ?? "none")")
    }

    @Test func periodBoundsAreInclusive() {
        #expect(SLO(availability: 0.9, period: "1h").problem == nil)
        #expect(SLO(availability: 0.9, period: "90d").problem == nil)
        #expect(SLO(availability: 0.9, period: "2160h").problem == nil)
    }

    @Test func notationListsOnlyDeclaredFieldsWithShortestNumbers() {
        #expect(Self.alpha.notation == "{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")
        #expect(SLO(availability: 0.99995).notation == "{availability: 0.99995}")
        #expect(SLO(latencyMs: 250.5, latencyTarget: 0.9).notation == "{latencyMs: 250.5, latencyTarget: 0.9}")
    }

    @Test func jsonIsCamelCaseAndRoundTrips() throws {
        let json = String(decoding: try Wire.encoder().encode(Self.alpha), as: UTF8.self)
        #expect(json == #"{"availability":0.999,"latencyMs":300,"latencyTarget":0.99,"period":"30d"}"#)
        #expect(try Wire.decoder().decode(SLO.self, from: Data(json.utf8)) == Self.alpha)
        #expect(String(decoding: try Wire.encoder().encode(SLO(availability: 0.9)), as: UTF8.self) == #"{"availability":0.9}"#)
    }
}

@Suite struct EndpointSpecFieldTests {
    func alpha(baseline: String? = "v1", slo: SLO? = SLOTests.alpha) throws -> Endpoint {
        var e = try Fx.endpoint([Fx.version("v1", 90), Fx.version("v2", 10)])
        e.baseline = baseline
        e.slo = slo
        try e.validate()
        return e
    }

    @Test func theBaselineMustBeOneOfTheVersions() throws {
        #expect(throws: RoutingError.invalid("baseline 'v9' is not a version of 'alpha'; it has v1, v2")) {
            try self.alpha(baseline: "v9")
        }
        #expect(throws: RoutingError.self) { try self.alpha(slo: SLO(availability: 2)) }
        #expect(try alpha().baseline == "v1")
    }

    @Test func anEndpointWithoutThemEncodesAsBefore() throws {
        let plain = try alpha(baseline: nil, slo: nil)
        let json = String(decoding: try Wire.encoder().encode(plain), as: UTF8.self)
        #expect(!json.contains("baseline") && !json.contains("slo"))
        #expect(try Wire.decoder().decode(Endpoint.self, from: Data(json.utf8)) == plain)
    }

    @Test func theyRoundTripAndDecodingChecksThem() throws {
        let e = try alpha()
        let json = String(decoding: try Wire.encoder().encode(e), as: UTF8.self)
        #expect(json.contains(#""baseline":"v1""#) && json.contains(#""slo":{"availability":0.999,"latencyMs":300,"latencyTarget":0.99,"period":"30d"}"#))
        #expect(try Wire.decoder().decode(Endpoint.self, from: Data(json.utf8)) == e)
        let bad = json.replacingOccurrences(of: #""baseline":"v1""#, with: #""baseline":"v7""#)
        #expect(throws: DecodingError.self) { try Wire.decoder().decode(Endpoint.self, from: Data(bad.utf8)) }
    }

    /// Routing changes move weights and states; the spec's baseline and SLO are not theirs to change.
    @Test func everyRoutingChangeKeepsThem() throws {
        let e = try alpha()
        let other = try alpha(baseline: "v2", slo: SLO(availability: 0.9))
        let changes: [RoutingChange] = [.shift(["v1": 50, "v2": 50]), .drainVersion("v2"), .drainEndpoint, .restore(other)]
        for change in changes {
            let after = try e.applying(change, now: Fx.t0, role: .operator)
            #expect(after.baseline == "v1" && after.slo == SLOTests.alpha, "\(change) lost or replaced them")
        }
        let drained = try e.applying(.drainVersion("v2"), now: Fx.t0, role: .operator)
        let undrained = try drained.applying(.undrainVersion("v2"), now: Fx.t0, role: .operator)
        #expect(undrained.baseline == "v1" && undrained.slo == SLOTests.alpha)
    }

    @Test func theSummarySaysWhatASpecChangeDidToThem() throws {
        let before = try alpha(baseline: nil, slo: nil)
        let after = try alpha()
        #expect(ChangeSummary.describe(before: before, after: after)
                == "baseline none→v1, slo none→{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")
        #expect(ChangeSummary.describe(before: nil, after: after)
                == "created: v1 90, v2 10; baseline v1, slo {availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")
        #expect(ChangeSummary.describe(before: after, after: after) == "no routing change")
    }

    @Test func specFieldsDecodeFromYAMLShapedJSON() throws {
        let json = #"{"name":"alpha","path":"/a","owner":"o","versions":[],"baseline":"v1","slo":{"availability":0.999,"period":"30d"}}"#
        let spec = try Wire.decoder().decode(EndpointSpec.self, from: Data(json.utf8))
        #expect(spec.baseline == "v1" && spec.slo == SLO(availability: 0.999, period: "30d"))
    }
}

@Suite struct AuditSpecFieldTests {
    static func entry(sloBefore: String? = nil, sloAfter: String? = nil, baselineBefore: String? = nil, baselineAfter: String? = nil) -> AuditEntry {
        AuditEntry(seq: 1, time: Fx.t0, actor: "ada", role: .admin, action: .update, endpoint: "alpha", version: nil,
                   fromRevision: 1, toRevision: 2, reason: "set SLO", weightsBefore: ["v1": 100], weightsAfter: ["v1": 100],
                   override: false, summary: "s", sloBefore: sloBefore, sloAfter: sloAfter, baselineBefore: baselineBefore,
                   baselineAfter: baselineAfter, prevHash: AuditEntry.genesisHash)
    }

    @Test func unsetFieldsAreLeftOutOfTheHashedForm() {
        let plain = Self.entry()
        #expect(!plain.canonicalJSON.contains("slo") && !plain.canonicalJSON.contains("baseline"))
        // Pinned: the hashed form of an entry without the new fields is the one every stored chain uses.
        #expect(plain.canonicalJSON == #"{"action":"update","actor":"ada","endpoint":"alpha","fromRevision":1,"override":false,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","reason":"set SLO","role":"admin","seq":1,"summary":"s","time":"2026-11-18T11:06:40.000Z","toRevision":2,"weightsAfter":{"v1":100},"weightsBefore":{"v1":100}}"#)
    }

    @Test func setFieldsAreHashedSoEditingThemBreaksTheChain() throws {
        let e = Self.entry(sloAfter: SLOTests.alpha.notation, baselineBefore: "v2", baselineAfter: "v1")
        #expect(e.canonicalJSON.contains(#""baselineAfter":"v1","baselineBefore":"v2","#))
        #expect(e.canonicalJSON.contains(#""sloAfter":"{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}","#))
        #expect(AuditEntry.verifyChain([e]) == nil)
        var edited = e
        edited.sloAfter = "{availability: 0.9}"
        #expect(AuditEntry.verifyChain([edited])?.seq == 1)
        var stripped = e
        stripped.baselineBefore = nil
        #expect(AuditEntry.verifyChain([stripped])?.seq == 1)
        // The JSON form carries them too, and only when set.
        let json = String(decoding: try Wire.encoder().encode(e), as: UTF8.self)
        #expect(json.contains(#""sloAfter":"#) && !json.contains("sloBefore"))
        #expect(try Wire.decoder().decode(AuditEntry.self, from: Data(json.utf8)) == e)
    }
}
