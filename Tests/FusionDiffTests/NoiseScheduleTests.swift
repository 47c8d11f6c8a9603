import Foundation
import SeededRandom
import Testing
@testable import FusionDiff

@Suite("Cosine noise schedule and respacing")
struct NoiseScheduleTests {
    let schedule = NoiseSchedule(cosineWithTimesteps: 2000)

    @Test("schedule check values (ARCHITECTURE.md, \"Noise schedule and sampling\")")
    func checkValues() {
        #expect(schedule.betas.count == 2000)
        #expect(abs(schedule.betas[0] - 2.0035e-5) < 5e-9)
        #expect(abs(schedule.betas[999] - 1.5754e-3) < 5e-8)
        #expect(abs(schedule.alphaBar[999] - 0.4938) < 5e-5)
        #expect(abs(schedule.alphaBar[1999] - 6.07192e-10) < 1e-14)
        #expect(schedule.betas[1999] == 0.999)  // clipped
        // ᾱ strictly decreasing, β in (0, 0.999]
        for i in 1..<2000 { #expect(schedule.alphaBar[i] < schedule.alphaBar[i - 1]) }
        #expect(schedule.betas.allSatisfy { $0 > 0 && $0 <= 0.999 })
    }

    @Test("respaced timesteps τᵢ = ⌊(i+1)·T/K⌋ − 1", arguments: [1, 2, 3, 4, 7, 50, 1999, 2000])
    func respacing(k: Int) {
        let taus = schedule.respacedTimesteps(k)
        #expect(taus.count == k)
        #expect(taus.last == 1999)
        for i in 0..<k { #expect(taus[i] == ((i + 1) * 2000) / k - 1) }
        for i in 1..<k { #expect(taus[i] > taus[i - 1]) }
        if k == 2000 { #expect(taus == Array(0..<2000)) }
        if k == 4 { #expect(taus == [499, 999, 1499, 1999]) }
    }

    @Test("last step of any K has ᾱ_prev = 1, so x_prev = x̂₀")
    func lastStep() {
        for k in [1, 4, 2000] {
            let last = schedule.samplerSteps(k).last!
            #expect(last.alphaBarPrevious == 1)
            #expect(abs(last.coefficientX0 - 1) < 1e-12)
            #expect(last.coefficientXt == 0)
        }
    }

    @Test("K = T coefficients equal the published β_t-based update")
    func fullScheduleMatchesPublished() {
        let steps = schedule.samplerSteps(2000)
        #expect(steps.map(\.timestep) == Array((0..<2000).reversed()))
        for s in steps {
            let t = s.timestep
            let beta = schedule.betas[t]
            let abPrev = t > 0 ? schedule.alphaBar[t - 1] : 1
            let ab = schedule.alphaBar[t]
            let cx0 = beta * abPrev.squareRoot() / (1 - ab)
            let cxt = (1 - abPrev) * (1 - beta).squareRoot() / (1 - ab)
            #expect(abs(s.coefficientX0 - cx0) <= 1e-12 * max(1, cx0))
            #expect(abs(s.coefficientXt - cxt) <= 1e-12 * max(1, cxt))
        }
    }

    @Test("golden.json per-step coefficients of the 4-step sampler")
    func goldenCoefficients() throws {
        let data = try Data(contentsOf: TestData.golden.appendingPathComponent("golden.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let sampler = try #require(json["sampler"] as? [String: Any])
        let k = try #require(sampler["K"] as? Int)
        let expectedTaus = try #require(sampler["steps"] as? [Int])
        #expect(schedule.respacedTimesteps(k) == expectedTaus)
        let perStep = try #require(sampler["per_step_descending"] as? [[String: Any]])
        let ours = schedule.samplerSteps(k)
        #expect(perStep.count == ours.count)
        for (golden, step) in zip(perStep, ours) {
            #expect(golden["t"] as? Int == step.timestep)
            func close(_ key: String, _ value: Double) {
                let g = (golden[key] as? Double) ?? .nan
                #expect(abs(g - value) <= 1e-9 * max(1, abs(g)), "\(key) at t=\(step.timestep): golden \(g), ours \(value)")
            }
            close("sqrt_recip_ab", step.sqrtRecipAlphaBar)
            close("sqrt_recipm1_ab", step.sqrtRecipAlphaBarMinusOne)
            close("c_x0", step.coefficientX0)
            close("c_xt", step.coefficientXt)
        }
    }
}

@Suite("SplitMix64 draws")
struct SplitMix64DrawTests {
    @Test("index(below:) covers 0..<bound about uniformly", arguments: [2, 4, 7, 2000, 100_000])
    func indexIsUniform(_ bound: Int) {
        var rng = SplitMix64(seed: 11)
        let draws = 20_000
        // Small bounds: one bin per value; large ones (multiples of 4): four equal bins of the range.
        let bins = bound <= 8 ? bound : 4
        var counts = [Int](repeating: 0, count: bins)
        for _ in 0..<draws {
            let i = rng.index(below: bound)
            #expect(i >= 0 && i < bound)
            counts[bound <= 8 ? i : i * 4 / bound] += 1
        }
        for (bin, count) in counts.enumerated() {
            let expected = 1 / Double(bins)
            #expect(abs(Double(count) / Double(draws) - expected) < 0.02, "bin \(bin) of \(bound): \(counts)")
        }
    }
}
