import Foundation

#if TOWER_FUZZ
// Built by scripts/fuzz with -sanitize=fuzzer: libFuzzer owns main and calls this per input. The
// target comes from the environment because libFuzzer owns the command line too.
nonisolated(unsafe) private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["TOWER_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("TOWER_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected.run(bytes)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// SwiftPM links an executable's entry point as `<module>_main` (so tests can link the module);
// libFuzzer's own `main` is never pulled in, so this entry hands over to its driver.
@_cdecl("tower_fuzz_main")
public func towerFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without the fuzzer: replays files (a corpus, or a crash libFuzzer saved) through a target, so a
/// finding can be reproduced and kept as a regression input in an ordinary build.
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let first = args.first, let target = FuzzTarget(rawValue: first) else {
            print("usage: tower-fuzz TARGET FILE|DIR…   (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                print("tower-fuzz: no such file \(path)"); exit(2)
            }
            let files = isDir.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for f in files {
                guard let d = FileManager.default.contents(atPath: f) else { continue }
                target.run([UInt8](d))
                count += 1
            }
        }
        print("tower-fuzz \(target.rawValue): \(count) inputs replayed, no crash")
    }
}
#endif
