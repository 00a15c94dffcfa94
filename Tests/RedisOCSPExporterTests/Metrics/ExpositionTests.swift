import Prometheus
@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct ExpositionTests {
    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1, "1"), (3600, "3600"), (1_640_177_411, "1640177411"), (-5, "-5"), (0.1, "0.1"),
        (0.005, "0.005"), (1e-7, "1e-07"), (2.5, "2.5"), (1.5e300, "1.5e+300"), (Double.nan, "NaN"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (1e15, "1000000000000000.0"), (1e16, "1e+16"), (123456.789, "123456.789"),
    ])
    func formatsValues(_ value: Double, _ expected: String) {
        #expect(Exposition.formatValue(value) == expected)
    }

    @Test func escapesLabelValuesAndHelp() {
        var out: [UInt8] = []
        Exposition.escapeLabelValue("a\"b\\c\nd é", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"a\"b\\c\nd é"#)
        #expect(Exposition.escapeHelp("x\\y\nz \"q\"") == #"x\\y\nz "q""#)
    }

    /// The same samples through swift-prometheus and through our encoder read back the same.
    @Test func agreesWithSwiftPrometheusParseForParse() throws {
        let labelValues = ["plain", "quo\"te", "back\\slash", "new\nline", "ünïcödé ☃", "", "{braces},=", "tab\there"]
        let values: [Double] = [0, -0.0, 1, 3600, 1_640_177_411, 0.1, 1e-7, 1.5e300, -2.5, .nan, .infinity, -.infinity, 5e-324]
        let registry = PrometheusCollectorRegistry()
        var ours = Exposition.header(name: "test_gauge", help: "A help text.", type: .gauge).utf8.map { $0 }
        for (i, labelValue) in labelValues.enumerated() {
            for (j, value) in values.enumerated() {
                let labels = [("cluster", labelValue), ("index", "\(i)-\(j)")]
                registry.makeGauge(name: "test_gauge", labels: labels, help: "A help text.").set(value)
                var writer = SampleWriter(baseLabels: [])
                writer.sample("test_gauge", labels, value)
                ours += writer.bytes
            }
        }
        var theirs: [UInt8] = []
        registry.emit(into: &theirs)
        let a = try ParsedExposition(String(decoding: ours, as: UTF8.self))
        let b = try ParsedExposition(String(decoding: theirs, as: UTF8.self))
        #expect(a.samples.count == labelValues.count * values.count)
        #expect(a == b)
    }

    @Test func histogramMatchesSwiftPrometheus() throws {
        let observations = [0.001, 0.005, 0.02, 0.3, 0.3, 4, 11, 0.07]
        let registry = PrometheusCollectorRegistry()
        let theirsHistogram = registry.makeValueHistogram(name: "h_seconds", labels: [("endpoint", "config")], buckets: Histogram.bounds, help: "H.")
        var histogram = Histogram()
        for o in observations {
            theirsHistogram.record(o)
            histogram.observe(o)
        }
        var writer = SampleWriter(baseLabels: [])
        writer.histogram("h_seconds", [("endpoint", "config")], histogram)
        let ours = Exposition.header(name: "h_seconds", help: "H.", type: .histogram) + String(decoding: writer.bytes, as: UTF8.self)
        var theirs: [UInt8] = []
        registry.emit(into: &theirs)
        let a = try ParsedExposition(ours)
        let b = try ParsedExposition(String(decoding: theirs, as: UTF8.self))
        #expect(a.samples.count == Histogram.bounds.count + 3)
        #expect(a == b)
        #expect(a.samples[.init(name: "h_seconds_bucket", labels: ["endpoint": "config", "le": "\(0.005)"])] == 2)
        #expect(a.samples[.init(name: "h_seconds_bucket", labels: ["endpoint": "config", "le": "\(Double.infinity)"])] == 8)
    }

    /// Byte for byte, with and without the cluster's labels and the series' own: the bucket
    /// series are written from one head, so its commas and escaping are checked here.
    @Test(arguments: [
        ([("cluster", "a\"b")], [("endpoint", "config")], #"{cluster="a\"b",endpoint="config",le="#, #"{cluster="a\"b",endpoint="config"}"#),
        ([("cluster", "a")], [], #"{cluster="a",le="#, #"{cluster="a"}"#),
        ([], [("endpoint", "x\ny")], #"{endpoint="x\ny",le="#, #"{endpoint="x\ny"}"#),
        ([], [], #"{le="#, ""),
    ])
    func histogramBytes(_ base: [(String, String)], _ labels: [(String, String)], _ bucketHead: String, _ series: String) {
        var histogram = Histogram()
        for o in [0.003, 0.2, 12, 7] { histogram.observe(o) }
        var writer = SampleWriter(baseLabels: base)
        writer.histogram("h_seconds", labels, histogram)
        let cumulative = ["0.005": 1, "0.01": 1, "0.025": 1, "0.05": 1, "0.1": 1, "0.25": 2, "0.5": 2, "1": 2, "2.5": 2, "5": 2, "10": 3, "+Inf": 4]
        var expected = ""
        for bound in Histogram.boundLabels + ["+Inf"] { expected += "h_seconds_bucket\(bucketHead)\"\(bound)\"} \(cumulative[bound]!)\n" }
        expected += "h_seconds_sum\(series) 19.203\nh_seconds_count\(series) 4\n"
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }
}
