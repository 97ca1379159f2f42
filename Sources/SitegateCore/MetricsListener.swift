/// Where the agent serves Prometheus metrics over HTTP (`metrics.listen`): loopback only, for a local Prometheus
/// agent or a scraper on the same box. The figures are not for the network, which needs no TLS or login here.
public struct MetricsListener: Sendable, Hashable {
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    public var host: String
    public var port: Int
    public var family: Family

    /// `127.0.0.1:9464`, any `127.x.y.z`, `localhost:9464` (taken as 127.0.0.1) or `[::1]:9464`; nil otherwise.
    public init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
        self.port = port
        switch hostPart {
        case "localhost":
            host = "127.0.0.1"
            family = .ipv4
        case "::1":
            host = "::1"
            family = .ipv6
        default:
            let octets = hostPart.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
            guard octets.count == 4, octets.allSatisfy({ $0 != nil }), octets[0] == 127 else { return nil }
            host = String(hostPart)
            family = .ipv4
        }
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
