import Foundation
@testable import RedisOCSPExporter
import Testing

struct BCryptTests {
    /// Published vectors of the OpenBSD implementation.
    @Test(arguments: [
        ("", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."),
        ("a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"),
        ("abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
        ("abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"),
        ("~!@#$%^&*()      ~!@#$%^&*()PNBFRD", "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"),
    ])
    func knownVectors(_ password: String, _ hash: String) {
        #expect(BCrypt.verify(password: password, hash: hash))
        #expect(!BCrypt.verify(password: password + "x", hash: hash))
    }

    /// Hashes made by htpasswd, the tool the Prometheus documentation recommends.
    @Test func verifiesHtpasswdHashes() async throws {
        for (password, cost) in [("s3cret pass", 5), ("ünïcödé", 4)] {
            let line = try await Subprocess.run(["htpasswd", "-nbB", "-C", "\(cost)", "alice", password]).output
            let hash = try #require(line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            #expect(hash.hasPrefix("$2y$0\(cost)$"))
            #expect(BCrypt.verify(password: password, hash: hash))
            #expect(!BCrypt.verify(password: "wrong", hash: hash))
        }
    }

    @Test func rejectsWhatIsNotBcrypt() {
        for bad in ["", "plain", "$1$abc$def", "$2b$03$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
                    "$2b$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s", "$2b$06$!Cq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."] {
            #expect(BCrypt.parse(bad) == nil, "\(bad)")
            #expect(!BCrypt.verify(password: "", hash: bad))
        }
    }
}
