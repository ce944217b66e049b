import Foundation
import Hummingbird
import Logging
import NIOCore
import TowerDomain

/// Builds the registry's router over a store: what `serve` runs and what router tests drive.
public func buildRouter(store: RegistryStore, metrics: RegistryMetrics = RegistryMetrics(), hub: WatchHub? = nil,
                        xds: XDSOptions = XDSOptions(), gateways: GatewayTracker = GatewayTracker(),
                        authLimiter: AuthFailureLimiter? = nil, limits: ServerLimits = ServerLimits(),
                        certificates: CertificateAuth = CertificateAuth(), warning: String? = nil,
                        promotion: PromotionOptions = PromotionOptions()) -> Router<RegistryContext> {
    let hub = hub ?? WatchHub(seq: store.auditSeq)
    store.addCommitObserver { seq in hub.publish(seq) }
    let router = Router(context: RegistryContext.self)
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(metrics: metrics, routes: routes))
    router.add(middleware: RequestLimitsMiddleware(limits: limits))
    router.add(middleware: AuthMiddleware(store: store, limiter: authLimiter ?? AuthFailureLimiter(perSecond: limits.authFailuresPerSecond,
                                                                                     burst: max(1, limits.authFailuresPerSecond)),
                                           metrics: metrics, certificates: certificates))
    Routes(store: store, hub: hub, metrics: metrics, warning: warning).register(on: router)
    RolloutRoutes(store: store, metrics: metrics).register(on: router)
    PromotionRoutes(store: store, metrics: metrics, options: promotion).register(on: router)
    XDSService(store: store, metrics: metrics, options: xds, tracker: gateways).register(on: router)
    routes.set(router.routes)
    return router
}

/// The `serve` application: the router on `host:port`, calling `onListening` with the bound
/// port once it accepts connections (port 0 picks a free one). `secure`, when given, wraps each
/// connection's channel (TowerRegistryTLS's TLS); `certificates` are the identities it verifies.
public func buildApplication(store: RegistryStore, host: String, port: Int, logger: Logger, xds: XDSOptions = XDSOptions(),
                             limits: ServerLimits = ServerLimits(),
                             secure: ChannelWrapper? = nil, certificates: CertificateAuth = CertificateAuth(), warning: String? = nil,
                             promotion: PromotionOptions = PromotionOptions(),
                             onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    Application(
        router: buildRouter(store: store, xds: xds, limits: limits, certificates: certificates, warning: warning, promotion: promotion),
        server: .guardedHTTP1(limits, wrap: secure),
        configuration: .init(address: .hostname(host, port: port), serverName: "tower-registry"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
        logger: logger
    )
}
