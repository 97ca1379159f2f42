import SitegateCore

// Dropping the oldest polls, counted in the `meta` table.
extension OutboxStore {
    /// Deletes about `fraction` of the rows, oldest first (at least one).
    func dropOldest(fraction: Double) throws(SQLiteError) -> DropReport {
        let range = try database.prepare("SELECT min(seq), max(seq) FROM outbox")
        guard try range.step(), !range.isNull(0) else { return DropReport() }
        let span = range.int64(1) - range.int64(0) + 1
        let count = max(1, Int64(Double(span) * fraction))
        return try dropWhere("seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT \(count))")
    }

    func dropOlderThan(_ cutoff: UnixTime) throws(SQLiteError) -> DropReport {
        let oldest = try database.prepare("SELECT taken_at_ms FROM outbox ORDER BY seq LIMIT 1")
        guard try oldest.step(), oldest.int64(0) < cutoff.milliseconds else { return DropReport() }
        return try dropWhere("taken_at_ms < \(cutoff.milliseconds)")
    }

    func dropWhere(_ condition: String) throws(SQLiteError) -> DropReport {
        // Acknowledged polls are not drops.
        try deleteAcknowledged()
        let report = try database.transaction { () throws(SQLiteError) -> DropReport in
            let summary = try database.prepare(
                "SELECT count(*), min(taken_at_ms), max(taken_at_ms) FROM outbox WHERE \(condition)")
            _ = try summary.step()
            let report = DropReport(
                count: Int(summary.int64(0)),
                oldest: summary.isNull(1) ? nil : UnixTime(milliseconds: summary.int64(1)),
                newest: summary.isNull(2) ? nil : UnixTime(milliseconds: summary.int64(2)))
            try database.execute("DELETE FROM outbox WHERE \(condition)")
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


    /// Deletes everything; counted as drops.
    func purge() throws(SQLiteError) -> DropReport {
        let report = try dropWhere("1")
        if report.count > 0 { try recordDrops(report) }
        return report
    }
}
