import SitegateCore

// Dropping the oldest unsent messages, counted in the `meta` table and declared by gap notices.
extension OutboxStore {
    /// Deletes about `fraction` of the unsent rows, oldest first (at least one). The caller has let the archive
    /// give way first.
    func dropOldest(fraction: Double) throws(SQLiteError) -> DropReport {
        let range = try database.prepare("SELECT min(seq), max(seq) FROM outbox WHERE acked = 0")
        guard try range.step(), !range.isNull(0) else { return DropReport() }
        let span = range.int64(1) - range.int64(0) + 1
        let count = max(1, Int64(Double(span) * fraction))
        return try dropWhere(
            "seq IN (SELECT seq FROM outbox WHERE acked = 0 ORDER BY acked, seq LIMIT \(count))", reason: .bufferBounds)
    }

    func dropOlderThan(_ cutoff: UnixTime) throws(SQLiteError) -> DropReport {
        let oldest = try database.prepare("SELECT taken_at_ms FROM outbox WHERE acked = 0 ORDER BY acked, seq LIMIT 1")
        guard try oldest.step(), oldest.int64(0) < cutoff.milliseconds else { return DropReport() }
        return try dropWhere("taken_at_ms < \(cutoff.milliseconds)", reason: .bufferBounds)
    }

    /// Deletes the unsent rows matching `condition` and records the gap notices for them, in one transaction.
    func dropWhere(_ condition: String, reason: GapNotice.Reason) throws(SQLiteError) -> DropReport {
        // Acknowledged messages are not drops.
        try deleteAcknowledged(now: lastNow)
        let unsent = "acked = 0 AND (\(condition))"
        let report = try database.transaction { () throws(SQLiteError) -> DropReport in
            let summary = try database.prepare(
                "SELECT count(*), min(taken_at_ms), max(taken_at_ms) FROM outbox WHERE \(unsent)")
            _ = try summary.step()
            let report = DropReport(
                count: Int(summary.int64(0)),
                oldest: summary.isNull(1) ? nil : UnixTime(milliseconds: summary.int64(1)),
                newest: summary.isNull(2) ? nil : UnixTime(milliseconds: summary.int64(2)))
            guard report.count > 0 else { return report }
            try recordGaps(condition, reason: reason)
            try database.execute("DELETE FROM outbox WHERE \(unsent)")
            try storeHead()
            return report
        }
        depth -= report.count
        return report
    }

    func recordDrops(_ drop: DropReport) throws(SQLiteError) {
        try database.transaction { () throws(SQLiteError) in
            try database.execute(
                "INSERT INTO meta(key, value) VALUES ('drops', \(drop.count)) "
                    + "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
            if let oldest = drop.oldest {
                try database.execute(
                    "INSERT INTO meta(key, value) VALUES ('drops_oldest_ms', \(oldest.milliseconds)) "
                        + "ON CONFLICT(key) DO UPDATE SET value = min(value, excluded.value)")
            }
            if let newest = drop.newest {
                try database.execute(
                    "INSERT INTO meta(key, value) VALUES ('drops_newest_ms', \(newest.milliseconds)) "
                        + "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)")
            }
        }
    }

    /// Deletes every unsent message; counted as drops and declared by gap notices (sealed by the agent with its
    /// next commit: the tool that purges need not hold the key).
    func purge() throws(SQLiteError) -> DropReport {
        let report = try dropWhere("1", reason: .purge)
        if report.count > 0 { try recordDrops(report) }
        return report
    }
}
