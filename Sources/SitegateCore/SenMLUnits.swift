/// Units a device map may use: the SenML registry of RFC 8428 and the secondary units of RFC 8798.
public enum SenMLUnits {
    /// Primary units (RFC 8428 §12.1 and RFC 8798 additions): usable at SenML version 10.
    public static let primary: Set<String> = [
        "m", "kg", "g", "s", "A", "K", "cd", "mol", "Hz", "rad", "sr", "N", "Pa", "J", "W", "C", "V", "F", "Ohm", "S",
        "Wb", "T", "H", "Cel", "lm", "lx", "Bq", "Gy", "Sv", "kat", "m2", "m3", "l", "m/s", "m/s2", "m3/s", "l/s",
        "W/m2", "cd/m2", "bit", "bit/s", "lat", "lon", "pH", "dB", "dBW", "count", "/", "%RH", "%EL", "EL",
        "1/s", "1/min", "S/m", "B", "VA", "VAs", "var", "vars", "J/m", "kg/m3", "deg",
    ]

    /// Secondary units (RFC 8798 §4): a pack that uses one must declare `bver` with feature 4 (RFC 9100).
    public static let secondary: Set<String> = [
        "ms", "min", "h", "MHz", "kW", "kVA", "kvar", "Ah", "Wh", "kWh", "varh", "kvarh", "kVAh", "Wh/km", "KiB", "GB",
        "Mbit/s", "B/s", "MB/s", "mV", "mA", "dBm", "ug/m3", "mm/h", "m/h", "ppm", "/100", "/1000", "hPa", "mm", "cm",
        "km", "km/h",
    ]

    public static func isKnown(_ unit: String) -> Bool {
        primary.contains(unit) || secondary.contains(unit)
    }

    /// SenML version with the secondary-units feature (RFC 9100: 10 + 2^4).
    public static let versionWithSecondaryUnits = 26
}
