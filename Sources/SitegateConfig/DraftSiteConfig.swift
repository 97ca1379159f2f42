import SitegateCore

/// The first site config for a bus that `sitegate scan` found meters on: a draft for the technician, written so
/// that `sitegate check` accepts it and `sitegate run` polls it, with a `CHECK` comment on every line the scan
/// could only guess (docs/field-guide.md, "Write the first config").
public struct DraftSiteConfig: Sendable {
    /// One unit id that answered, and what the scan made of it.
    public struct Unit: Sendable {
        public var unit: Int
        /// The best fitting map id, nil when no map fits.
        public var model: String?
        /// Values of the model's first read that looked right, of those checked.
        public var plausible: Int
        public var checked: Int
        /// A few of those values, e.g. "voltage_l1 230.1 V".
        public var sample: String
        /// Other maps that fit as well as `model`.
        public var alsoFits: [String]

        public init(unit: Int, model: String?, plausible: Int, checked: Int, sample: String, alsoFits: [String]) {
            self.unit = unit
            self.model = model
            self.plausible = plausible
            self.checked = checked
            self.sample = sample
            self.alsoFits = alsoFits
        }

        /// A guess to double-check: few values looked right, or another map fits as well.
        public var isWeak: Bool {
            model != nil && (plausible * 4 < checked * 3 || plausible < 2 || !alsoFits.isEmpty)
        }
    }

    public var transport: BusTransport
    public var units: [Unit]
    /// Absolute folders the models came from, in the scan's order.
    public var mapFolders: [String]
    /// The polling interval every device gets: 15m (the settlement period) unless the technician asked otherwise.
    public var interval: String
    public var scannedAt: UnixTime

    public init(transport: BusTransport, units: [Unit], mapFolders: [String], interval: String, scannedAt: UnixTime) {
        self.transport = transport
        self.units = units
        self.mapFolders = mapFolders
        self.interval = interval
        self.scannedAt = scannedAt
    }

    public var busID: String {
        if case .rtu = transport { return "rs485-1" }
        return "lan-1"
    }

    /// The YAML text.
    public func render() -> String {
        var out = """
            # Draft site config written by `sitegate scan` at \(scannedAt).
            # Lines marked CHECK are guesses: set the site, gateway and broker, name each device after what it
            # measures, compare its values with the meter's display (`sitegate read DEVICE -c THIS-FILE`), then
            # `sitegate check -c THIS-FILE`. Reference: docs/config.md.
            site:
              id: new-site                        # CHECK: the park's id (topic level 2)
              gateway: gw01                       # CHECK: this gateway within the park
            mqtt:
              url: mqtt://127.0.0.1:1883          # CHECK: the park's broker; mqtts://HOST:8883 for TLS
            buffer:
              path: /var/lib/sitegate/buffer.db   # its folder must exist
            maps:

            """
        for folder in mapFolders { out += "  - \(Self.scalar(folder))\n" }
        out += "buses:\n  - id: \(busID)\n"
        switch transport {
        case .tcp(let host, let port):
            out += "    tcp: { host: \(Self.scalar(host)), port: \(port) }\n"
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            out += "    rtu: { device: \(Self.scalar(device)), baud: \(baud), parity: \(parity.rawValue), "
                + "data_bits: \(dataBits), stop_bits: \(stopBits) }\n"
        }
        out += "devices:\n"
        if !units.contains(where: { $0.model != nil }) {
            out += "  []   # no answering unit matched a map: see the commented entries below\n"
        }
        for u in units { out += entry(u) }
        return out
    }

    private func entry(_ u: Unit) -> String {
        let lines = [
            "- id: unit-\(u.unit)", "  bus: \(busID)", "  unit: \(u.unit)", "  model: \(u.model ?? "MODEL")",
            "  interval: \(interval)",
        ]
        guard let model = u.model else {
            return """
                  # CHECK: unit \(u.unit) answers, but no map in the folders above fits it. Read its model on the type
                  # plate, find its map (`sitegate maps list`, or write one: docs/devicemaps.md), then remove the '#'s.

                """ + lines.map { "  # \($0)\n" }.joined()
        }
        var comment = "  # unit \(u.unit): \(model), \(u.plausible)/\(u.checked) values plausible"
        if !u.sample.isEmpty { comment += " (\(u.sample))" }
        comment += "\n"
        if u.isWeak {
            comment += "  # CHECK: a weak guess"
            if !u.alsoFits.isEmpty { comment += "; fits as well: \(u.alsoFits.joined(separator: ", "))" }
            comment += ". Compare `sitegate read unit-\(u.unit)` with the display before trusting it.\n"
        }
        let named = ["\(lines[0])   # CHECK: name it (grid-incomer, pv-roof, ...)"] + lines.dropFirst()
        return comment + named.map { "  \($0)\n" }.joined()
    }

    /// Plain when it is safe in YAML, else double-quoted (JSON strings are valid YAML).
    static func scalar(_ text: String) -> String {
        let safe = !text.isEmpty && text.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
                || "/._-".unicodeScalars.contains($0)
        }
        return safe && !text.hasPrefix("-") ? text : JSONText.quoted(text)
    }
}
