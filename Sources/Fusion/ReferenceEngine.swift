import Imaging

/// The classical baseline and fallback (issue 2, item 4): Laplacian-pyramid fusion.
///
/// Per level, every coefficient comes from the slice with the largest local activity (3×3 mean of
/// the squared luminance coefficient — max-abs selection over a small region), and the selection
/// map passes a consistency filter (3×3 majority) before coefficients are taken; the base is the
/// mean of the slices' bases. Colour slices select on luminance and take all channels from the
/// chosen slice. Depth = index of the sharpest slice per pixel (7×7 Laplacian energy, majority
/// filtered); confidence = (best − second best energy) / best. Two passes over the slices, one
/// slice decoded at a time.
public struct ReferenceEngine: StackFusionEngine, Sendable {
    /// Detail levels; `nil` = automatic (base of about 8–16 pixels).
    public var levels: Int?
    /// Window edge of the focus measure that gives the depth map.
    public var focusWindow: Int = 7

    public init(levels: Int? = nil) {
        precondition(levels.map { $0 >= 1 } ?? true, "levels must be ≥ 1")
        self.levels = levels
    }

    public func fuse(_ stack: any SliceSource) throws -> FusionResult {
        guard stack.count > 0 else { throw FusionError.emptyStack }
        let g = stack.geometry
        let detailCount = levels ?? LaplacianPyramid.automaticDetailCount(side: min(g.width, g.height))

        // Pass 1: activity per level and focus energy; remember the winning slice per position.
        var bestActivity: [Plane] = []
        var choice: [[Int32]] = []
        var bestEnergy = Plane(width: g.width, height: g.height, repeating: -1)
        var secondEnergy = Plane(width: g.width, height: g.height, repeating: 0)
        var depthIndex = [Int32](repeating: 0, count: g.width * g.height)
        var lo = Float.infinity, hi = -Float.infinity
        for index in 0..<stack.count {
            let slice = try checkedSlice(stack, index)
            for v in slice.pixels where v.isFinite { lo = min(lo, v); hi = max(hi, v) }
            let luminance = slice.luminance()
            let pyramid = LaplacianPyramid(luminance, detailCount: detailCount)
            for l in 0..<detailCount {
                var squared = pyramid.levels[l]
                for i in 0..<squared.count { squared.values[i] *= squared.values[i] }
                let activity = squared.boxMean(radius: 1)
                if index == 0 {
                    bestActivity.append(activity)
                    choice.append([Int32](repeating: 0, count: activity.count))
                    continue
                }
                for i in 0..<activity.count where activity.values[i] > bestActivity[l].values[i] {
                    bestActivity[l].values[i] = activity.values[i]
                    choice[l][i] = Int32(index)
                }
            }
            let energy = FocusMeasureGenerator.focusEnergy(
                Image(width: g.width, height: g.height, channels: 1, pixels: luminance.values), window: focusWindow)
            for i in 0..<energy.count {
                let e = energy.values[i]
                if e > bestEnergy.values[i] {
                    secondEnergy.values[i] = max(0, bestEnergy.values[i])
                    bestEnergy.values[i] = e
                    depthIndex[i] = Int32(index)
                } else if e > secondEnergy.values[i] {
                    secondEnergy.values[i] = e
                }
            }
        }
        for l in 0..<detailCount {
            choice[l] = Self.majorityFiltered(choice[l], width: bestActivity[l].width, height: bestActivity[l].height)
        }
        depthIndex = Self.majorityFiltered(depthIndex, width: g.width, height: g.height)

        // Pass 2: take the chosen coefficients, average the bases.
        var fusedLevels: [[Plane]] = []
        for index in 0..<stack.count {
            let slice = try checkedSlice(stack, index)
            for c in 0..<g.channels {
                let pyramid = LaplacianPyramid(slice.plane(c).sanitised(), detailCount: detailCount)
                if index == 0 {
                    var levels = pyramid.levels
                    for i in 0..<levels[detailCount].count { levels[detailCount].values[i] /= Float(stack.count) }
                    fusedLevels.append(levels)
                    continue
                }
                for l in 0..<detailCount {
                    for i in 0..<choice[l].count where choice[l][i] == Int32(index) {
                        fusedLevels[c][l].values[i] = pyramid.levels[l].values[i]
                    }
                }
                let base = pyramid.levels[detailCount]
                for i in 0..<base.count { fusedLevels[c][detailCount].values[i] += base.values[i] / Float(stack.count) }
            }
        }

        if !lo.isFinite { lo = 0; hi = 0 }
        var fused = [Float]()
        fused.reserveCapacity(g.width * g.height * g.channels)
        for c in 0..<g.channels {
            fused.append(contentsOf: LaplacianPyramid(levels: fusedLevels[c]).reconstructed().values.map { min(hi, max(lo, $0)) })
        }
        var confidence = [Float](repeating: 1, count: g.width * g.height)
        if stack.count > 1 {
            for i in 0..<confidence.count {
                let best = bestEnergy.values[i]
                confidence[i] = best > 0 ? min(1, max(0, (best - secondEnergy.values[i]) / best)) : 0
            }
        }
        return FusionResult(
            fused: Image(width: g.width, height: g.height, channels: g.channels, pixels: fused),
            depth: Image(width: g.width, height: g.height, channels: 1, pixels: depthIndex.map(Float.init)),
            confidence: Image(width: g.width, height: g.height, channels: 1, pixels: confidence))
    }

    /// Each label replaced by the most frequent label in its 3×3 neighbourhood (ties keep the
    /// centre's label): the consistency filter.
    static func majorityFiltered(_ labels: [Int32], width w: Int, height h: Int) -> [Int32] {
        var out = labels
        var neighbours = [Int32](repeating: 0, count: 9)
        for y in 0..<h {
            for x in 0..<w {
                var n = 0
                for dy in -1...1 {
                    let yy = y + dy
                    if yy < 0 || yy >= h { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        if xx < 0 || xx >= w { continue }
                        neighbours[n] = labels[yy * w + xx]; n += 1
                    }
                }
                let centre = labels[y * w + x]
                var best = centre, bestCount = 0
                for i in 0..<n {
                    var count = 0
                    for j in 0..<n where neighbours[j] == neighbours[i] { count += 1 }
                    if count > bestCount || (count == bestCount && neighbours[i] == centre) {
                        best = neighbours[i]; bestCount = count
                    }
                }
                out[y * w + x] = best
            }
        }
        return out
    }
}

extension Plane {
    /// Non-finite values replaced by 0.
    func sanitised() -> Plane {
        var out = self
        for i in 0..<out.count where !out.values[i].isFinite { out.values[i] = 0 }
        return out
    }
}
