import SitegateCore

extension SiteConfigLoader {
    static let evidenceKeys = ["slot"]

    /// `evidence: { slot: 15m }`: the checkpoint slot, a whole number of seconds that divides a day (optional; a
    /// config without it gets 15-minute slots).
    static func readEvidence(_ top: MappingReader, sink: DiagnosticSink) -> EvidenceSettings? {
        guard let m = top.section("evidence", allowed: evidenceKeys) else { return nil }
        guard let length = m.duration("slot") else { return nil }
        guard let slots = EvidenceSlots(length: length) else {
            sink.error(
                "'slot' must be a whole number of seconds that divides 24h, such as 15m, 5m, 1h or 30s, found "
                    + "'\(m.value("slot")?.scalarText ?? "")' (slots are aligned to UTC midnight, like settlement periods)",
                at: m.value("slot")!)
            return nil
        }
        return EvidenceSettings(slots: slots)
    }
}
