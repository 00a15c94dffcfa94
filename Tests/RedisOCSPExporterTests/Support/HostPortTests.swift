@testable import RedisOCSPExporter
import Testing

/// One host:port type for the probe's endpoints and the listen address.
@Suite(.tags(.unit))
struct HostPortTests {
    @Test(arguments: [
        ("db:12000", "db:12000"), ("[2001:db8::1]:443", "[2001:db8::1]:443"), ("10.0.0.7:9443", "10.0.0.7:9443"),
        ("db:0", nil), ("db:99999", nil), ("::1:443", nil), (":443", nil), ("db", nil), ("db:", nil), ("a b:1", nil),
        ("u@db:1", nil), ("db:+1", nil), ("db:１", nil), ("[]:1", nil),
    ] as [(String, String?)])
    func endpoints(_ text: String, _ expected: String?) {
        #expect(HostPort(text)?.description == expected, "\(text)")
    }

    @Test(arguments: [
        ("127.0.0.1:0", "127.0.0.1:0"), (":10044", "0.0.0.0:10044"), ("[::]:9090", "[::]:9090"), ("localhost:10044", "localhost:10044"),
        ("10044", nil), ("host:70000", nil), ("::1:10044", nil),
    ] as [(String, String?)])
    func listenAddresses(_ text: String, _ expected: String?) {
        #expect(ListenAddress(listen: text)?.description == expected, "\(text)")
        #expect(ListenAddress(listen: ":10044")?.browsableURL() == "http://localhost:10044")
    }
}
