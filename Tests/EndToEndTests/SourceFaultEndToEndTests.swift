import Foundation
import Synchronization
import Testing
import TowerDomain
import TowerHTTP

/// A Prometheus on loopback that a test can break on purpose: it answers the generic profile's
/// queries with fixed figures for one endpoint (version v1: 12.5 requests/s, no errors), and can be
/// switched to answer 500, answer garbage, hang (accept, read, never answer), or be killed (the
/// listener closed) and come back on the same port. It lives at most `lifetime` seconds whatever
/// the test does, and every socket it holds is closed when it stops.
final class FaultyPrometheus: @unchecked Sendable {
    enum Mode: String, Sendable { case healthy, error500, garbage, hang, killed }

    let port: Int
    let endpoint: String
    var url: String { "http://127.0.0.1:\(port)" }

    private struct Shared {
        var mode = Mode.healthy
        var stopping = false
        var stopped = false
        var listening = false
        /// Connections of the hang mode, answered never; closed when the mode changes.
        var held: [Int32] = []
        var authorizations: [String] = []
        var queries = 0
        var listenError = ""
    }
    private let shared = Mutex(Shared())
    private let until: Date

    init(endpoint: String = "beta", lifetime: TimeInterval = 300) throws {
        self.endpoint = endpoint
        let (fd, port) = try Self.listenBelowEphemeralRange()
        self.port = port
        until = Date().addingTimeInterval(lifetime)
        shared.withLock { $0.listening = true }
        let t = Thread { [self] in acceptLoop(fd) }
        t.start()
    }

    deinit { stop() }

    /// Switches the mode, and for `killed` (and back) waits until the listener is closed (or open).
    func set(_ mode: Mode) {
        shared.withLock { $0.mode = mode }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, shared.withLock({ $0.listening != (mode != .killed) }) { usleep(10_000) }
    }

    var authorizations: [String] { shared.withLock { $0.authorizations } }
    var summary: String { shared.withLock { "mode \($0.mode), listening \($0.listening), \($0.queries) requests, \($0.held.count) held, stopped \($0.stopped) \($0.listenError)" } }
    var queries: Int { shared.withLock { $0.queries } }

    func stop() {
        shared.withLock { $0.stopping = true }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !shared.withLock({ $0.stopped }) { usleep(10_000) }
    }

    // MARK: Sockets

    private func acceptLoop(_ initial: Int32) {
        var listener = initial
        while true {
            let (mode, stopping) = shared.withLock { ($0.mode, $0.stopping) }
            if stopping || Date() > until { break }
            if mode != .hang { releaseHeld() }
            if mode == .killed, listener >= 0 {
                close(listener)
                listener = -1
                shared.withLock { $0.listening = false }
            } else if mode != .killed, listener < 0 {
                do {
                    listener = try Self.listen(port: port)
                    shared.withLock { $0.listening = true }
                } catch {
                    shared.withLock { $0.listenError = "\(error)" }
                }
            }
            guard listener >= 0 else { usleep(20_000); continue }
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let c = accept(listener, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            let t = Thread { [self] in serve(c) }
            t.start()
        }
        if listener >= 0 { close(listener) }
        releaseHeld()
        shared.withLock { $0.listening = false; $0.stopped = true }
    }

    private func releaseHeld() {
        for fd in shared.withLock({ s -> [Int32] in defer { s.held = [] }; return s.held }) {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func serve(_ c: Int32) {
        // A client that never finishes its request must not keep this thread forever.
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard let (path, headers, body) = Self.readRequest(c) else { close(c); return }
        let mode = shared.withLock { s -> Mode in
            s.queries += 1
            if let a = headers["authorization"] { s.authorizations.append(a) }
            if s.mode == .hang && !s.stopping { s.held.append(c) }
            return s.mode
        }
        switch mode {
        case .hang: return
        case .killed: close(c); return
        case .error500:
            Self.respond(c, 500, "application/json", Array(#"{"status":"error","errorType":"internal","error":"injected fault"}"#.utf8))
        case .garbage:
            var rng = SplitMix64(seed: 7)
            Self.respond(c, 200, "application/octet-stream", (0..<512).map { _ in UInt8(truncatingIfNeeded: rng.next()) | 0x80 })
        case .healthy:
            Self.respond(c, 200, "application/json", Array(answer(path: path, form: body).utf8))
        }
    }

    /// The generic profile's three queries, told apart by what they select.
    private func answer(path: String, form: String) -> String {
        if path.hasPrefix("/api/v1/query_range") { return #"{"status":"success","data":{"resultType":"matrix","result":[]}}"# }
        let query = form.split(separator: "&").first { $0.hasPrefix("query=") }
            .map { String($0.dropFirst(6)).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" } ?? ""
        let ts = String(format: "%.3f", Date().timeIntervalSince1970)
        func series(_ labels: [String: String], _ value: String) -> String {
            let metric = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            return #"{"metric":{\#(metric)},"value":[\#(ts),"\#(value)"]}"#
        }
        let ev = ["endpoint": endpoint, "version": "v1"]
        let result: [String]
        if query.contains("_bucket") {
            result = [("0.05", "10"), ("0.1", "12"), ("0.25", "12.5"), ("+Inf", "12.5")].map { le, v in series(ev.merging(["le": le]) { a, _ in a }, v) }
        } else if query.contains("5..") {
            result = [series(ev, "0")]
        } else {
            result = [series(ev, "12.5")]
        }
        return #"{"status":"success","data":{"resultType":"vector","result":[\#(result.joined(separator: ","))]}}"#
    }

    private static func readRequest(_ c: Int32) -> (String, [String: String], String)? {
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return nil }
            data += buf[0..<n]
            if data.count > 1 << 20 { return nil }
            headerEnd = data.indices.dropLast(3).first { data[$0] == 13 && data[$0 + 1] == 10 && data[$0 + 2] == 13 && data[$0 + 3] == 10 }
        }
        let head = String(decoding: data[..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let path = head.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(headerEnd! + 4)...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return nil }
            body += buf[0..<n]
        }
        return (path, headers, String(decoding: body, as: UTF8.self))
    }

    private static func respond(_ c: Int32, _ status: Int, _ type: String, _ body: [UInt8]) {
        let head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Internal Server Error")\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        shutdown(c, Int32(SHUT_RDWR))
        close(c)
    }

    private static func listen(port: Int) throws -> Int32 {
        // Close-on-exec: the test spawns tmux, whose server lives on; had it inherited the listener,
        // "killed" would leave the port accepting connections that nobody answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian,
                               sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Non-blocking: a connection the client gave up on between poll and accept would otherwise
        // leave accept waiting, and the loop deaf to mode changes.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            throw E2EError("cannot listen on 127.0.0.1:\(port): errno \(e)")
        }
        return fd
    }

    /// A port the kernel never hands out by itself. While the server is "killed" its port is free,
    /// and one from the ephemeral range can be taken meanwhile as the local end of some connection
    /// — even of a connection to itself, as a client retrying against a closed loopback port can
    /// make — and then it could never listen there again.
    private static func listenBelowEphemeralRange() throws -> (Int32, Int) {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) } ?? []
        let low = min(range.first ?? 32768, 32768)
        var lastError: (any Error)?
        for _ in 0..<50 {
            let port = Int.random(in: max(1024, low - 12000)..<low)
            do { return (try listen(port: port), port) } catch { lastError = error }
        }
        throw lastError ?? E2EError("no free port below \(low)")
    }
}

/// The console in tmux against a real registry, a real `tower-sim` (scraped: the healthy source,
/// serving alpha) and a Prometheus that fails on purpose (serving beta). For each fault the console
/// keeps drawing, marks that source — and only that one — failed and its figures stale within a
/// few intervals, and recovers on its own once the source answers again.
@Suite(.serialized) struct SourceFaultEndToEndTests {
    /// alpha as in every test, and beta: out of service, so the fleet serves no traffic for it and
    /// its figures come only from the faulty Prometheus.
    static let seed = RegistryProcess.seedYAML + """

        - name: beta
          path: /v1/models/beta
          owner: team-speech
          versions:
            - {name: v1, artifact: {uri: s3://m/beta/1, digest: 'sha256:\(String(repeating: "3", count: 64))'}, weight: 100, gate: passed, stage: prod}
        """

    /// The row of `endpoint` in the overview.
    static func row(_ screen: String, _ endpoint: String) -> String {
        screen.split(separator: "\n").first { $0.contains(" \(endpoint) ") }.map(String.init) ?? ""
    }

    static func header(_ screen: String) -> String { screen.split(separator: "\n").first.map(String.init) ?? "" }

    /// The fault server itself: each mode does what it says, and a killed one comes back on its port.
    @Test func theFaultyPrometheusBehavesAsSwitched() throws {
        let prom = try FaultyPrometheus(endpoint: "alpha")
        defer { prom.stop() }
        let session = CurlSession()
        func ask() -> Result<HTTPResponse, any Error> {
            Result { try session.perform(HTTPRequest(method: "POST", url: prom.url + "/api/v1/query", headers: [("Authorization", "Bearer t0k")],
                                                     body: Array("query=sum+by+(endpoint%2C+version)+(rate(http_requests_total%5B1m%5D))".utf8),
                                                     timeout: .seconds(1))) }
        }
        let ok = try ask().get()
        #expect(ok.status == 200 && String(decoding: ok.body, as: UTF8.self).contains(#""endpoint":"alpha""#))
        #expect(prom.authorizations == ["Bearer t0k"])
        prom.set(.error500)
        #expect(try ask().get().status == 500)
        prom.set(.garbage)
        #expect(try ask().get().body.first.map { $0 >= 0x80 } == true)
        prom.set(.hang)
        #expect(throws: (any Error).self) { try ask().get() }
        prom.set(.killed)
        #expect(throws: (any Error).self) { try ask().get() }
        prom.set(.healthy)
        #expect(try ask().get().status == 200, "back on port \(prom.port)")
    }

    @Test func eachFaultIsMarkedOnItsSourceAloneAndTheConsoleRecoversOnItsOwn() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        _ = try reg.writeSeed()
        let seedPath = reg.dataDir + "/seed-two.yaml"
        try Self.seed.write(toFile: seedPath, atomically: true, encoding: .utf8)
        try reg.start(seed: seedPath, extra: ["--log-level", "warning"])
        let token = try String(contentsOfFile: op, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = RawClient(base: reg.url, token: token)
        let drained = try api.post("/v1/endpoints/beta/drain", json: #"{"reason":"figures come from elsewhere"}"#, ifMatch: 1)
        try #require(drained.status == 200, "\(String(decoding: drained.body, as: UTF8.self))")

        let sim = try TelemetryEndToEndTests.SimProcess(registry: reg.url, tokenFile: op)
        defer { sim.stop() }
        let prom = try FaultyPrometheus(endpoint: "beta")
        defer { prom.stop() }
        let term = Tmux()
        defer { term.kill() }
        let config = NSTemporaryDirectory() + "tower-noconfig-" + UUID().uuidString
        let exitFile = reg.dataDir + "/exit"
        // --timeout 1: a hanging source counts as failed after a second, not after the default 10.
        try term.start("env XDG_CONFIG_HOME=\(config) \(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(op) "
                       + "--prometheus \(prom.url) --scrape \(sim.url)/metrics --interval 1 --timeout 1 "
                       + "2>\(reg.dataDir)/console.err; echo EXIT=$? > \(exitFile)", width: 140, height: 30)

        /// Waits (bounded, generously: a loaded two-core machine) until the screen satisfies `ok`.
        func wait(_ what: String, timeout: TimeInterval = 20, _ ok: (String) -> Bool) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            var s = ""
            repeat {
                s = term.screen()
                if ok(s) { return s }
                usleep(100_000)
            } while Date() < deadline
            Issue.record("\(what): not seen within \(Int(timeout)) s; Prometheus: \(prom.summary); screen:\n\(s)\nconsole stderr: \((try? String(contentsOfFile: reg.dataDir + "/console.err", encoding: .utf8)) ?? "")")
            return nil
        }

        func allLive(_ s: String) -> Bool {
            let h = Self.header(s), beta = Self.row(s, "beta"), alpha = Self.row(s, "alpha")
            return h.contains("prometheus ✓") && h.contains("scrape ✓") && beta.contains("12.5") && !beta.contains("~")
                && !alpha.isEmpty && !alpha.contains("~") && !alpha.contains("—")
        }
        try #require(wait("both sources live", allLive) != nil)

        var revision: Int64 = 1
        let splits = [(80, 20), (70, 30), (60, 40), (50, 50)]
        for (i, fault) in [FaultyPrometheus.Mode.error500, .garbage, .hang, .killed].enumerated() {
            prom.set(fault)

            // The console keeps drawing: a change made elsewhere shows while the source is failing.
            let (v1, v2) = splits[i]
            let shifted = try api.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":\#(v1),"v2":\#(v2)},"reason":"during \#(fault.rawValue)"}"#,
                                       ifMatch: revision)
            #expect(shifted.status == 200, "\(fault): \(String(decoding: shifted.body, as: UTF8.self))")
            revision += 1
            _ = wait("\(fault): the shift to \(v1)/\(v2) on screen") { Self.row($0, "alpha").contains("v1 \(v1) v2 \(v2)") }

            // Marked on the faulty source alone: its health in the header, its figures stale (~),
            // the other source's health and figures live.
            let marked = wait("\(fault): prometheus marked failed and beta stale, scrape and alpha live") { s in
                let h = Self.header(s), beta = Self.row(s, "beta"), alpha = Self.row(s, "alpha")
                return h.contains("prometheus ✗") && h.contains("scrape ✓") && beta.contains("~12.5")
                    && !alpha.contains("~") && !alpha.contains("—")
            }
            // And the screen goes on changing by itself: the failing source's age grows.
            if let marked {
                let age = Self.header(marked)
                _ = wait("\(fault): the header's ages move on", timeout: 15) { Self.header($0) != age }
            }

            prom.set(.healthy)
            _ = wait("\(fault): recovered on its own", allLive)
        }

        term.keys("q")
        var exit = ""
        let deadline = Date().addingTimeInterval(10)
        while exit.isEmpty && Date() < deadline { exit = (try? String(contentsOfFile: exitFile, encoding: .utf8)) ?? ""; usleep(50_000) }
        #expect(exit.contains("EXIT=0"), "the console never crashed and quit cleanly: \(exit)")
        #expect(prom.queries > 0)
    }
}
