/// The payload sizes of the messages this store committed most recently, by seq: what an acknowledgement needs
/// (whether the row is still there, and its size for the archive's figures) without a read of the database.
///
/// It covers consecutive seqs only, the last `capacity` of them (40 s at 100 messages a second, in 16 KB). A seq
/// outside them is looked up in the database. The owner forgets it all whenever rows can have gone other than by
/// acknowledgement (a drop, a purge, a replaced database): then "known here" would no longer mean "still there".
struct RecentSizes {
    static let capacity = 4096
    private var sizes = [Int32](repeating: 0, count: capacity)
    /// The seqs held: `oldest...newest`, empty while `newest < oldest`.
    private(set) var oldest: Int64 = 1
    private(set) var newest: Int64 = 0

    /// A message committed as `seq`. A seq that does not follow the newest (a gap) starts the window over.
    mutating func committed(seq: Int64, size: Int) {
        if seq != newest + 1 || newest < oldest { oldest = seq }
        newest = seq
        oldest = max(oldest, newest - Int64(Self.capacity) + 1)
        sizes[Int(seq % Int64(Self.capacity))] = Int32(clamping: size)
    }

    /// The size of `seq` when it is one of the recent commits; nil when only the database knows.
    func size(of seq: Int64) -> Int64? {
        guard seq >= oldest && seq <= newest else { return nil }
        return Int64(sizes[Int(seq % Int64(Self.capacity))])
    }

    /// Rows up to `seq` may have gone (the archive's oldest were deleted): only later ones stay known.
    mutating func forget(through seq: Int64) {
        oldest = max(oldest, seq + 1)
    }

    mutating func forget() {
        oldest = 1
        newest = 0
    }
}
