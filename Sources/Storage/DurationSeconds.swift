/// Durations are measured on `ContinuousClock` (monotonic: a wall-clock step from NTP or a
/// suspended laptop cannot make a lease expire early or a rate negative) and reported in seconds.
extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
