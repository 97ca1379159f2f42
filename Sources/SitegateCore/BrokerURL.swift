/// `mqtt://host:port` or `mqtts://host:port`; the port defaults to 1883 or 8883.
public struct BrokerURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init?(_ text: String) {
        let rest: Substring
        if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            return nil
        }
        let hostPort = rest.hasSuffix("/") ? rest.dropLast() : rest
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.isEmpty {
                port = tls ? 8883 : 1883
            } else {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            host = String(hostPort)
            port = tls ? 8883 : 1883
        }
        if host.isEmpty || host.contains("/") || host.contains("@") { return nil }
    }
}
