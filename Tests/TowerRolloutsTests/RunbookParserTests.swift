import Foundation
import Testing
@testable import TowerRollouts

@Suite struct RunbookParserTests {
    static let standard = """
        name: canary-standard
        steps:
          - setWeight: 5          # the target's weight
          - pause: 2m
          - setWeight: 25
          - pause: {duration: 90s}
          - setWeight: 50
          - pause: {}
          - setWeight: 100
        analysis:
          interval: 30s
          failureLimit: 2
          inconclusiveLimit: 4
          checks:
            - {metric: errorRatio, max: 0.01}
            - {metric: p99Ms, max: 500}
            - {judge: baseline}
        onComplete: drainBaseline
        """

    func refusal(_ yaml: String) -> RunbookError? {
        do { _ = try Runbook.parse(yaml: yaml, file: "bad.yaml"); return nil } catch { return error }
    }

    @Test func readsTheIssuesExample() throws {
        let r = try Runbook.parse(yaml: Self.standard, file: "canary.yaml")
        #expect(r.name == "canary-standard")
        #expect(r.steps == [.setWeight(5), .pause(seconds: 120), .setWeight(25), .pause(seconds: 90), .setWeight(50), .pause(seconds: nil), .setWeight(100)])
        #expect(r.analysis == RunbookAnalysis(interval: 30, failureLimit: 2, inconclusiveLimit: 4,
                                              checks: [.metric(.errorRatio, min: nil, max: 0.01), .metric(.p99Ms, min: nil, max: 500), .judgeBaseline]))
        #expect(r.onComplete == .drainBaseline)
        #expect(r.finalWeight == 100)
    }

    @Test func roundTripsThroughJSON() throws {
        let r = try Runbook.parse(yaml: Self.standard)
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(Runbook.self, from: data) == r)
    }

    @Test func jsonRunbooksAreCheckedAlike() throws {
        let body = #"{"name":"x","steps":[{"setWeight":150}]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Runbook.self, from: Data(body.utf8)) }
        let ok = #"{"name":"x","steps":[{"setWeight":10},{"pause":"10s"},{"setWeight":100}]}"#
        #expect(try JSONDecoder().decode(Runbook.self, from: Data(ok.utf8)).steps == [.setWeight(10), .pause(seconds: 10), .setWeight(100)])
    }

    @Test func unknownKeysAreRefusedByName() {
        let e = refusal("name: x\nsteps:\n  - setWeight: 10\nonCompletion: keep\n")
        #expect(e?.key == "onCompletion")
        #expect(e?.file == "bad.yaml")
        #expect(e?.description.hasPrefix("bad.yaml: onCompletion: unknown key") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeigth: 10\n")?.key == "steps[0].setWeigth")
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\nanalysis: {interval: 5s, checks: [{metric: p99Ms, maximum: 3}]}\n")?.key == "analysis.checks[0].maximum")
    }

    @Test func wrongTypesAreRefused() {
        #expect(refusal("name: x\nsteps:\n  - setWeight: \"10\"\n")?.problem.contains("whole number") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10.5\n")?.key == "steps[0].setWeight")
        #expect(refusal("name: x\nsteps: {setWeight: 10}\n")?.key == "steps")
        #expect(refusal("name: [x]\nsteps:\n  - setWeight: 10\n")?.key == "name")
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\nanalysis: {interval: 5s, failureLimit: two, checks: [{judge: baseline}]}\n")?.key == "analysis.failureLimit")
        // Found by Schemathesis: naming a duration this long in the refusal trapped converting it to Int.
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\nanalysis: {interval: 3.402823466e+38, checks: [{judge: baseline}]}\n")?.problem.contains("longer than a week") == true)
    }

    @Test func impossiblePlansAreRefused() {
        #expect(refusal("name: x\nsteps:\n  - setWeight: 101\n")?.problem.contains("0 to 100") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeight: -1\n")?.key == "steps[0].setWeight")
        let down = refusal("name: x\nsteps:\n  - setWeight: 50\n  - pause: 1m\n  - setWeight: 25\n")
        #expect(down?.key == "steps[2].setWeight")
        #expect(down?.problem.contains("goes down from 50 at steps[0]") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\n  - pause: -5s\n")?.problem.contains("negative") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\n  - pause: -5\n")?.key == "steps[1].pause")
        #expect(refusal("name: x\nsteps:\n  - pause: 5s\n")?.problem.contains("no setWeight") == true)
        #expect(refusal("name: x\nsteps:\n  - setWeight: 50\nonComplete: drainBaseline\n")?.key == "onComplete")
        #expect(refusal("name: x\nsteps:\n  - setWeight: 10\n  - pause: soon\n")?.key == "steps[1].pause")
        #expect(refusal("name: x\nsteps:\n  - {setWeight: 10, pause: 5s}\n")?.key == "steps[0]")
        #expect(refusal("name: x\nsteps: []\n")?.key == "steps")
    }

    @Test func analysisIsChecked() {
        let head = "name: x\nsteps:\n  - setWeight: 10\n"
        let unknown = refusal(head + "analysis: {interval: 5s, checks: [{metric: latency, max: 3}]}\n")
        #expect(unknown?.key == "analysis.checks[0].metric")
        #expect(unknown?.problem.contains("unknown metric 'latency'") == true)
        #expect(refusal(head + "analysis: {interval: 5s, checks: [{metric: p99Ms}]}\n")?.problem.contains("min or max") == true)
        #expect(refusal(head + "analysis: {interval: 5s, checks: [{metric: p99Ms, min: 10, max: 5}]}\n")?.key == "analysis.checks[0]")
        #expect(refusal(head + "analysis: {interval: 5s, checks: [{judge: canary}]}\n")?.key == "analysis.checks[0].judge")
        #expect(refusal(head + "analysis: {interval: 0s, checks: [{judge: baseline}]}\n")?.key == "analysis.interval")
        #expect(refusal(head + "analysis: {interval: 5s, failureLimit: -1, checks: [{judge: baseline}]}\n")?.key == "analysis.failureLimit")
        #expect(refusal(head + "analysis: {interval: 5s, checks: []}\n")?.key == "analysis.checks")
        #expect(refusal(head + "analysis: {checks: [{judge: baseline}]}\n")?.key == "analysis.interval")
        #expect(refusal(head + "analysis: {interval: 5s, checks: [{metric: errorRatio, max: 5}]}\n")?.key == "analysis.checks[0].max")
    }

    @Test func sizeAndEmptinessAreRefused() {
        let big = "name: x\nsteps:\n  - setWeight: 10\n# " + String(repeating: "x", count: Runbook.maxBytes) + "\n"
        #expect(refusal(big)?.problem.contains("1 MiB") == true)
        #expect(refusal("")?.problem.contains("empty") == true)
        #expect(refusal("name: x\nsteps: [\n")?.problem.contains("not valid YAML") == true)
        #expect(refusal("- 1\n- 2\n")?.problem.contains("mapping") == true)
    }

    @Test func durations() {
        #expect(RunbookDuration.parse("30s") == 30)
        #expect(RunbookDuration.parse("2m") == 120)
        #expect(RunbookDuration.parse("1h") == 3600)
        #expect(RunbookDuration.parse("500ms") == 0.5)
        #expect(RunbookDuration.parse("1m30s") == 90)
        #expect(RunbookDuration.parse("12") == 12)
        #expect(RunbookDuration.parse("-5s") == -5)
        #expect(RunbookDuration.parse("5d") == nil)
        #expect(RunbookDuration.parse("m") == nil)
        #expect(RunbookDuration.format(120) == "2m")
        #expect(RunbookDuration.format(90) == "90s")
        #expect(RunbookDuration.format(0.5) == "0.5s")
    }
}

@Suite struct ShippedRunbookTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/runbooks")

    /// Every runbook file in docs/runbooks is one the registry accepts.
    @Test func theShippedRunbooksParse() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files == ["blue-green.yaml", "canary-fast.yaml", "canary-standard.yaml"])
        for f in files {
            let text = try String(contentsOf: Self.dir.appendingPathComponent(f), encoding: .utf8)
            let book = try Runbook.parse(yaml: text, file: f)
            #expect(book.finalWeight == 100, "\(f)")
            #expect(book.analysis != nil, "\(f)")
        }
    }
}
