import Foundation
import Hummingbird
import TowerDomain
import TowerRollouts

/// The rollout calls of DESIGN §4/§11. The loop (`RolloutController`) does the steps; these start a
/// rollout, show it, and record what people ask of it.
struct RolloutRoutes {
    let store: RegistryStore
    let metrics: RegistryMetrics

    func register(on router: Router<RegistryContext>) {
        let v1 = router.group("v1")
        v1.post("endpoints/{name}/rollouts") { req, ctx in
            let p = try ctx.require(.operator)
            let name = try ctx.parameters.require("name")
            let body = try await decode(RolloutStartRequest.self, from: req, context: ctx)
            let r = try await store.startRollout(endpoint: name, request: body, principal: p)
            metrics.change("rollout-start")
            ctx.logger.notice("rollout started", metadata: [
                "actor": .string(p.name), "endpoint": .string(name), "rollout": .stringConvertible(r.id),
                "runbook": .string(r.runbook.name), "target": .string(r.target), "baseline": .string(r.baseline),
            ])
            var response = try await status(name)
            response.status = .created
            return response
        }
        v1.get("rollouts") { _, ctx in
            _ = try ctx.require(.viewer)
            return json(try Wire.encoder().encode(try await store.rolloutList()))
        }
        v1.get("endpoints/{name}/rollout") { _, ctx in
            _ = try ctx.require(.viewer)
            return try await status(try ctx.parameters.require("name"))
        }
        v1.post("endpoints/{name}/rollout/{action}") { req, ctx in
            let p = try ctx.require(.operator)
            let name = try ctx.parameters.require("name")
            let action = try ctx.parameters.require("action")
            guard ["pause", "resume", "promote", "abort"].contains(action) else {
                throw RoutingError.notFound("no rollout action '\(Names.printable(action))'; the actions are pause, resume, promote and abort")
            }
            let body = try await decode(RolloutActionRequest.self, from: req, context: ctx)
            if let problem = Reason.problem(body.reason) { throw RoutingError.invalid(problem) }
            guard store.endpoint(name) != nil else { throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'") }
            guard let id = try store.activeRolloutID(endpoint: name) else {
                throw RoutingError.conflict("endpoint '\(name)' has no rollout running or paused to \(action)")
            }
            let who = p.name, reason = body.reason
            try await store.mutateRollout(id: id) { r, e, now, apply in
                do {
                    switch action {
                    case "pause": try r.pause(by: who, reason: reason, now: now)
                    case "resume": try r.resume(by: who, reason: reason, now: now)
                    case "promote": try r.promote(by: who, reason: reason, now: now)
                    default:
                        try RolloutExecutor.abort(&r, endpoint: e, by: who,
                                                  reason: "abort by \(who): \(reason) (runbook \(r.runbook.name), \(r.stepLabel(r.step)))",
                                                  now: now, apply: apply)
                    }
                } catch let refusal as RolloutRefusal {
                    throw RoutingError.conflict(refusal.description)
                }
            }
            metrics.change("rollout-\(action)")
            ctx.logger.notice("rollout \(action)", metadata: ["actor": .string(who), "endpoint": .string(name), "rollout": .stringConvertible(id)])
            return try await status(name)
        }
    }

    private func status(_ name: String) async throws -> Response {
        json(try Wire.encoder().encode(try await store.rolloutStatus(endpoint: name)))
    }
}
