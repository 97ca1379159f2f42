@testable import SitegateBuffer
import Testing

/// The sizes of the latest commits, by seq: known only for a run of consecutive seqs, the last `capacity` of them.
@Suite struct RecentSizesTests {
    @Test func knowsTheLastCommitsOnly() {
        var sizes = RecentSizes()
        #expect(sizes.size(of: 0) == nil && sizes.size(of: 1) == nil, "nothing committed yet")
        for seq in Int64(100)..<Int64(100 + RecentSizes.capacity + 10) { sizes.committed(seq: seq, size: Int(seq % 1000)) }
        let newest = Int64(100 + RecentSizes.capacity + 9)
        #expect(sizes.size(of: newest) == newest % 1000)
        #expect(sizes.size(of: newest - Int64(RecentSizes.capacity) + 1) == (newest - Int64(RecentSizes.capacity) + 1) % 1000)
        #expect(sizes.size(of: newest - Int64(RecentSizes.capacity)) == nil, "overwritten: the database knows")
        #expect(sizes.size(of: newest + 1) == nil)
    }

    @Test func aGapStartsOverAndForgettingIsForGood() {
        var sizes = RecentSizes()
        sizes.committed(seq: 10, size: 1)
        sizes.committed(seq: 11, size: 2)
        sizes.committed(seq: 20, size: 3)  // seqs 12...19 went to rows rolled back, or to nobody
        #expect(sizes.size(of: 11) == nil && sizes.size(of: 20) == 3)
        sizes.committed(seq: 21, size: 4)
        sizes.forget(through: 20)
        #expect(sizes.size(of: 20) == nil && sizes.size(of: 21) == 4)
        sizes.forget()
        #expect(sizes.size(of: 21) == nil)
        sizes.committed(seq: 22, size: 5)
        #expect(sizes.size(of: 22) == 5 && sizes.size(of: 21) == nil)
    }
}
