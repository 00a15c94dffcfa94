import Foundation
@testable import RedisOCSPExporter
import Testing

/// The contract of password checking, whichever bcrypt implementation is behind it.
struct BcryptHashTests {
    /// Published vectors of the OpenBSD implementation.
    @Test(arguments: [
        ("", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."),
        ("a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"),
        ("abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
        ("abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"),
        ("~!@#$%^&*()      ~!@#$%^&*()PNBFRD", "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"),
    ])
    func openBSDVectors(_ password: String, _ hash: String) {
        #expect(BcryptHash.verify(password: password, hash: hash))
        #expect(!BcryptHash.verify(password: password + "x", hash: hash))
    }

    /// `$2b$` hashes made by pyca/bcrypt, the last of a password of exactly 72 bytes: bcrypt
    /// reads no further, so a longer password that starts with those 72 bytes matches too.
    @Test func twoBVectorsAndTheSeventyTwoByteLimit() {
        #expect(BcryptHash.verify(password: "correct horse battery staple", hash: "$2b$05$se9slRlH2reYS0Aafm7coeqqj0CHYT4SyLjHbloRU/o54y47zsV/q"))
        #expect(!BcryptHash.verify(password: "correct horse battery stapl", hash: "$2b$05$se9slRlH2reYS0Aafm7coeqqj0CHYT4SyLjHbloRU/o54y47zsV/q"))
        let hash = "$2b$04$oCgSKiLuiGaQfD/kuJrRSeyHus2/1N/9.imyMFBkfpwbLbqXXTBnq"
        let seventyTwo = String(repeating: "x", count: 70) + "yz"
        #expect(BcryptHash.verify(password: seventyTwo, hash: hash))
        #expect(BcryptHash.verify(password: seventyTwo + " and more that bcrypt ignores", hash: hash))
        #expect(!BcryptHash.verify(password: String(repeating: "x", count: 71) + "z", hash: hash))
    }

    /// Hashes made by htpasswd, the tool the Prometheus documentation recommends.
    @Test func verifiesHtpasswdHashes() async throws {
        for (password, cost) in [("s3cret pass", 5), ("ünïcödé", 4)] {
            let line = try await Subprocess.run(["htpasswd", "-nbB", "-C", "\(cost)", "alice", password]).output
            let hash = try #require(line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            #expect(hash.hasPrefix("$2y$0\(cost)$"))
            #expect(BcryptHash.verify(password: password, hash: hash))
            #expect(!BcryptHash.verify(password: "wrong", hash: hash))
        }
    }

    @Test func rejectsWhatIsNotBcrypt() {
        for bad in ["", "plain", "$1$abc$def", "$2b$03$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
                    "$2b$18$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.", "$2x$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
                    "$2b$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s", "$2b$06$!Cq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."] {
            #expect(!BcryptHash.isWellFormed(bad), "\(bad)")
            #expect(!BcryptHash.verify(password: "", hash: bad))
        }
    }
}
