import CBuildInfo

/// Identifies this build in `redis_ocsp_exporter_build_info` and `--version`.
public enum BuildInfo {
    public static let version = "0.1.0"
    /// The source revision, stamped by scripts/release (a C define, since SwiftPM has no way to
    /// pass a string to Swift code); empty in a development build.
    public static let revision = String(cString: redis_ocsp_build_revision())

    /// What `--version` prints.
    public static var description: String {
        revision.isEmpty ? version : "\(version) (revision \(revision))"
    }
}
