/// FNV-1a over UTF-8: the same value in every process and on every machine (Swift's Hasher
/// is seeded per process), for decisions replicas must agree on.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
