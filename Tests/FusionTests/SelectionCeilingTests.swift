import Foundation
import Imaging
import Testing
@testable import Fusion

/// `SelectionCeiling` (`focusd bench ceiling`): its scores agree with the metrics, the greedy flips
/// never lower Q_AB/F, and a misplaced boundary is found by the shift search.
@Suite("Selection ceiling")
struct SelectionCeilingTests {
    /// A sharp on the left half, B on the right (σ 2 blur), 48×48.
    static let pair = Synthetic.halfBlurredPair(width: 48, height: 48)

    /// Weight 1 for x < `edge`, else 0.
    static func leftOf(_ edge: Int, width: Int = 48, height: Int = 48) -> [Float] {
        (0..<(width * height)).map { $0 % width < edge ? 1 : 0 }
    }

    static func blend(_ w: [Float]) -> Image {
        let (_, a, b) = pair
        return Image(width: a.width, height: a.height, channels: 1,
                     pixels: (0..<a.pixels.count).map { w[$0] * a.pixels[$0] + (1 - w[$0]) * b.pixels[$0] })
    }

    @Test func givenScoresAreTheMetricsOfTheBlendedImage() {
        let (_, a, b) = Self.pair
        let w = Self.leftOf(24)
        let report = SelectionCeiling.measure(a: a, b: b, weights: w, peak: 255, passes: 1)
        let fused = Self.blend(w)
        #expect(abs(report.given.qabf - FusionMetrics.qabf(a, b, fused: fused, peak: 255)) < 1e-6)
        #expect(abs(report.given.qcb! - FusionMetrics.qcb(a, b, fused: fused, peak: 255)) < 1e-4)
        #expect(report.seamFree.qcb == nil)
    }

    @Test func seamFreeBoundOfASingleSourceIsThatSourcesScore() {
        let (_, a, b) = Self.pair
        let grey = FusionMetrics.grey([a, b], peak: 255)
        let field = EdgeField(a: grey[0].values, b: grey[1].values, width: a.width, height: a.height)
        let allA = [Bool](repeating: true, count: a.planeSize)
        #expect(abs(field.seamFree(allA) - FusionMetrics.qabf(a, b, fused: a, peak: 255)) < 1e-9)
        #expect(abs(field.qabf(field.select(allA)) - FusionMetrics.qabf(a, b, fused: a, peak: 255)) < 1e-9)
    }

    @Test func greedyFlipsNeverLowerQABFAndOnlyActInTheirBand() {
        let (_, a, b) = Self.pair
        let grey = FusionMetrics.grey([a, b], peak: 255)
        let field = EdgeField(a: grey[0].values, b: grey[1].values, width: a.width, height: a.height)
        // A boundary 5 px off the true one, so there is something to gain.
        let start = Self.leftOf(29).map { $0 >= 0.5 }
        var previous = field.qabf(field.select(start))
        for passes in 1...3 {
            let flipped = field.greedyFlips(start, candidates: nil, passes: passes)
            let q = field.qabf(field.select(flipped))
            #expect(q >= previous - 1e-12, "pass \(passes): \(q) < \(previous)")
            previous = q
        }
        #expect(previous > field.qabf(field.select(start)) + 1e-4)

        let band = field.nearBoundary(start, radius: 2)
        #expect(band.filter { $0 }.count == 4 * 48)   // columns 27…30
        let banded = field.greedyFlips(start, candidates: band, passes: 2)
        for i in 0..<start.count where !band[i] { #expect(banded[i] == start[i]) }
        #expect(field.qabf(field.select(banded)) >= field.qabf(field.select(start)) - 1e-12)
    }

    @Test func greedyBlendsTakeOnlyTheLevelsNeverLowerQABFAndStayInTheBand() {
        let (_, a, b) = Self.pair
        let grey = FusionMetrics.grey([a, b], peak: 255)
        let field = EdgeField(a: grey[0].values, b: grey[1].values, width: a.width, height: a.height)
        let start = Self.leftOf(29)
        let band = field.nearBoundary(start.map { $0 >= 0.5 }, radius: 2)
        let blended = field.greedyLevels(start, levels: SelectionCeiling.blendLevels, candidates: band, passes: 2)
        #expect(field.qabf(field.blend(blended)) > field.qabf(field.blend(start)) + 1e-4)
        for i in 0..<start.count {
            #expect(SelectionCeiling.blendLevels.contains(blended[i]))
            if !band[i] { #expect(blended[i] == start[i]) }
        }
        let report = SelectionCeiling.measure(a: a, b: b, weights: start, peak: 255, passes: 2)
        #expect(abs(report.bandBlends.qabf - field.qabf(field.blend(blended))) < 1e-9)
        #expect(report.bandBlends.qcb != nil)
    }

    @Test func shiftSearchMovesAMisplacedBoundaryBack() {
        let (_, a, b) = Self.pair
        // A's region reaches 3 px into B's sharp half: shrinking it (k > 0) must score better.
        let report = SelectionCeiling.measure(a: a, b: b, weights: Self.leftOf(27), peak: 255, passes: 1)
        #expect(report.bestShiftPixels > 0)
        #expect(report.bestShift.qabf > report.given.qabf)
        let mirrored = SelectionCeiling.measure(a: a, b: b, weights: Self.leftOf(21), peak: 255, passes: 1)
        #expect(mirrored.bestShiftPixels < 0)
    }

    @Test func erosionAndDilationMoveEveryBoundaryButNotTheImageBorder() {
        let field = EdgeField(a: [Double](repeating: 0, count: 100), b: [Double](repeating: 0, count: 100), width: 10, height: 10)
        var square = [Bool](repeating: false, count: 100)
        for y in 3..<7 { for x in 3..<7 { square[y * 10 + x] = true } }
        #expect(field.shifted(square, by: 1).filter { $0 }.count == 4)           // 2×2 left
        #expect(field.shifted(square, by: -1).filter { $0 }.count == 16 + 16)    // a 4-neighbour ring added
        #expect(field.shifted(square, by: 0) == square)
        let all = [Bool](repeating: true, count: 100)
        #expect(field.shifted(all, by: 3) == all)
    }
}
