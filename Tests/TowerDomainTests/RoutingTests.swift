import Foundation
import Testing
@testable import TowerDomain

@Suite struct EndpointInvariantTests {
    @Test func weightsOfServingVersionsMustAddUpTo100() throws {
        #expect(throws: RoutingError.invalid("the weights of serving versions add up to 90; they must add up to 100")) {
            try Fx.endpoint([Fx.version("v1", 80), Fx.version("v2", 10)])
        }
        _ = try Fx.endpoint([Fx.version("v1", 80), Fx.version("v2", 10)], state: .outOfService)
    }

    @Test func drainedVersionsCarryNoWeight() {
        #expect(throws: RoutingError.self) { try Fx.endpoint([Fx.version("v1", 80), Fx.version("v2", 20, state: .drained)]) }
    }

    @Test func namesAreRestricted() {
        for bad in ["", "Alpha", "al.pha", "al pha", "-alpha", "alpha-", "al--pha", String(repeating: "a", count: 64), "alpha\n"] {
            #expect(Names.problem(with: bad, kind: "endpoint") != nil, "\(bad) should be refused")
        }
        for good in ["alpha", "a", "fraud-score-2", String(repeating: "a", count: 63)] {
            #expect(Names.problem(with: good, kind: "endpoint") == nil)
        }
    }

    @Test func decodingRefusesAnEndpointThatBreaksTheInvariants() throws {
        var e = try Fx.endpoint([Fx.version("v1", 100)])
        e.versions[0].weight = 50
        let data = try Wire.encoder().encode(e)
        #expect(throws: DecodingError.self) { try Wire.decoder().decode(Endpoint.self, from: data) }
    }

    @Test func jsonRoundTripsExactly() throws {
        let e = try Fx.endpoint([Fx.version("v1", 70), Fx.version("v2", 30, gate: .failed)])
        let back = try Wire.decoder().decode(Endpoint.self, from: Wire.encoder().encode(e))
        #expect(back == e)
    }
}

@Suite struct RoutingChangeTests {
    let now = Fx.t0.addingTimeInterval(60)

    @Test func shiftSetsWeightsAndZeroesLeftOutVersions() throws {
        let e = try Fx.endpoint([Fx.version("v1", 90), Fx.version("v2", 10), Fx.version("v3", 0)])
        let next = try e.applying(.shift(["v1": 70, "v2": 30]), now: now, role: .operator)
        #expect(next.weights == ["v1": 70, "v2": 30, "v3": 0])
    }

    @Test func shiftRefusesBadWeights() throws {
        let e = try Fx.endpoint([Fx.version("v1", 90), Fx.version("v2", 10)])
        #expect(throws: RoutingError.invalid("the weights add up to 95; they must add up to 100")) {
            try e.applying(.shift(["v1": 90, "v2": 5]), now: now, role: .operator)
        }
        #expect(throws: RoutingError.invalid("weight of v1 is 110; a weight is a whole percent from 0 to 100")) {
            try e.applying(.shift(["v1": 110, "v2": -10]), now: now, role: .operator)
        }
        #expect(throws: RoutingError.invalid("endpoint 'alpha' has no version 'v9'; it has v1, v2")) {
            try e.applying(.shift(["v1": 90, "v9": 10]), now: now, role: .operator)
        }
    }

    @Test func gateRefusesMoreWeightForAFailedVersionUnlessAdminOverrides() throws {
        let e = try Fx.endpoint([Fx.version("v1", 100), Fx.version("v2", 0, gate: .failed)])
        #expect(throws: RoutingError.self) { try e.applying(.shift(["v1": 90, "v2": 10]), now: now, role: .operator) }
        #expect(throws: RoutingError.forbidden("only an admin may override an evaluation gate; your role is operator")) {
            try e.applying(.shift(["v1": 90, "v2": 10]), now: now, role: .operator, override: true)
        }
        let next = try e.applying(.shift(["v1": 90, "v2": 10]), now: now, role: .admin, override: true)
        #expect(next.gateOverrides(comparedTo: e) == ["v2"])
        // Taking weight away from a failed version is always allowed: that is what an incident needs.
        let less = try next.applying(.shift(["v1": 95, "v2": 5]), now: now, role: .operator)
        #expect(less.weights["v2"] == 5)
    }

    @Test func drainSharesTheWeightOutInProportion() throws {
        let e = try Fx.endpoint([Fx.version("v1", 60), Fx.version("v2", 30), Fx.version("v3", 10)])
        let next = try e.applying(.drainVersion("v3"), now: now, role: .operator)
        #expect(next.weights == ["v1": 67, "v2": 33, "v3": 0])
        #expect(next.version("v3")?.state == .draining)
        #expect(next.version("v3")?.drainingSince == now)
    }

    @Test func drainNeverFeedsAVersionWhoseGateFailed() throws {
        let e = try Fx.endpoint([Fx.version("v1", 100), Fx.version("v2", 0, gate: .failed)])
        #expect(throws: RoutingError.self) { try e.applying(.drainVersion("v1"), now: now, role: .operator) }
    }

    @Test func drainingBecomesDrainedAfterTheTimeout() throws {
        let e = try Fx.endpoint([Fx.version("v1", 100), Fx.version("v2", 0, state: .draining)])
        #expect(e.resolvingDrains(now: Fx.t0.addingTimeInterval(29), timeout: 30).version("v2")?.state == .draining)
        #expect(e.resolvingDrains(now: Fx.t0.addingTimeInterval(30), timeout: 30).version("v2")?.state == .drained)
        #expect(e.nextDrainDeadline(timeout: 30) == Fx.t0.addingTimeInterval(30))
    }

    @Test func undrainServesAgainAtWeightZero() throws {
        let e = try Fx.endpoint([Fx.version("v1", 100), Fx.version("v2", 0, state: .drained)])
        let next = try e.applying(.undrainVersion("v2"), now: now, role: .operator)
        #expect(next.version("v2")?.state == .serving)
        #expect(next.version("v2")?.weight == 0)
        #expect(throws: RoutingError.conflict("v1 is already serving")) { try e.applying(.undrainVersion("v1"), now: now, role: .operator) }
    }

    @Test func drainingTheWholeEndpointKeepsWeightsForUndrain() throws {
        let e = try Fx.endpoint([Fx.version("v1", 70), Fx.version("v2", 30)])
        let out = try e.applying(.drainEndpoint, now: now, role: .operator)
        #expect(out.state == .outOfService)
        #expect(throws: RoutingError.self) { try out.applying(.shift(["v1": 100]), now: now, role: .operator) }
        let back = try out.applying(.undrainEndpoint, now: now, role: .operator)
        #expect(back.state == .serving)
        #expect(back.weights == ["v1": 70, "v2": 30])
    }

    @Test func restoreBringsBackEarlierRouting() throws {
        let old = try Fx.endpoint([Fx.version("v1", 90), Fx.version("v2", 10)])
        let now2 = try old.applying(.drainVersion("v2"), now: now, role: .operator)
        let back = try now2.applying(.restore(old), now: now, role: .operator)
        #expect(back.weights == ["v1": 90, "v2": 10])
        #expect(back.version("v2")?.state == .serving)
    }

    @Test func restoreRefusesRoutingToAVersionThatIsGone() throws {
        let old = try Fx.endpoint([Fx.version("v0", 50), Fx.version("v1", 50)])
        let current = try Fx.endpoint([Fx.version("v1", 100)])
        #expect(throws: RoutingError.self) { try current.applying(.restore(old), now: now, role: .operator) }
    }
}
