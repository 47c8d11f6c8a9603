import Testing
@testable import Daemon

/// The detector is pure: these tests feed observations and times, no files, no clock.
@Suite struct StackDetectorTests {
    func rules(_ edit: (inout DetectionRules) -> Void = { _ in }) -> DetectionRules {
        var r = DetectionRules()
        r.stableSeconds = 2
        r.quietSeconds = nil
        edit(&r)
        return r
    }

    @Test func multiPageTIFFIsCompleteOnlyWhenClosedAndStable() {
        var d = StackDetector(rules: rules())
        // Being written: size grows at each look, not closed.
        d.observe("s.tif", signature: .init(size: 100, mtime: 10), now: 10, closed: false)
        #expect(d.evaluate(now: 10).isEmpty)
        d.observe("s.tif", signature: .init(size: 200, mtime: 11), now: 11)
        #expect(d.evaluate(now: 11).isEmpty)
        // The writer pauses longer than the stability window, but has not closed the file.
        d.observe("s.tif", signature: .init(size: 200, mtime: 11), now: 14)
        #expect(d.evaluate(now: 14).isEmpty)
        #expect(d.pendingPaths == ["s.tif"])
        // It writes more, then closes.
        d.observe("s.tif", signature: .init(size: 300, mtime: 15), now: 15, closed: true)
        #expect(d.evaluate(now: 15.5).isEmpty)
        d.observe("s.tif", signature: .init(size: 300, mtime: 15), now: 16)
        #expect(d.evaluate(now: 16).isEmpty, "closed but changed 1 s ago: not yet stable")
        d.observe("s.tif", signature: .init(size: 300, mtime: 15), now: 17.1)
        let done = d.evaluate(now: 17.1)
        #expect(done.map(\.name) == ["s"])
        #expect(done.first?.kind == .file)
        #expect(done.first?.root == "s.tif")
        #expect(done.first?.signatures == [.init(size: 300, mtime: 15)])
        #expect(d.evaluate(now: 30).isEmpty, "reported once")
        #expect(d.pendingPaths.isEmpty)
    }

    @Test func aFileFoundByAScanWithAnOldMtimeIsCompleteAtTheSecondLook() {
        var d = StackDetector(rules: rules())
        d.observe("old.tiff", signature: .init(size: 10, mtime: 100), now: 500, closed: true)
        #expect(d.evaluate(now: 500).isEmpty, "one look is not enough")
        d.observe("old.tiff", signature: .init(size: 10, mtime: 100), now: 500.25)
        #expect(d.evaluate(now: 500.25).map(\.name) == ["old"])
    }

    /// A writer may be pausing with the file open across a restart of the daemon: a file known only
    /// from a scan counts as stable after `stableSeconds` of watching, whatever its mtime says.
    @Test func aFileFoundByAScanIsStableOnlyAfterTheStabilityWindowOfWatching() {
        var d = StackDetector(rules: rules())
        d.observe("paused.tif", signature: .init(size: 10, mtime: 100), now: 500, fromScan: true)
        #expect(d.isFromScan("paused.tif"))
        d.observe("paused.tif", signature: .init(size: 10, mtime: 100), now: 500.1)
        #expect(d.evaluate(now: 500.1).isEmpty, "an mtime 400 s old is no evidence the writer finished")
        d.observe("paused.tif", signature: .init(size: 10, mtime: 100), now: 500 + rules().stableSeconds)
        #expect(d.evaluate(now: 500 + rules().stableSeconds).map(\.name) == ["paused"])
        // A close event seen live is the writer's own evidence.
        d.observe("paused.tif", signature: .init(size: 10, mtime: 100), now: 502, closed: true)
        #expect(!d.isFromScan("paused.tif"))
    }

    @Test func evidenceOfAWriterMakesTheStackWaitAndReportAgain() {
        var d = StackDetector(rules: rules())
        d.observe("w.tif", signature: .init(size: 10, mtime: 1), now: 100, closed: true)
        d.observe("w.tif", signature: .init(size: 10, mtime: 1), now: 101)
        #expect(d.evaluate(now: 101).count == 1)
        d.reopen(["w.tif"], kind: .file, name: "w", now: 101)
        d.observe("w.tif", signature: .init(size: 10, mtime: 1), now: 105)
        #expect(d.evaluate(now: 105).isEmpty, "not closed any more: waits for the writer's close")
        d.observe("w.tif", signature: .init(size: 10, mtime: 1), now: 106, closed: true)
        #expect(d.evaluate(now: 106 + rules().stableSeconds).map(\.name) == ["w"], "reported again, same content")
    }

    @Test func aLinkInAStackFolderIsPartOfTheStack() {
        var d = StackDetector(rules: rules())
        d.observe("s/1.tif", signature: .init(size: 10, mtime: 1), now: 100, closed: true)
        d.observeForeign("s/2.tif", signature: .init(size: 3, mtime: 1), now: 100)
        d.observe("s/COMPLETE", signature: .init(size: 0, mtime: 1), now: 100, closed: true)
        for t in [101.0, 102.0] {
            d.observe("s/1.tif", signature: .init(size: 10, mtime: 1), now: t)
            d.observeForeign("s/2.tif", signature: .init(size: 3, mtime: 1), now: t)
            d.observe("s/COMPLETE", signature: .init(size: 0, mtime: 1), now: t)
        }
        let stacks = d.evaluate(now: 102)
        #expect(stacks.map(\.inputs) == [["s/1.tif", "s/2.tif"]])
        #expect(d.isForeign("s/2.tif"))
    }

    @Test func aChangedFileIsReportedAgainOnceStable() {
        var d = StackDetector(rules: rules())
        d.observe("a.tif", signature: .init(size: 10, mtime: 1), now: 100, closed: true)
        d.observe("a.tif", signature: .init(size: 10, mtime: 1), now: 101)
        #expect(d.evaluate(now: 101).count == 1)
        d.modified("a.tif", now: 102)
        d.observe("a.tif", signature: .init(size: 20, mtime: 102), now: 102, closed: true)
        #expect(d.evaluate(now: 103).isEmpty)
        d.observe("a.tif", signature: .init(size: 20, mtime: 102), now: 104.5)
        #expect(d.evaluate(now: 104.5).first?.signatures == [.init(size: 20, mtime: 102)])
    }

    @Test func sliceFolderCompletesByMarker() {
        var d = StackDetector(rules: rules { $0.marker = "DONE" })
        for (i, name) in ["z10.tif", "z2.tif", "z1.tif"].enumerated() {
            d.observe("run1/\(name)", signature: .init(size: 5, mtime: Double(i)), now: 50)
            d.observe("run1/\(name)", signature: .init(size: 5, mtime: Double(i)), now: 51)
        }
        d.observe("run1/notes.txt", signature: .init(size: 5, mtime: 1), now: 51)
        #expect(d.evaluate(now: 51).isEmpty, "no marker, no count, no quiet period")
        d.observe("run1/DONE", signature: .init(size: 0, mtime: 52), now: 52)
        let done = d.evaluate(now: 52)
        #expect(done.count == 1)
        #expect(done.first?.kind == .folder)
        #expect(done.first?.root == "run1")
        #expect(done.first?.inputs == ["run1/z1.tif", "run1/z2.tif", "run1/z10.tif"], "natural order, marker and other files excluded")
    }

    @Test func sliceFolderCompletesByCount() {
        var d = StackDetector(rules: rules { $0.sliceCount = 3 })
        d.observe("f/a1.tif", signature: .init(size: 5, mtime: 0), now: 10)
        d.observe("f/a2.tif", signature: .init(size: 5, mtime: 0), now: 10)
        d.observe("f/a1.tif", signature: .init(size: 5, mtime: 0), now: 11)
        d.observe("f/a2.tif", signature: .init(size: 5, mtime: 0), now: 11)
        #expect(d.evaluate(now: 11).isEmpty)
        d.observe("f/a3.tif", signature: .init(size: 5, mtime: 12), now: 12)
        d.observe("f/a3.tif", signature: .init(size: 5, mtime: 12), now: 13)
        #expect(d.evaluate(now: 13).isEmpty, "third slice not yet stable")
        d.observe("f/a3.tif", signature: .init(size: 5, mtime: 12), now: 14.1)
        #expect(d.evaluate(now: 14.1).first?.inputs.count == 3)
    }

    @Test func sliceFolderCompletesByQuietPeriod() {
        var d = StackDetector(rules: rules { $0.quietSeconds = 10 })
        d.observe("f/1.png", signature: .init(size: 5, mtime: 100), now: 100)
        d.observe("f/2.png", signature: .init(size: 5, mtime: 104), now: 104)
        d.observe("f/1.png", signature: .init(size: 5, mtime: 100), now: 105)
        d.observe("f/2.png", signature: .init(size: 5, mtime: 104), now: 105)
        #expect(d.evaluate(now: 113).isEmpty, "the last change was 9 s ago")
        #expect(d.evaluate(now: 114.1).first?.inputs == ["f/1.png", "f/2.png"])
    }

    @Test func looseFilesGroupByPatternAndOrderByZ() {
        var d = StackDetector(rules: rules {
            $0.pattern = #"(?<stack>.+)_z(?<z>\d+)\.tif"#
            $0.sliceCount = 3
        })
        for name in ["cellA_z10.tif", "cellA_z9.tif", "cellB_z1.tif", "cellA_z1.tif", "other.tif"] {
            d.observe(name, signature: .init(size: 5, mtime: 0), now: 10, closed: true)
            d.observe(name, signature: .init(size: 5, mtime: 0), now: 11)
        }
        let done = d.evaluate(now: 11)
        #expect(done.count == 2)
        let cellA = done.first { $0.name == "cellA" }
        #expect(cellA?.kind == .loose)
        #expect(cellA?.root == nil)
        #expect(cellA?.inputs == ["cellA_z1.tif", "cellA_z9.tif", "cellA_z10.tif"])
        #expect(done.contains { $0.name == "other" && $0.kind == .file }, "a non-matching image is a stack file")
        #expect(!done.contains { $0.name == "cellB" }, "one slice of three")
    }

    @Test func hiddenFilesAndDeepFilesAreIgnored() {
        var d = StackDetector(rules: rules())
        d.observe(".partial.tif", signature: .init(size: 5, mtime: 0), now: 10, closed: true)
        d.observe("f/.tmp/x.tif", signature: .init(size: 5, mtime: 0), now: 10)
        d.observe("f/g/x.tif", signature: .init(size: 5, mtime: 0), now: 10)
        #expect(d.pendingPaths.isEmpty)
    }

    @Test func removalForgetsTheStackSoItCanArriveAgain() {
        var d = StackDetector(rules: rules())
        d.observe("a.tif", signature: .init(size: 5, mtime: 0), now: 10, closed: true)
        d.observe("a.tif", signature: .init(size: 5, mtime: 0), now: 11)
        #expect(d.evaluate(now: 11).count == 1)
        d.removed("a.tif")
        #expect(d.trackedPaths.isEmpty)
        d.observe("a.tif", signature: .init(size: 5, mtime: 0), now: 20, closed: true)
        d.observe("a.tif", signature: .init(size: 5, mtime: 0), now: 21)
        #expect(d.evaluate(now: 21).count == 1)
    }

    @Test func naturalOrder() {
        let names = ["s10", "s2", "s1", "s01", "t", "s"]
        #expect(names.sorted(by: naturalLess) == ["s", "s1", "s01", "s2", "s10", "t"])
    }
}
