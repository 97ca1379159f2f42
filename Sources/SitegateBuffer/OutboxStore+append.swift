import SitegateCore

// Appending a cycle's polls while keeping the buffer inside its bounds (`BufferBounds` decides).
extension OutboxStore {
    /// Commits `polls` in one transaction, keeping the buffer inside its bounds.
    func append(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> AppendResult {
        var result = AppendResult()
        result.committedAt = now
        let bounds = BufferBounds(settings)
        lastNow = now
        if try bounds.refusesNewPolls(usedBytes: usedBytes) {
            // Acknowledged polls waiting to be settled, and the archive, give way first.
            try deleteAcknowledged(now: now)
            while archive.count > 0, try bounds.refusesNewPolls(usedBytes: usedBytes) {
                _ = try evictArchive(fraction: 0.1)
            }
            if try bounds.refusesNewPolls(usedBytes: usedBytes) {
                result.paused = true
                return result
            }
        }
        do {
            result.seqs = try insertAll(polls, now: now)
        } catch where error.isDiskFull {
            // The disk is full. Truncating the write-ahead log often frees enough; otherwise make room as for
            // the size bound (drop the oldest), or pause.
            try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            do {
                result.seqs = try insertAll(polls, now: now)
            } catch where error.isDiskFull {
                // Deleting needs room in the log too: the reserve file gives it back.
                reserve.release()
                if archive.count > 0 {
                    _ = try evictArchive(fraction: 1)
                } else if let fraction = bounds.diskFullDrop {
                    result.drop.merge(try dropOldest(fraction: fraction))
                } else {
                    result.paused = true
                    return result
                }
                giveSpaceBack()
                result.seqs = try insertAll(polls, now: now)
            }
        }
        // Leave the file system some room rather than run it full: drop the oldest while writing still works.
        if bounds.dropsForFreeSpace(free: reserve.fileSystemFree, reserve: Int64(reserve.size)) {
            if archive.count > 0 {
                if try evictArchive(fraction: 0.1) > 0 { giveSpaceBack() }
            } else {
                let dropped = try dropOldest(fraction: BufferBounds.dropStep)
                result.drop.merge(dropped)
                if dropped.count > 0 { giveSpaceBack() }
            }
        }
        appendsSinceReserveCheck += 1
        if appendsSinceReserveCheck >= 100 {
            appendsSinceReserveCheck = 0
            reserve.restoreIfRoom()
        }
        if try bounds.dropsForSize(usedBytes: usedBytes) {
            while try usedBytes() > bounds.sizeAfterDrops {
                if archive.count > 0 {
                    _ = try evictArchive(fraction: 0.1)
                    continue
                }
                let dropped = try dropOldest(fraction: BufferBounds.dropStep)
                if dropped.count == 0 { break }
                result.drop.merge(dropped)
            }
        }
        if let cutoff = bounds.ageCutoff(now: now, lastCheck: lastAgeCheck) {
            lastAgeCheck = now
            result.drop.merge(try dropOlderThan(cutoff))
        }
        if result.drop.count > 0 { try recordDrops(result.drop) }
        return result
    }

    /// Returns the pages freed by deletes to the file system and empties the write-ahead log.
    func giveSpaceBack() {
        try? database.execute("PRAGMA incremental_vacuum")
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Seals and inserts `polls` in one transaction, after the notices the gateway owes; the same transaction
    /// settles the acknowledged messages waiting: one commit (one sync, one set of B-tree pages written) per
    /// cycle instead of two.
    func insertAll(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> [Int64] {
        let settling = settlingIsDue(now: now)
        let (seqs, settledCount) = try transaction { () throws(SQLiteError) -> ([Int64], Int) in
            let settledCount = settling ? try settleAcknowledged(now: now) : 0
            try sealOwedNotices(now: now)
            var seqs: [Int64] = []
            seqs.reserveCapacity(polls.count)
            for poll in polls {
                seqs.append(try insertSealed(sealing.encoder.draft(poll), now: now))
            }
            return (seqs, settledCount)
        }
        depth -= settledCount
        if settling { forgetSettledAcknowledgements() }
        return seqs
    }

    /// Commits one evidence message (a checkpoint) in its own transaction; returns its seq.
    func commitEvidence(_ draft: MessageDraft, slotEnd: UnixTime?, now: UnixTime) throws(SQLiteError) -> Int64 {
        let seq = try transaction { () throws(SQLiteError) -> Int64 in
            try sealOwedNotices(now: now)
            let seq = try insertSealed(draft, now: now)
            if let slotEnd {
                let s = try database.prepare("INSERT OR REPLACE INTO slots(slot_end_ms, seq) VALUES (?, ?)")
                s.bind(1, slotEnd.milliseconds)
                s.bind(2, seq)
                _ = try s.step()
            }
            return seq
        }
        if slotEnd != nil { checkpointSeqs = Array((checkpointSeqs + [seq]).suffix(2)) }
        return seq
    }
}
