import Foundation
import Synchronization
import Testing
import TowerHTTP
@testable import TowerMetrics

/// Answers each request with `answer(request)` and keeps what was sent.
final class FakePrometheus: HTTPTransport {
    let sent = Mutex<[HTTPRequest]>([])
    let answer: @Sendable (HTTPRequest) throws -> HTTPResponse

    init(_ answer: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.answer = answer }

    convenience init(status: Int = 200, contentType: String = "application/json", body: String) {
        self.init { _ in HTTPResponse(status: status, headers: ["content-type": contentType], body: Array(body.utf8)) }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return try answer(request)
    }

    var requests: [HTTPRequest] { sent.withLock { $0 } }
}

extension HTTPRequest {
    func promHeader(_ name: String) -> String? { headers.last { $0.0.lowercased() == name.lowercased() }?.1 }

    /// The form body decoded, as Go's `ParseForm` would.
    var promForm: [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body ?? [], as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "?" }
            out[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }
}

let promEmptyVector = #"{"status":"success","data":{"resultType":"vector","result":[]}}"#

func promClientError(_ transport: FakePrometheus, auth: PrometheusClient.Auth = .none) async -> PrometheusError? {
    do {
        _ = try await PrometheusClient(baseURL: "http://prom:9090", auth: auth, transport: transport).instant(query: "up")
        return nil
    } catch { return error }
}

@Suite struct PrometheusClientTests {
    @Test func instantQueryIsAFormPost() async throws {
        let fake = FakePrometheus(body: promEmptyVector)
        let client = PrometheusClient(baseURL: "https://gw.example/prometheus/", transport: fake, timeout: .seconds(5))
        let query = #"sum by (endpoint, version) (rate(http_requests_total{code=~"5.."}[1m])) + 1 & "x""#
        _ = try await client.instant(query: query, time: Date(timeIntervalSince1970: 1_435_781_451.781))
        let r = try #require(fake.requests.first)
        #expect(r.method == "POST")
        #expect(r.url == "https://gw.example/prometheus/api/v1/query")
        #expect(r.promHeader("Content-Type") == "application/x-www-form-urlencoded")
        #expect(r.promHeader("Accept") == "application/json")
        #expect(r.promHeader("Authorization") == nil)
        #expect(r.timeout == .seconds(5))
        #expect(r.promForm == ["query": query, "time": "1435781451.781", "timeout": "4.5"])
        // Every reserved character is escaped: "+" would otherwise read as a space.
        let body = String(decoding: r.body ?? [], as: UTF8.self)
        #expect(!body.contains("+") && !body.contains("\"") && !body.contains(" "))
    }

    @Test func instantWithoutTimeLeavesItToPrometheus() async throws {
        let fake = FakePrometheus(body: promEmptyVector)
        _ = try await PrometheusClient(baseURL: "http://prom:9090", transport: fake).instant(query: "up")
        #expect(fake.requests[0].promForm["time"] == nil)
        #expect(fake.requests[0].promForm["timeout"] == "9")
    }

    @Test func rangeQuery() async throws {
        let fake = FakePrometheus(body: #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[16,"2"]]}]}}"#)
        let client = PrometheusClient(baseURL: "http://prom:9090", transport: fake)
        let r = try await client.range(query: "up", start: Date(timeIntervalSince1970: 1), end: Date(timeIntervalSince1970: 16), step: .milliseconds(500))
        #expect(r.result.series[0].samples.map(\.value) == [1, 2])
        let sent = try #require(fake.requests.first)
        #expect(sent.url == "http://prom:9090/api/v1/query_range")
        #expect(sent.promForm["start"] == "1" && sent.promForm["end"] == "16" && sent.promForm["step"] == "0.5" && sent.promForm["query"] == "up")
    }

    @Test func rangeQueriesPrometheusWouldRefuseAreNotSent() async {
        let fake = FakePrometheus(body: promEmptyVector)
        let client = PrometheusClient(baseURL: "http://prom:9090", transport: fake)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for (end, step) in [(t0.addingTimeInterval(60), Duration.zero), (t0.addingTimeInterval(-1), .seconds(1)), (t0.addingTimeInterval(86400), .seconds(1))] {
            do {
                _ = try await client.range(query: "up", start: t0, end: end, step: step)
                Issue.record("sent")
            } catch {
                guard case .invalidRequest = error else { Issue.record("\(error)"); continue }
            }
        }
        #expect(fake.requests.isEmpty)
    }

    @Test func credentialsGoInHeadersAndNowhereElse() async throws {
        let fake = FakePrometheus(body: promEmptyVector)
        let bearer = PrometheusClient(baseURL: "http://prom:9090", auth: .bearer("s3cret-token"), transport: fake)
        _ = try await bearer.instant(query: "up")
        #expect(fake.requests[0].promHeader("Authorization") == "Bearer s3cret-token")
        let basic = PrometheusClient(baseURL: "http://prom:9090", auth: .basic(user: "ops", password: "pa55"), transport: fake)
        _ = try await basic.instant(query: "up")
        #expect(fake.requests[1].promHeader("Authorization") == "Basic b3BzOnBhNTU=")
        for text in [String(describing: bearer), String(reflecting: bearer), String(describing: basic), "\(PrometheusClient.Auth.basic(user: "ops", password: "pa55"))"] {
            #expect(!text.contains("s3cret") && !text.contains("pa55"), "\(text)")
        }
        #expect(!String(decoding: fake.requests[0].body ?? [], as: UTF8.self).contains("s3cret"))
    }

    @Test(arguments: [
        (400, "bad_data", PrometheusErrorType.badData),
        (422, "execution", .execution),
        (503, "timeout", .timeout),
        (499, "canceled", .canceled),
        (500, "internal", .internal),
        (500, "unavailable", .unavailable),
        (404, "not_found", .notFound),
        // An operator's OverrideErrorCode may send any status: the errorType decides.
        (200, "timeout", .timeout),
    ])
    func errorEnvelopes(status: Int, wire: String, type: PrometheusErrorType) async {
        let fake = FakePrometheus(status: status, body: #"{"status":"error","errorType":"\#(wire)","error":"query timed out in query execution"}"#)
        #expect(await promClientError(fake) == .api(type: type, message: "query timed out in query execution", httpStatus: status))
    }

    @Test func htmlFromAProxyNamesTheStatus() async throws {
        let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n"
        let e = try #require(await promClientError(FakePrometheus(status: 502, contentType: "text/html", body: page)))
        guard case .notPrometheus(502, "text/html", let excerpt) = e else { Issue.record("\(e)"); return }
        #expect(excerpt.contains("502 Bad Gateway") && !excerpt.contains("\n"))
        #expect(e.description.contains("HTTP 502") && e.description.contains("proxy"))
    }

    @Test func startingPrometheusSaysServiceUnavailable() async throws {
        let e = try #require(await promClientError(FakePrometheus(status: 503, contentType: "text/plain; charset=utf-8", body: "Service Unavailable")))
        #expect(e == .notPrometheus(httpStatus: 503, contentType: "text/plain; charset=utf-8", excerpt: "Service Unavailable"))
        #expect(e.description.contains("still starting"))
    }

    @Test func jsonThatIsNotTheAPIOnAnErrorStatus() async throws {
        let e = try #require(await promClientError(FakePrometheus(status: 401, body: #"{"message":"unauthorized"}"#), auth: .bearer("t0ken")))
        guard case .notPrometheus(401, _, _) = e else { Issue.record("\(e)"); return }
        #expect(e.description.contains("credentials") && !e.description.contains("t0ken"))
    }

    @Test func emptyBodyOnAnErrorStatus() async throws {
        let e = try #require(await promClientError(FakePrometheus(status: 504, contentType: "", body: "")))
        #expect(e.description.contains("HTTP 504 with an empty body"))
    }

    @Test func truncatedJSONOnSuccessIsMalformed() async throws {
        let e = try #require(await promClientError(FakePrometheus(body: #"{"status":"success","data":{"resultType":"vec"#)))
        guard case .malformed(let m) = e else { Issue.record("\(e)"); return }
        #expect(m.contains("truncated"))
    }

    @Test func htmlOnSuccessIsNotPrometheus() async throws {
        let e = try #require(await promClientError(FakePrometheus(status: 200, contentType: "text/html", body: "<!doctype html><title>Sign in</title>")))
        guard case .notPrometheus(200, _, _) = e else { Issue.record("\(e)"); return }
    }

    @Test func noAnswerIsUnreachable() async {
        let fake = FakePrometheus { _ in throw HTTPTransportError.timedOut("after 10 s") }
        #expect(await promClientError(fake) == .unreachable(.timedOut("after 10 s")))
    }

    @Test func formEncodingAndSeconds() {
        #expect(PrometheusClient.formEncode([("q", "a b+c&d=é~_.-")]) == "q=a%20b%2Bc%26d%3D%C3%A9~_.-")
        #expect(PrometheusClient.seconds(ms: 0) == "0")
        #expect(PrometheusClient.seconds(ms: 15_000) == "15")
        #expect(PrometheusClient.seconds(ms: 10) == "0.01")
        #expect(PrometheusClient.seconds(ms: -1) == "-0.001")
        #expect(PrometheusClient.seconds(ms: 1_435_781_451_780) == "1435781451.78")
    }
}
