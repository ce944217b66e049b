import Foundation
import Hummingbird
import NIOCore
import TowerDomain

/// What a registry accepts promotion bundles from: its configuration (`serve
/// --trust-promotion-keys FILE`), never a request's, so no client can add a key it trusts.
public struct PromotionOptions: Sendable {
    public var trusted: TrustedPromotionKeys
    public init(trusted: TrustedPromotionKeys = TrustedPromotionKeys()) { self.trusted = trusted }
}

/// The promotion calls of DESIGN §4/§13: a version's bundle content, and the import of a signed
/// bundle. The registry, not the CLI, verifies: the API is reachable without the CLI, and the
/// audit's "signed by" must be true whoever calls.
struct PromotionRoutes {
    let store: RegistryStore
    let metrics: RegistryMetrics
    let options: PromotionOptions

    func register(on router: Router<RegistryContext>) {
        let v1 = router.group("v1")
        v1.get("endpoints/{name}/versions/{version}/bundle") { _, ctx in
            let p = try ctx.require(.admin)
            let name = try ctx.parameters.require("name")
            let version = try ctx.parameters.require("version")
            return json(try Wire.encoder().encode(try await store.promotionPayload(endpoint: name, version: version, exportedBy: p.name)))
        }
        v1.post("promotions") { req, ctx in
            let p = try ctx.require(.admin)
            let narrowed = try trustParameter(req)
            let reason = req.uri.queryParameters.get("reason")
            // The size is refused on the header before the body is read, and collecting stops at the cap.
            if let len = req.headers[.contentLength].flatMap(Int.init), len > PromotionBundle.maxBytes {
                throw PromotionRefusal(.tooLarge, "the bundle is \(len) bytes; a bundle is at most \(PromotionBundle.maxBytes) bytes (1 MiB)")
            }
            let buffer = try await collectBody(req, context: ctx, upTo: PromotionBundle.maxBytes)
            let bytes = Array(buffer.readableBytesView)
            if bytes.isEmpty { throw Problem(status: 400, title: "Bad Request", detail: "the request needs the bundle file as its body") }
            let result: PromotionImportResult
            do {
                result = try await store.importPromotion(bytes, trusted: options.trusted, narrowedTo: narrowed, principal: p, reason: reason)
            } catch let refusal as PromotionRefusal {
                metrics.change("promotion-refused")
                ctx.logger.notice("promotion refused", metadata: ["actor": .string(p.name), "reason": .string(refusal.reason.rawValue)])
                throw refusal
            }
            metrics.change("import")
            ctx.logger.notice("promotion imported", metadata: [
                "actor": .string(p.name), "endpoint": .string(result.endpoint.name), "version": .string(result.version),
                "bundle": .string(result.bundle), "signer": .string(result.signer), "source": .string(result.sourceRegistry),
            ])
            var r = json(try Wire.encoder().encode(result))
            r.status = .created
            r.headers[.eTag] = "\"\(result.endpoint.revision)\""
            return r
        }
    }

    /// `?trust=FP,FP`: the importer's narrowing of the registry's trusted keys, by fingerprint.
    private func trustParameter(_ req: Request) throws -> Set<String>? {
        guard let raw = req.uri.queryParameters.get("trust") else { return nil }
        let items = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, items.count <= 64, items.allSatisfy({ Hex.decode($0, count: 32) != nil }) else {
            throw Problem(status: 400, title: "Bad Request",
                          detail: "query parameter trust must be key fingerprints (64 lower-case hex digits each), separated by commas")
        }
        return Set(items)
    }
}
