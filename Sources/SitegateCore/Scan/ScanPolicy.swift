/// What `sitegate scan` decides without a bus: which unit ids to try, and what an answer says about a unit.
public enum ScanPolicy {
    public struct BadUnits: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `1-247` or `1,2,10` (or both: `1-5,10`); unit ids are 0-255.
    public static func unitIDs(_ text: String) throws(BadUnits) -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] {
                out += Array(bounds[0]...bounds[1])
            } else if bounds.count == 1 {
                out.append(bounds[0])
            } else {
                throw BadUnits(description: "--units must look like 1-247 or 1,2,10")
            }
        }
        guard !out.isEmpty, out.allSatisfy({ (0...255).contains($0) }) else { throw BadUnits(description: "unit ids are 0-255") }
        return out
    }

    /// A unit that answers with an exception is there, except for a gateway's "path unavailable" (10) and "target
    /// failed to respond" (11): then the gateway answered for a unit that is not.
    public static func exceptionMeansPresent(code: UInt8) -> Bool { code != 10 && code != 11 }
}

/// Numbers for people: a value that is exactly a Float (a float32 register) in the Float's shortest form (230.2,
/// not 230.1999969482422); NaN and infinities by name.
public enum NumberDisplay {
    public static func shortest(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "inf" : "-inf") }
        let f = Float(v)
        return Double(f) == v ? f.description : v.description
    }
}
