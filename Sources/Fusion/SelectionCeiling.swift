import Foundation
import Imaging

/// How high Q_AB/F can go for a fusion made of the sources' own pixels, selected or blended,
/// measured around one decision map (`focusd bench ceiling`).
///
/// The default profile's acceptance asks for a Q_AB/F the decision projection has not reached with
/// any decision map, the model's or a focus measure's. This puts numbers on why, for one pair and
/// the weights an engine produced, all on grey luminance as the metrics see it:
/// - `given`: the weights as the engine blended them;
/// - `bestShift`: the binary map with every boundary moved by the same k pixels (A's region eroded
///   for k > 0, dilated for k < 0), re-blended in the projection's band; the best k of `shifts`,
///   i.e. the most any uniform boundary placement gains;
/// - `seamFree`: each pixel's Q_AB/F term taken from the source the binary map selects, as if the
///   seam between them cost nothing: what this map's selection would score without seams. Not an
///   image — at a seam the Sobel window sees both sources;
/// - `bandFlips` and `anywhereFlips`: greedy single-pixel flips of the binary map that raise
///   Q_AB/F's own numerator (within `band` pixels of a boundary, or anywhere), repeated `passes`
///   times. This optimises the metric itself pixel by pixel; its Q_CB shows what that costs;
/// - `bandBlends`: the same within the band, but each pixel may take any weight of
///   ``blendLevels`` — blends at the boundary chosen by the metric.
public enum SelectionCeiling {
    /// The weights ``Report/bandBlends`` may give a pixel of the first source.
    public static let blendLevels: [Float] = [0, 0.25, 0.5, 0.75, 1]

    public struct Scores: Sendable, Equatable {
        public var qabf: Double
        /// Chen–Blum of the same image; nil for a bound that is not an image.
        public var qcb: Double?
    }

    public struct Report: Sendable {
        public var given: Scores
        public var bestShift: Scores
        /// The k of ``bestShift`` (pixels; > 0 shrinks the first source's region).
        public var bestShiftPixels: Int
        public var seamFree: Scores
        public var bandFlips: Scores
        public var bandBlends: Scores
        public var anywhereFlips: Scores
        /// Fraction of pixels ``anywhereFlips`` changed from the binary map.
        public var anywhereFlippedFraction: Double
    }

    /// Measures the ceiling around `weights` (weight of `a` per pixel, 0…1, as the engine blended).
    ///
    /// - Parameters:
    ///   - peak: the sources' full scale (255 for 8-bit); nil infers it as the metrics do.
    ///   - band: pixels from a boundary within which ``Report/bandFlips`` and ``Report/bandBlends`` act.
    ///   - passes: sweeps of the greedy flips (each sweep visits every candidate once).
    ///   - shifts: boundary shifts tried for ``Report/bestShift``.
    ///   - projection: the options whose band (radius, ε) re-blends shifted maps.
    public static func measure(a: Image, b: Image, weights: [Float], peak: Double? = nil,
                               band: Int = 2, passes: Int = 3, shifts: ClosedRange<Int> = -3...3,
                               projection: ProjectionOptions = .init()) -> Report {
        precondition(a.width == b.width && a.height == b.height, "pair sources must match in size")
        precondition(weights.count == a.planeSize, "one weight per pixel")
        let grey = FusionMetrics.grey([a, b], peak: peak)
        let field = EdgeField(a: grey[0].values, b: grey[1].values, width: a.width, height: a.height)
        let binary = weights.map { $0 >= 0.5 }

        func scores(_ w: [Float]) -> Scores {
            let f = field.blend(w)
            return Scores(qabf: field.qabf(f), qcb: field.qcb(f))
        }
        func scores(_ m: [Bool]) -> Scores { scores(m.map { $0 ? Float(1) : 0 }) }

        // Band re-blend of a binary map, as the decision projection does it (no island filter).
        var guide = Plane(width: a.width, height: a.height)
        for i in 0..<guide.count { guide.values[i] = Float((grey[0].values[i] + grey[1].values[i]) / 255 - 1) }
        var bandOptions = projection
        bandOptions.islandFraction = 0
        let projector = Projection(options: bandOptions)
        func reblended(_ m: [Bool]) -> [Float] {
            projector.decisionWeights(fitted: Plane(width: a.width, height: a.height, values: m.map { $0 ? 1 : 0 }),
                                      guide: guide).values
        }

        var bestShift = Scores(qabf: -.infinity, qcb: nil), bestK = 0
        for k in shifts {
            let s = scores(reblended(field.shifted(binary, by: k)))
            if s.qabf > bestShift.qabf { bestShift = s; bestK = k }
        }
        let inBand = field.nearBoundary(binary, radius: band)
        let bandMap = field.greedyFlips(binary, candidates: inBand, passes: passes)
        let bandBlend = field.greedyLevels(binary.map { $0 ? 1 : 0 }, levels: blendLevels, candidates: inBand, passes: passes)
        let anywhereMap = field.greedyFlips(binary, candidates: nil, passes: passes)
        let changed = zip(anywhereMap, binary).filter { $0 != $1 }.count
        return Report(given: scores(weights), bestShift: bestShift, bestShiftPixels: bestK,
                      seamFree: Scores(qabf: field.seamFree(binary), qcb: nil),
                      bandFlips: scores(bandMap), bandBlends: scores(bandBlend), anywhereFlips: scores(anywhereMap),
                      anywhereFlippedFraction: Double(changed) / Double(max(1, binary.count)))
    }
}

/// Grey sources (0…255) with their Sobel fields, and Q_AB/F's per-pixel terms for any fused grey.
struct EdgeField {
    let a: [Double], b: [Double]
    let width: Int, height: Int
    let edgesA: (strength: [Double], angle: [Double])
    let edgesB: (strength: [Double], angle: [Double])
    /// Σ (g_A + g_B): Q_AB/F's denominator, fixed by the sources.
    let denominator: Double

    init(a: [Double], b: [Double], width: Int, height: Int) {
        self.a = a; self.b = b; self.width = width; self.height = height
        edgesA = FusionMetrics.sobel(FusionMetrics.Grey(width: width, height: height, values: a))
        edgesB = FusionMetrics.sobel(FusionMetrics.Grey(width: width, height: height, values: b))
        denominator = zip(edgesA.strength, edgesB.strength).reduce(0) { $0 + $1.0 + $1.1 }
    }

    func blend(_ w: [Float]) -> [Double] {
        (0..<a.count).map { Double(w[$0]) * a[$0] + (1 - Double(w[$0])) * b[$0] }
    }

    func select(_ m: [Bool]) -> [Double] { (0..<a.count).map { m[$0] ? a[$0] : b[$0] } }

    /// Q_AB/F's numerator term at each pixel: Q^{AF}·g_A + Q^{BF}·g_B.
    func terms(_ fused: [Double]) -> [Double] {
        let ef = FusionMetrics.sobel(FusionMetrics.Grey(width: width, height: height, values: fused))
        return (0..<fused.count).map { i in
            FusionMetrics.edgePreservation(source: (edgesA.strength[i], edgesA.angle[i]), fused: (ef.strength[i], ef.angle[i]))
                * edgesA.strength[i]
                + FusionMetrics.edgePreservation(source: (edgesB.strength[i], edgesB.angle[i]), fused: (ef.strength[i], ef.angle[i]))
                * edgesB.strength[i]
        }
    }

    func qabf(_ fused: [Double]) -> Double {
        denominator > 0 ? terms(fused).reduce(0, +) / denominator : 1
    }

    func qcb(_ fused: [Double]) -> Double {
        func image(_ v: [Double]) -> Image { Image(width: width, height: height, channels: 1, pixels: v.map { Float($0) }) }
        return FusionMetrics.qcb(image(a), image(b), fused: image(fused), peak: 255)
    }

    /// Each pixel's term from the selected source's own image (F = A for it, or F = B).
    func seamFree(_ m: [Bool]) -> Double {
        let ta = terms(a), tb = terms(b)
        var sum = 0.0
        for i in 0..<m.count { sum += m[i] ? ta[i] : tb[i] }
        return denominator > 0 ? sum / denominator : 1
    }

    /// The first source's region eroded (k > 0) or dilated (k < 0) by |k| 4-neighbour steps; the
    /// image border does not erode.
    func shifted(_ m: [Bool], by k: Int) -> [Bool] {
        var current = m
        for _ in 0..<abs(k) {
            var next = current
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    // Outside the image counts as the pixel itself, so the border neither erodes nor grows.
                    let left = current[x > 0 ? i - 1 : i], right = current[x < width - 1 ? i + 1 : i]
                    let up = current[y > 0 ? i - width : i], down = current[y < height - 1 ? i + width : i]
                    next[i] = k > 0 ? current[i] && left && right && up && down : current[i] || left || right || up || down
                }
            }
            current = next
        }
        return current
    }

    /// Pixels with both values within the (2r+1)² window around them.
    func nearBoundary(_ m: [Bool], radius r: Int) -> [Bool] {
        let ones = Plane(width: width, height: height, values: m.map { $0 ? 1 : 0 }).boxMean(radius: r)
        return ones.values.map { $0 > 1e-6 && $0 < 1 - 1e-6 }
    }

    /// Greedy flips of a binary map that raise Q_AB/F's numerator (``greedyLevels`` with 0 and 1).
    func greedyFlips(_ start: [Bool], candidates: [Bool]?, passes: Int) -> [Bool] {
        greedyLevels(start.map { $0 ? 1 : 0 }, levels: [0, 1], candidates: candidates, passes: passes).map { $0 >= 0.5 }
    }

    /// Greedy per-pixel choices among `levels` (weights of the first source) that raise Q_AB/F's
    /// numerator. Candidates on a 3-pixel lattice (9 phases per pass) have disjoint Sobel
    /// footprints, so each one's gain — the change of the terms in its 3×3 neighbourhood — is exact
    /// and the choices of one phase add up: Q_AB/F never falls.
    func greedyLevels(_ start: [Float], levels: [Float], candidates: [Bool]?, passes: Int) -> [Float] {
        var w = start
        for _ in 0..<passes {
            var changed = 0
            for py in 0..<3 {
                for px in 0..<3 {
                    var phase: [Int] = []
                    for y in stride(from: py, to: height, by: 3) {
                        for x in stride(from: px, to: width, by: 3) {
                            let i = y * width + x
                            if let candidates, !candidates[i] { continue }
                            phase.append(i)
                        }
                    }
                    guard !phase.isEmpty else { continue }
                    let before = terms(blend(w))
                    var bestGain = [Double](repeating: 1e-9, count: phase.count)
                    var bestLevel = phase.map { w[$0] }
                    for level in levels {
                        var trial = w
                        for i in phase { trial[i] = level }
                        let after = terms(blend(trial))
                        for (k, i) in phase.enumerated() where level != w[i] {
                            let x = i % width, y = i / width
                            var gain = 0.0
                            for dy in -1...1 {
                                for dx in -1...1 {
                                    let xx = x + dx, yy = y + dy
                                    guard xx >= 0, yy >= 0, xx < width, yy < height else { continue }
                                    let j = yy * width + xx
                                    gain += after[j] - before[j]
                                }
                            }
                            if gain > bestGain[k] { bestGain[k] = gain; bestLevel[k] = level }
                        }
                    }
                    for (k, i) in phase.enumerated() where bestLevel[k] != w[i] { w[i] = bestLevel[k]; changed += 1 }
                }
            }
            if changed == 0 { break }
        }
        return w
    }
}
