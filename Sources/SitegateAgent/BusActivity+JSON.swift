import SitegateCore

extension BusActivity.Figures {
    /// The JSON fields health and status messages share for a bus (docs/payload.md), without braces.
    func jsonFields() -> [String] {
        var fields = [
            "\"transactions\":\(transactions)", "\"timeouts\":\(timeouts)", "\"missed_ticks\":\(missedTicks)",
            "\"missed_ticks_recent\":\(recentMissedTicks)",
            "\"utilisation\":\(JSONText.number(rounded(utilisation, 1000)))",
            "\"transaction_ms\":" + (transactionMilliseconds.map { JSONText.number(rounded($0, 1000)) } ?? "null"),
            "\"overloaded\":\(overloaded)",
        ]
        if let advice { fields.append("\"advice\":\(JSONText.quoted(advice))") }
        return fields
    }

    private func rounded(_ v: Double, _ scale: Double) -> Double { (v * scale).rounded() / scale }
}
