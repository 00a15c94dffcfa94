/// A component that takes a new configuration on reload. The reloader hands every one the
/// same validated configuration; each takes its own part.
protocol Reloadable: Sendable {
    func apply(_ config: ExporterConfig) async
}
