import Foundation
import Testing

/// Every seed and every input a fuzzer once crashed on goes through the parsers again, with
/// the fuzzing driver built normally.
struct FuzzRegressionTests {
    @Test(arguments: ["http-date", "api-json", "config", "ocsp-response"])
    func replays(_ target: String) async throws {
        let root = ExporterProcess.packageRoot.appendingPathComponent("fuzz")
        let result = try await ExporterProcess.run(
            [target, root.appendingPathComponent("corpus/\(target)").path, root.appendingPathComponent("regressions/\(target)").path],
            executable: "redis-ocsp-fuzz"
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(target): replayed"), "\(result.stdout)")
    }
}
