import SitegateCore
import SitegateModbus

/// The JSON answer to `sitegate read DEVICE`: one line per point with its raw registers, value and status.
public enum ReadReport {
    public static func json(device: DeviceConfig, map: DeviceMap, plan: DevicePlan, outcome: ReadOutcome) -> String {
        var values: [String: Reading] = [:]
        for r in outcome.poll?.readings ?? [] { values[r.pointID] = r }
        let points = plan.points.map { p -> String in
            var fields = [
                "\"id\":\(JSONText.quoted(p.id))", "\"address\":\(p.address)",
                "\"function\":\(JSONText.quoted(p.function.rawValue))", "\"type\":\(JSONText.quoted(p.type.rawValue))",
            ]
            if let unit = p.unit { fields.append("\"unit\":\(JSONText.quoted(unit))") }
            if let range = p.plausibleRange {
                fields.append("\"range\":[\(JSONText.number(range.lowerBound)),\(JSONText.number(range.upperBound))]")
            }
            if let raw = outcome.raw[p.id] {
                fields.append("\"raw\":\(JSONText.quoted(raw.map { Hex.word($0) }.joined(separator: " ")))")
            }
            switch values[p.id]?.value {
            case .number(let v)?:
                fields.append("\"value\":\(JSONText.number(v)),\"status\":\"ok\"")
                // The meter answered, but no such meter shows this value: a wrong word order, scale or map.
                if let range = p.plausibleRange, !range.contains(v) { fields.append("\"out_of_range\":true") }
            case .text(let s)?:
                fields.append("\"text\":\(JSONText.quoted(s)),\"status\":\"ok\"")
            case .invalid?:
                fields.append("\"status\":\"invalid\"")
            case nil:
                let status = outcome.unsupportedPoints.contains(p.id) ? "refused" : "no answer"
                fields.append("\"status\":\(JSONText.quoted(status))")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let errors = outcome.errors.map { JSONText.quoted("\($0)") }
        return "{\"device\":\(JSONText.quoted(device.id)),\"model\":\(JSONText.quoted(map.id)),\"unit\":\(device.unit),"
            + "\"bus\":\(JSONText.quoted(device.busID)),\"transactions\":\(outcome.transactions),"
            + "\"taken_at\":" + (outcome.poll.map { JSONText.quoted("\($0.takenAt)") } ?? "null") + ","
            + "\"errors\":[\(errors.joined(separator: ","))],\"points\":[\(points.joined(separator: ","))]}"
    }
}
