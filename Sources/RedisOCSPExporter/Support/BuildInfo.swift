/// Identifies this build in `redis_ocsp_exporter_build_info` and `--version`.
public enum BuildInfo {
    public static let version = "0.1.0"
    /// The source revision, stamped by the release build; empty in a development build.
    public static let revision = ""
}
