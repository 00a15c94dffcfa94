/// One number from every signal: the earliest moment at which clients that check stapling
/// start refusing connections if nobody acts, and why. Derived from the checks' states, so
/// it asks nothing of the cluster.
enum ClientsFailAt {
    enum Reason: String, Sendable, CaseIterable {
        /// A certificate clients are served (or the proxy certificate) expires.
        case certExpires = "cert_expires"
        /// A staple or the cached answer passes next_update while the cluster cannot refresh it.
        case stapleExpires = "staple_expires"
        /// The certificate that signs the staples expires.
        case signerExpires = "signer_expires"
        /// The certificate is REVOKED: clients refuse it now.
        case revoked
        /// An endpoint serves another certificate than the cluster's: its staple does not cover it.
        case wrongCertificate = "wrong_certificate"
    }

    static let families: [ClusterFamily] = [.clientsFailAt]

    /// The earliest foreseeable failure; nil when nothing foreseeable breaks. Conditions that
    /// break clients already count from when the snapshot saw them (`polledAt`).
    static func earliest(_ snapshot: ClusterSnapshot) -> (at: Double, reason: Reason)? {
        var candidates: [(Double, Reason)] = []
        let seen = snapshot.polledAt ?? 0
        let handshakes = snapshot.stapling.compactMap(\.handshake)
        // REVOKED where RedisOCSPCertRevoked sees it (the cached status or the cluster's own
        // alert), or in a staple.
        if snapshot.status?.certStatus == .revoked || snapshot.clusterReports("cluster_ocsp_status_revoked")
            || handshakes.contains(where: { $0.staple?.certStatus == .revoked }) {
            candidates.append((seen, .revoked))
        }
        if let proxy = snapshot.proxyCertificate?.sha256, handshakes.contains(where: { $0.leafSHA256.map { $0 != proxy } ?? false }) {
            candidates.append((seen, .wrongCertificate))
        }
        let notAfters = handshakes.compactMap(\.leafNotAfter) + (snapshot.proxyCertificate.map { [$0.notAfter] } ?? [])
        if let first = notAfters.min() { candidates.append((Double(first), .certExpires)) }
        if let signer = handshakes.compactMap({ $0.staple?.signerNotAfter }).min() { candidates.append((Double(signer), .signerExpires)) }
        // A next_update only matters while the cluster cannot fetch a newer answer: it says
        // so itself, or its responder fails the exporter's requests too.
        if snapshot.clusterReports("cluster_ocsp_query_failed") || snapshot.responder?.failingSince != nil {
            let nextUpdates = handshakes.compactMap { $0.staple?.nextUpdate } + (snapshot.status?.nextUpdate.map { [$0] } ?? [])
            if let first = nextUpdates.min() { candidates.append((Double(first), .stapleExpires)) }
        }
        return candidates.min { $0.0 < $1.0 }.map { (at: $0.0, reason: $0.1) }
    }

    static func render(_ snapshot: ClusterSnapshot, into samples: inout ClusterSamples) {
        guard let earliest = earliest(snapshot) else { return }
        samples.write(.clientsFailAt) { $0.sample(ClusterFamily.clientsFailAt.name, [("reason", earliest.reason.rawValue)], earliest.at) }
    }
}

extension ClusterFamily {
    static let clientsFailAt = ClusterFamily("redis_ocsp_clients_fail_at_timestamp_seconds", .gauge, "The earliest moment at which stapling clients start refusing connections if nothing changes, as Unix time; reason names the cause. Absent when nothing foreseeable breaks.")
}
