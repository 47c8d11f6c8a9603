import Foundation
import Fusion
import Imaging
import Simulation

/// One method on one stack.
struct StackBenchRow: Codable {
    var stack: String
    var group: String
    var photons: Double
    var slices: Int
    var method: String
    var psnr: Double
    var psnrBlurred: Double
    var ssim: Double
    /// nil where the method has no depth map (mean of slices).
    var depthMAE: Double?
    var depthRMSE: Double?
    var seconds: Double = 0
    var peakMB: Double = 0
}

/// Ground-truth scores for the fusions of one simulated stack.
struct StackScorer {
    let simulated: SimulatedStack
    let peak: Double
    /// Pixels with texture, where depth is defined by the image.
    let textured: [Bool]

    init(_ simulated: SimulatedStack) {
        self.simulated = simulated
        let truth = simulated.groundTruth
        peak = Double(truth.pixels.max() ?? 1)
        textured = Self.texturedMask(truth)
    }

    /// Local 7×7 standard deviation of the ground truth's channel mean ≥ 5 % of its 1–99 % range.
    static func texturedMask(_ image: Image) -> [Bool] {
        let w = image.width, h = image.height, n = w * h
        var grey = [Double](repeating: 0, count: n)
        for c in 0..<image.channels { for p in 0..<n { grey[p] += Double(image.pixels[c * n + p]) / Double(image.channels) } }
        let sorted = grey.sorted()
        let range = sorted[Int(0.99 * Double(n - 1))] - sorted[Int(0.01 * Double(n - 1))]
        var mask = [Bool](repeating: false, count: n)
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0, s2 = 0.0, count = 0.0
                for yy in max(0, y - 3)...min(h - 1, y + 3) {
                    for xx in max(0, x - 3)...min(w - 1, x + 3) {
                        let v = grey[yy * w + xx]
                        s += v; s2 += v * v; count += 1
                    }
                }
                let variance = max(0, s2 / count - (s / count) * (s / count))
                mask[y * w + x] = variance.squareRoot() >= 0.05 * range
            }
        }
        return mask
    }

    /// Per pixel the slice nearest the true height, as measured.
    func bestSelection() -> FusionResult {
        let first = simulated.slices[0]
        let n = first.planeSize
        var fused = first.pixels
        var depth = [Float](repeating: 0, count: n)
        for p in 0..<n {
            let k = min(max(Int(simulated.height.values[p].rounded()), 0), simulated.slices.count - 1)
            depth[p] = Float(k)
            for c in 0..<first.channels { fused[c * n + p] = simulated.slices[k].pixels[c * n + p] }
        }
        return FusionResult(fused: Image(width: first.width, height: first.height, channels: first.channels, pixels: fused),
                            depth: Image(width: first.width, height: first.height, channels: 1, pixels: depth),
                            confidence: Image(width: first.width, height: first.height, channels: 1, repeating: 1))
    }

    func meanOfSlices() -> FusionResult {
        let first = simulated.slices[0]
        var sum = [Float](repeating: 0, count: first.pixels.count)
        for s in simulated.slices { for i in sum.indices { sum[i] += s.pixels[i] } }
        let inv = 1 / Float(simulated.slices.count)
        for i in sum.indices { sum[i] *= inv }
        return FusionResult(fused: Image(width: first.width, height: first.height, channels: first.channels, pixels: sum),
                            depth: Image(width: first.width, height: first.height, channels: 1, repeating: .nan),
                            confidence: Image(width: first.width, height: first.height, channels: 1, repeating: 0))
    }

    func score(_ result: FusionResult, method: String, stack: BenchmarkStack) -> StackBenchRow {
        let truth = simulated.groundTruth
        var mae: Double?, rmse: Double?
        if result.depth.pixels.first(where: { !$0.isNaN }) != nil {
            var s = 0.0, s2 = 0.0, count = 0.0
            for p in 0..<truth.planeSize where textured[p] {
                let d = Double(result.depth.pixels[p]) - Double(simulated.height.values[p])
                s += abs(d); s2 += d * d; count += 1
            }
            if count > 0 { mae = s / count; rmse = (s2 / count).squareRoot() }
        }
        return StackBenchRow(stack: stack.name, group: stack.group, photons: stack.settings.photons, slices: stack.settings.slices,
                             method: method,
                             psnr: FusionMetrics.psnr(result.fused, reference: truth, peak: peak),
                             psnrBlurred: FusionMetrics.psnrAfterBlur(result.fused, reference: truth, peak: peak),
                             ssim: FusionMetrics.ssim(result.fused, reference: truth, peak: peak),
                             depthMAE: mae, depthRMSE: rmse)
    }
}

/// Means per (group, method), the table and the plot.
struct StackBenchSummary: Codable {
    struct Mean: Codable {
        var group: String
        var method: String
        var stacks: Int
        var psnr: Double
        var psnrBlurred: Double
        var ssim: Double
        var depthMAE: Double?
        var depthRMSE: Double?
        var seconds: Double
        var peakMB: Double
    }

    var rows: [StackBenchRow]
    var means: [Mean]

    init(rows: [StackBenchRow], methods: [String]) {
        self.rows = rows
        var groups: [String] = []
        for r in rows where !groups.contains(r.group) { groups.append(r.group) }
        means = []
        for group in groups {
            for method in methods {
                let rs = rows.filter { $0.group == group && $0.method == method }
                guard !rs.isEmpty else { continue }
                func mean(_ f: (StackBenchRow) -> Double) -> Double { rs.map(f).reduce(0, +) / Double(rs.count) }
                let depths = rs.compactMap(\.depthMAE), rms = rs.compactMap(\.depthRMSE)
                means.append(Mean(group: group, method: method, stacks: rs.count, psnr: mean(\.psnr), psnrBlurred: mean(\.psnrBlurred),
                                  ssim: mean(\.ssim),
                                  depthMAE: depths.isEmpty ? nil : depths.reduce(0, +) / Double(depths.count),
                                  depthRMSE: rms.isEmpty ? nil : rms.reduce(0, +) / Double(rms.count),
                                  seconds: mean(\.seconds), peakMB: rs.map(\.peakMB).max() ?? 0))
            }
        }
    }

    func table() -> String {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        var out = pad("group", 22) + " " + pad("method", 34) + " stacks     PSNR  blurred    SSIM depth MAE      RMSE  s/stack  peak MB\n"
        for m in means {
            let mae = m.depthMAE.map { String(format: "%.3f", $0) } ?? "–"
            let rmse = m.depthRMSE.map { String(format: "%.3f", $0) } ?? "–"
            out += pad(m.group, 22) + " " + pad(m.method, 34)
                + String(format: " %6d %8.2f %8.2f %7.4f %9@ %9@ %8.2f %8.0f\n", m.stacks, m.psnr, m.psnrBlurred, m.ssim,
                         mae as NSString, rmse as NSString, m.seconds, m.peakMB)
        }
        return out
    }

    /// PSNR against photon budget (log axis) per method, fluorescence groups only.
    func plot() -> String {
        let fluorescence = means.filter { $0.group.hasPrefix("fluorescence") }
        let photons = Array(Set(rows.filter { $0.group.hasPrefix("fluorescence") }.map(\.photons))).sorted()
        let methods = fluorescence.reduce(into: [String]()) { if !$0.contains($1.method) { $0.append($1.method) } }
        let width = 720.0, height = 420.0, left = 60.0, right = 200.0, top = 20.0, bottom = 50.0
        let values = fluorescence.map(\.psnr)
        let lo = ((values.min() ?? 0) - 1).rounded(.down), hi = ((values.max() ?? 1) + 1).rounded(.up)
        let lx = photons.map { log10($0) }
        let x0 = lx.first ?? 0, x1 = max(lx.last ?? 1, x0 + 1)
        func px(_ p: Double) -> Double { left + (log10(p) - x0) / (x1 - x0) * (width - left - right) }
        func py(_ v: Double) -> Double { top + (hi - v) / max(hi - lo, 1e-9) * (height - top - bottom) }
        let colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4", "#b2df8a", "#fb9a99"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"14\">PSNR against ground truth (dB), simulated fluorescence stacks, by photon budget</text>\n"
        var v = lo
        while v <= hi {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                        left, py(v), width - right, py(v), left - 6, py(v) + 4, v)
            v += max(1, ((hi - lo) / 8).rounded())
        }
        for p in photons {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", px(p), height - bottom + 18, p)
        }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">photons at the brightest pixel</text>\n", (left + width - right) / 2, height - 12)
        for (i, method) in methods.enumerated() {
            let colour = colours[i % colours.count]
            let points = photons.compactMap { p -> String? in
                guard let m = fluorescence.first(where: { $0.method == method && $0.group == "fluorescence \(Int(p)) ph" }) else { return nil }
                return String(format: "%.1f,%.1f", px(p), py(m.psnr))
            }
            s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"%@\">%@</text>\n", width - right + 10, top + 14 * Double(i + 1), colour,
                        method.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))
        }
        s += "</svg>\n"
        return s
    }
}
