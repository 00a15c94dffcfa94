// Fuzzing driver for the parsers that read untrusted input: built with libFuzzer
// (scripts/fuzz) it fuzzes one target; built normally it replays files, which is how
// crashes found once stay fixed.
import Foundation
import RedisOCSPExporter
import RedisSoftwareAPI

/// A parser and what it is fed. Any input must come back as a value or an error, never a crash.
enum FuzzTarget: String, CaseIterable {
    case httpDate = "http-date"
    case apiJSON = "api-json"
    case config

    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .httpDate:
            _ = HTTPDate.parse(String(decoding: data, as: UTF8.self))
        case .apiJSON:
            // The error object of a failed request, then the objects of successful ones.
            _ = CheckFailure.fromResponse(status: 400, body: data)
            guard let json = try? JSONValue.parse(data) else { return }
            _ = try? OCSPConfig.decode(json)
            _ = try? OCSPStatus.decode(json)
            _ = try? [ClusterNode].decode(json)
            _ = try? ClusterAlerts.decode(json)
        case .config:
            _ = try? ConfigLoader.load(yaml: String(decoding: data, as: UTF8.self), source: "fuzz", environment: ["P": "x"])
        }
    }
}

/// The target named first on the command line, or a usage message and exit.
func selectedTarget() -> FuzzTarget {
    let arguments = CommandLine.arguments
    guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
        FileHandle.standardError.write(Data("usage: redis-ocsp-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) ARGUMENTS...\n".utf8))
        exit(2)
    }
    return target
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

nonisolated(unsafe) var fuzzTarget = FuzzTarget.httpDate

/// `redis-ocsp-fuzz TARGET [libFuzzer options] [corpus directories]`, linked with libFuzzer's
/// driver (scripts/fuzz builds it so).
@main
enum Fuzz {
    static func main() {
        fuzzTarget = selectedTarget()
        // libFuzzer sees the program name and its own arguments, not the target name.
        var cArguments: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + CommandLine.arguments.dropFirst(2)).map { strdup($0) } + [nil]
        var argc = Int32(cArguments.count - 1)
        let status = cArguments.withUnsafeMutableBufferPointer { buffer in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                fuzzTarget.run(UnsafeBufferPointer(start: data, count: size))
                return 0
            }
        }
        exit(status)
    }
}
#else
/// `redis-ocsp-fuzz TARGET FILE_OR_DIRECTORY...`: replays inputs.
@main
enum Replay {
    static func main() {
        let target = selectedTarget()
        var replayed = 0
        for path in CommandLine.arguments.dropFirst(2) {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                Array(data).withUnsafeBufferPointer { target.run($0) }
                replayed += 1
            }
        }
        print("\(target.rawValue): replayed \(replayed) input(s) without a crash")
    }
}
#endif
