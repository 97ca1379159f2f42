import SitegateCore
import Testing

@Suite struct BufferBoundsTests {
    let mib: Int64 = 1 << 20
    let t0 = UnixTime(seconds: 1_767_225_600)

    func bounds(_ policy: BufferFullPolicy) -> BufferBounds {
        BufferBounds(maxBytes: 64 * mib, maxAge: .seconds(86400), whenFull: policy)
    }

    @Test func readsTheSettings() {
        let settings = BufferSettings(path: "/x", maxBytes: 2 * mib, maxAge: .seconds(7200), whenFull: .pause)
        #expect(BufferBounds(settings) == BufferBounds(maxBytes: 2 * mib, maxAge: .seconds(7200), whenFull: .pause))
    }

    @Test func pauseRefusesNewPollsFromTheBoundOn() {
        let b = bounds(.pause)
        #expect(b.refusesNewPolls { 64 * mib - 1 } == false)
        #expect(b.refusesNewPolls { 64 * mib } == true)
        #expect(b.refusesNewPolls { 65 * mib } == true)
    }

    @Test func dropOldestNeverRefusesAndDoesNotMeasure() {
        var measured = false
        #expect(bounds(.dropOldest).refusesNewPolls { measured = true; return 100 * mib } == false)
        #expect(!measured, "drop_oldest must not pay for a size query before each commit")
    }

    @Test func sizeBoundDropsOnlyWithDropOldestAndOnlyPastTheBound() {
        #expect(bounds(.dropOldest).dropsForSize { 64 * mib } == false)
        #expect(bounds(.dropOldest).dropsForSize { 64 * mib + 1 } == true)
        var measured = false
        #expect(bounds(.pause).dropsForSize { measured = true; return 100 * mib } == false)
        #expect(!measured)
        // Dropping goes on down to 95 %, so that the next commits do not each drop again.
        #expect(bounds(.dropOldest).sizeAfterDrops == 64 * mib * 95 / 100)
    }

    @Test func fullDiskDropsAStepOrPauses() {
        #expect(bounds(.dropOldest).diskFullDrop == BufferBounds.diskFullStep)
        #expect(bounds(.pause).diskFullDrop == nil, "pause never drops unsent polls")
    }

    @Test func nearlyFullFileSystemDropsBelowTwiceTheReserve() {
        let b = bounds(.dropOldest)
        #expect(b.dropsForFreeSpace(free: { 2 * mib - 1 }, reserve: mib) == true)
        #expect(b.dropsForFreeSpace(free: { 2 * mib }, reserve: mib) == false)
        #expect(bounds(.pause).dropsForFreeSpace(free: { 0 }, reserve: mib) == false)
    }

    @Test func ageBoundIsCheckedOncePerIntervalWithTheCutoffMaxAgeBack() {
        let b = bounds(.pause)  // the age bound applies with either policy
        #expect(b.ageCutoff(now: t0 + .seconds(60), lastCheck: t0) == nil)
        #expect(b.ageCutoff(now: t0 + .seconds(61), lastCheck: t0) == t0 + .seconds(61 - 86400))
        #expect(bounds(.dropOldest).ageCutoff(now: t0, lastCheck: UnixTime(nanoseconds: 0)) == t0 + .seconds(-86400))
    }
}
