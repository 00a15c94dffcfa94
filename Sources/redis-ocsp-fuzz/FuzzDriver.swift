// Fuzzing driver for the parsers that read untrusted input: built with libFuzzer
// (scripts/fuzz) it fuzzes one target; built normally it replays files, which is how
// crashes found once stay fixed.
import CStaplingProbe
import Foundation
import RedisOCSPExporter
import RedisSoftwareAPI

/// A parser and what it is fed. Any input must come back as a value or an error, never a crash.
enum FuzzTarget: String, CaseIterable {
    case httpDate = "http-date"
    case apiJSON = "api-json"
    case config
    /// A responder's answer (or a staple), checked against a fixed leaf and its issuer.
    case ocspResponse = "ocsp-response"

    /// The leaf and issuer the seeds of fuzz/corpus/ocsp-response answer for (a throwaway CA, valid for a century).
    static let leaf = [UInt8](Data(base64Encoded: "MIIBjzCCATagAwIBAgICEAAwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHRnV6ei1DQTAgFw0yNjEyMDIxODEyMTVaGA8yMTI2MTEwODE4MTIxNVowDzENMAsGA1UEAwwEbGVhZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEZIIqc0P88ibaIjWa7D4aICCR20lOiUg7A/wAzopejtFpMfJl82895kikKIJ64/45xtdfrdO1mFZY9upjjJjK2jfTB7MAkGA1UdEwQCMAAwLgYIKwYBBQUHAQEEIjAgMB4GCCsGAQUFBzABhhJodHRwOi8vMTI3LjAuMC4xOjkwHQYDVR0OBBYEFDPYHkSFvGvL7Tm17plOYzX+A5n7MB8GA1UdIwQYMBaAFKe2DAaOuGA1DpQ5OEH5goM2dccmMAoGCCqGSM49BAMCA0cAMEQCIB2LPX9yk2UeItwtUWy8Qa7DyMBRcvE6Jj++UFfqX1UnAiBMD1AYlxTXJ94ww3b1XGF4B1KRvS7jJJNquEd/nESeoA==")!)
    static let issuer = [UInt8](Data(base64Encoded: "MIIBejCCASGgAwIBAgIUARMM+Vs5MJn6M3QvgoRRu3rZdIMwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHRnV6ei1DQTAgFw0yNjEyMDIxODEyMTVaGA8yMTI2MTEwODE4MTIxNVowEjEQMA4GA1UEAwwHRnV6ei1DQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCKNR+aQPx7pyI96GvFOAOIBioJg8ExSZ3LnEjO/VTVYyKCtddfmiq6f1Sk+8UvChCxJ/SlB8787s0LnlRnO5M+jUzBRMB0GA1UdDgQWBBSntgwGjrhgNQ6UOThB+YKDNnXHJjAfBgNVHSMEGDAWgBSntgwGjrhgNQ6UOThB+YKDNnXHJjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIDiPVSbDp4OOGUqB+bpfRH/wVUQAZw69mlCB4RpqNoCXAiBgZPFsJ7v5gDqmXBoM2i9hxIRhc7iaBVm15aMqlrnMmw==")!)

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
        case .ocspResponse:
            var result = rocsp_result()
            Self.leaf.withUnsafeBufferPointer { leaf in
                Self.issuer.withUnsafeBufferPointer { issuer in
                    rocsp_check_response(leaf.baseAddress, leaf.count, issuer.baseAddress, issuer.count, data.baseAddress, data.count, &result)
                }
            }
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
