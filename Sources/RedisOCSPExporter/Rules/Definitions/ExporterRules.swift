/// The exporter's own health: rules only Prometheus can evaluate.
extension Rule {
    static let exporterDown = Rule(
        name: "RedisOCSPExporterDown", group: .exporter, severity: "warning", forDuration: .seconds(300),
        summary: "redis-ocsp-exporter {{ $labels.instance }} is down",
        description: "Prometheus cannot scrape the exporter, so the OCSP stapling of its clusters is not monitored.",
        expression: #"up{job="redis-ocsp"} == 0"#, condition: nil
    )

    static let statusDataStale = Rule(
        name: "RedisOCSPStatusDataStale", group: .exporter, severity: "warning", forDuration: .seconds(300),
        summary: "No successful OCSP status poll of cluster {{ $labels.cluster }} for over an hour",
        description: "The exporter has not read the OCSP status of the cluster for {{ $value }} seconds; see redis_ocsp_api_error for why.",
        expression: """
            time() - redis_ocsp_last_success_timestamp_seconds{endpoint="status"} > 3600
            unless on (cluster) redis_ocsp_supported == 0
            """, condition: nil
    )

    static let notificationsFailing = Rule(
        name: "RedisOCSPNotificationsFailing", group: .exporter, severity: "warning", forDuration: .seconds(900),
        summary: "redis-ocsp-exporter cannot send alerts to {{ $labels.alertmanager }}",
        description: "Alerts of the built-in evaluator are not reaching this Alertmanager.",
        expression: "rate(redis_ocsp_notifications_failed_total[10m]) > 0", condition: nil
    )

    static let configReloadFailed = Rule(
        name: "RedisOCSPExporterConfigReloadFailed", group: .exporter, severity: "warning", forDuration: .seconds(600),
        summary: "redis-ocsp-exporter {{ $labels.instance }} could not load its changed configuration",
        description: "The last reload of the configuration or of the web configuration failed; the previous one stays in force until it is fixed (the exporter's log names the file and field).",
        expression: "redis_ocsp_exporter_config_last_reload_successful == 0 or redis_ocsp_exporter_web_config_last_reload_successful == 0",
        condition: nil
    )
}
