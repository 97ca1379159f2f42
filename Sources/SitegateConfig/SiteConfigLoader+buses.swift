import SitegateCore

// `buses:`: each Modbus TCP or RTU line with its timing.
extension SiteConfigLoader {
    static let busKeys = ["id", "tcp", "rtu", "response_timeout", "byte_timeout", "delay"]
    static let tcpKeys = ["host", "port", "rtu_gateway"]
    static let rtuKeys = ["device", "baud", "parity", "data_bits", "stop_bits", "rs485"]

    static func readBuses(_ top: MappingReader, sink: DiagnosticSink) -> [BusConfig] {
        var buses: [BusConfig] = []
        for item in top.list("buses", required: true) ?? [] {
            guard let m = MappingReader(item, context: "a bus", sink: sink) else { continue }
            m.rejectUnknownKeys(allowed: busKeys)
            let id = m.identifier("id", rule: "use lowercase letters, digits, '-' and '_'", isValid: IDRules.isName)
            var transport: BusTransport? = nil
            var rs485 = false
            var rtuGateway = false
            switch (m.value("tcp"), m.value("rtu")) {
            case (_?, nil):
                if let t = m.section("tcp", allowed: tcpKeys) {
                    let host = t.string("host", required: true)
                    let port = t.int("port", range: 1...65535) ?? 502
                    rtuGateway = t.bool("rtu_gateway") ?? false
                    if let host { transport = .tcp(host: host, port: port) }
                }
            case (nil, _?):
                if let r = m.section("rtu", allowed: rtuKeys) {
                    let device = r.string("device", required: true)
                    let baud = r.int("baud", range: 300...4_000_000) ?? 9600
                    let parity = r.choice("parity", as: Parity.self) ?? .none
                    let dataBits = r.int("data_bits", range: 5...8) ?? 8
                    let stopBits = r.int("stop_bits", range: 1...2) ?? 1
                    rs485 = r.bool("rs485") ?? false
                    if let device {
                        transport = .rtu(device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
                    }
                }
            case (_?, _?):
                sink.error("a bus is either 'tcp' or 'rtu', not both", at: item)
            case (nil, nil):
                sink.error("a bus needs 'tcp' (host, port) or 'rtu' (device, baud, ...)", at: item)
            }
            if let id, buses.contains(where: { $0.id == id }) {
                sink.error("duplicate bus id '\(id)'", at: m.value("id")!)
                continue
            }
            guard let id, let transport else { continue }
            var bus = BusConfig(id: id, transport: transport)
            bus.rs485 = rs485
            bus.rtuGateway = rtuGateway
            if let t = m.duration("response_timeout") { bus.responseTimeout = t }
            if let t = m.duration("byte_timeout") { bus.byteTimeout = t }
            if let d = m.duration("delay") { bus.delayBetweenRequests = d }
            buses.append(bus)
        }
        return buses
    }
}
