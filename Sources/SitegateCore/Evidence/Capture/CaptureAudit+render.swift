/// Numbers in the audit's output: fixed decimals, so every backend prints the same text.
public enum AuditFormat {
    /// `v` rounded to `places` decimals (half away from zero), trailing zeros dropped: `1.596667`, `12`.
    public static func decimal(_ v: Double, places: Int = 6) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e18 else { return JSONText.number(v) }
        let n = Int64(scaled), unit = Int64(scale)
        var fraction = String(n % unit)
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let sign = v < 0 && n != 0 ? "-" : ""
        return sign + String(n / unit) + (fraction.isEmpty ? "" : "." + fraction)
    }
}

extension CaptureAudit {
    public enum RowKey: String, JSONKey {
        case slotStart = "slot_start", slotEnd = "slot_end", device, point, unit, status, energy
        case startValue = "start_value", endValue = "end_value", received, committed, due, reasons
    }
    public enum GatewayKey: String, JSONKey {
        case gateway, messages, declaredHoles = "declared_holes", undeclaredHoles = "undeclared_holes"
        case verifyExit = "verify_exit", signaturesChecked = "signatures_checked", rows
    }
    public enum Key: String, JSONKey { case slotSeconds = "slot_s", gateways }

    /// `--format json`: one object; times are Unix seconds, values rounded to 6 decimals.
    public var json: String {
        let gatewaysJSON = gateways.map { g in
            JSONObjectWriter.object(
                GatewayKey.self,
                [
                    .gateway: .string(g.gateway), .messages: .int(g.messages), .declaredHoles: .int(g.declaredHoles),
                    .undeclaredHoles: .int(g.undeclaredHoles), .verifyExit: .int(g.verifyExit),
                    .signaturesChecked: .bool(g.signaturesChecked),
                    .rows: .raw(JSONText.array(g.rows.map(\.json))),
                ])
        }
        return JSONObjectWriter.object(
            Key.self, [.slotSeconds: .integer(slotSeconds), .gateways: .raw(JSONText.array(gatewaysJSON))])
    }

    public static let csvHeader =
        "gateway,slot_start,slot_end,device,point,unit,status,energy,start_value,end_value,received,committed,due,reasons"

    /// `--format csv`: a header and one line per row; times in ISO 8601 UTC.
    public var csv: [String] {
        var out = [Self.csvHeader]
        for g in gateways {
            for r in g.rows {
                func decimal(_ v: Double?) -> String { v.map { AuditFormat.decimal($0) } ?? "" }
                var fields: [String] = [g.gateway, "\(UnixTime(seconds: r.slotStart))", "\(UnixTime(seconds: r.slotEnd))"]
                fields += [r.device, r.point, r.unit ?? "", r.status.rawValue]
                fields += [decimal(r.energy), decimal(r.startValue), decimal(r.endValue), String(r.received)]
                fields += [r.committed.map { String($0) } ?? "", r.due.map { String($0) } ?? "", r.reasons.joined(separator: "; ")]
                out.append(fields.map(Self.csvField).joined(separator: ","))
            }
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        let escaped: [String] = s.split(separator: "\"", omittingEmptySubsequences: false).map(String.init)
        return "\"" + escaped.joined(separator: "\"\"") + "\""
    }

    /// `--format table`: a summary per gateway, then one line per device, point and slot.
    public var table: [String] {
        var out: [String] = []
        for g in gateways {
            var stream = "\(g.messages) messages"
            stream += g.undeclaredHoles > 0 ? ", \(g.undeclaredHoles) UNDECLARED holes (messages lost)" : ""
            stream += g.declaredHoles > 0 ? ", \(g.declaredHoles) declared holes" : ""
            stream += g.verifyExit == 0 ? ", chain verified" : ", verify exit \(g.verifyExit)"
            stream += g.signaturesChecked ? "" : " (signatures not checked)"
            out.append("gateway \(g.gateway): \(stream)")
            let header = ["SLOT (UTC)", "DEVICE", "POINT", "STATUS", "ENERGY", "MSGS", "REASONS"]
            let rows = g.rows.map { r in
                [
                    Self.slotLabel(r),
                    r.device, r.point, r.status.rawValue,
                    r.energy.map { AuditFormat.decimal($0, places: 3) + (r.unit.map { " " + $0 } ?? "") } ?? "-",
                    "\(r.received)/\(r.committed.map(String.init) ?? "?")/\(r.due.map(String.init) ?? "?")",
                    r.reasons.joined(separator: "; "),
                ]
            }
            out += Self.align([header] + rows)
            out.append("")
        }
        if gateways.isEmpty { out.append("no chained messages in the capture") }
        out.append("MSGS: data messages received / committed / ticks due (from the slot's checkpoint; ? without one)")
        return out
    }

    /// `2026-01-01 00:15/00:30`.
    static func slotLabel(_ r: Row) -> String {
        let start = String("\(UnixTime(seconds: r.slotStart))".prefix(16)).replacingT()
        let end = "\(UnixTime(seconds: r.slotEnd))".dropFirst(11).prefix(5)
        return start + "/" + end
    }

    static func align(_ rows: [[String]]) -> [String] {
        guard let n = rows.first?.count else { return [] }
        let widths = (0..<n).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (c, cell) in row.enumerated() {
                line += c == n - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}

extension CaptureAudit.Row {
    var json: String {
        func number(_ v: Double?) -> JSONField { v.map { .raw(AuditFormat.decimal($0)) } ?? .null }
        return JSONObjectWriter.object(
            CaptureAudit.RowKey.self,
            [
                .slotStart: .integer(slotStart), .slotEnd: .integer(slotEnd), .device: .string(device), .point: .string(point),
                .unit: .string(orNull: unit), .status: .string(status.rawValue), .energy: number(energy),
                .startValue: number(startValue), .endValue: number(endValue), .received: .int(received),
                .committed: committed.map { .int($0) } ?? .null, .due: due.map { .int($0) } ?? .null,
                .reasons: .strings(reasons),
            ])
    }
}

extension String {
    /// `2026-01-01T00:15` as `2026-01-01 00:15`.
    fileprivate func replacingT() -> String { String(map { $0 == "T" ? " " : $0 }) }
}
