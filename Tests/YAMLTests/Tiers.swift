import Testing

extension Tag {
    /// The fast tier: no process, no socket, no external tool (`scripts/test-unit`).
    @Tag static var unit: Self
}
