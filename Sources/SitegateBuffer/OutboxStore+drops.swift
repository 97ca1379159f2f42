import SitegateCore

// Dropping the oldest unsent messages, counted in the `meta` table and declared by gap notices.
extension OutboxStore {
    /// Deletes about `fraction` of the unsent rows, oldest first (at least one). The caller has let the archive
    /// give way first.
    func dropOldest(fraction: Double) throws(SQLiteError) -> DropReport {
        try deleteAcknowledged(now: lastNow)
        guard let first = try firstUnsent(), let last = try lastUnsent() else { return DropReport() }
        let count = max(1, Int64(Double(last - first.seq + 1) * fraction))
        return try dropWhere(
            "seq IN (SELECT seq FROM outbox WHERE seq >= \(first.seq) AND \(unsentCondition) ORDER BY seq LIMIT \(count))",
            reason: .bufferBounds)
    }

    func dropOlderThan(_ cutoff: UnixTime) throws(SQLiteError) -> DropReport {
        try deleteAcknowledged(now: lastNow)
        guard let oldest = try firstUnsent(), oldest.takenAt < cutoff.milliseconds else { return DropReport() }
        return try dropWhere("taken_at_ms < \(cutoff.milliseconds)", reason: .bufferBounds)
    }

    /// Deletes the unsent rows matching `condition` and records the gap notices for them, in one transaction.
    func dropWhere(_ condition: String, reason: GapNotice.Reason) throws(SQLiteError) -> DropReport {
        // Acknowledged messages are not drops.
        try deleteAcknowledged(now: lastNow)
        let unsent = "\(unsentCondition) AND (\(condition))"
        let report = try transaction { () throws(SQLiteError) -> DropReport in
            let summary = try database.prepare(
                "SELECT count(*), min(taken_at_ms), max(taken_at_ms) FROM outbox WHERE \(unsent)")
            _ = try summary.step()
            let report = DropReport(
                count: Int(summary.int64(0)),
                oldest: summary.isNull(1) ? nil : UnixTime(milliseconds: summary.int64(1)),
                newest: summary.isNull(2) ? nil : UnixTime(milliseconds: summary.int64(2)))
            guard report.count > 0 else { return report }
            try recordGaps(unsent, reason: reason)
            try database.execute("DELETE FROM outbox WHERE \(unsent)")
            try storeHead()
            return report
        }
        depth -= report.count
        if report.count > 0 { try forgetLiveMessages() }
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
