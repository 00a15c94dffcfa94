import ArgumentParser
import FoundationEssentials
import RedisOCSPExporter

/// Where the clusters come from, for the exporter and for `check` alike: a configuration
/// file, or one cluster from the --cluster.* flags and their environment variables.
struct ClusterSource: ParsableArguments {
    @Option(name: .customLong("config.file"), help: "Path to the YAML configuration file.")
    var configFile: String?

    @Option(name: .customLong("cluster.url"), help: "REST API base URL of a single cluster [env: REDIS_OCSP_CLUSTER_URL].")
    var clusterURL: String?

    @Option(name: .customLong("cluster.name"), help: "Name (the cluster label) of that cluster [env: REDIS_OCSP_CLUSTER_NAME] (default: default).")
    var clusterName: String?

    @Option(name: .customLong("cluster.username"), help: "REST API user [env: REDIS_OCSP_CLUSTER_USERNAME].")
    var clusterUsername: String?

    @Option(name: .customLong("cluster.password-file"), help: "File holding the REST API password [env: REDIS_OCSP_CLUSTER_PASSWORD_FILE].")
    var clusterPasswordFile: String?

    @Option(name: .customLong("cluster.ca-file"), help: "PEM CA bundle that signed the REST API certificate [env: REDIS_OCSP_CLUSTER_CA_FILE].")
    var clusterCAFile: String?

    @Flag(name: .customLong("cluster.insecure-skip-verify"), help: "Do not verify the REST API certificate (not for production).")
    var clusterInsecure = false

    /// How to read the configuration, now and on every reload (which re-reads password files).
    /// Without a source it says what to give and exits with `missing`.
    func load(shard: Shard?, missing: Int32 = 1) throws -> @Sendable () throws -> ExporterConfig {
        let env = ProcessInfo.processInfo.environment
        if let configFile {
            return { try ConfigLoader.load(file: configFile, shard: shard) }
        }
        guard let url = clusterURL ?? env["REDIS_OCSP_CLUSTER_URL"] else {
            printError("nothing to monitor: give --config.file, --cluster.url (or REDIS_OCSP_CLUSTER_URL), or --demo")
            throw ExitCode(missing)
        }
        let flags = SingleClusterFlags(
            name: clusterName ?? env["REDIS_OCSP_CLUSTER_NAME"] ?? "default",
            url: url,
            username: clusterUsername ?? env["REDIS_OCSP_CLUSTER_USERNAME"],
            passwordFile: clusterPasswordFile ?? env["REDIS_OCSP_CLUSTER_PASSWORD_FILE"],
            caFile: clusterCAFile ?? env["REDIS_OCSP_CLUSTER_CA_FILE"],
            insecureSkipVerify: clusterInsecure
        )
        return { try ConfigLoader.load(flags: flags, shard: shard) }
    }
}
