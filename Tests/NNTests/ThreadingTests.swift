import Testing
@testable import NN

@Suite("Threads")
struct ThreadingTests {
    /// Runs `body` with `threads` threads.
    private func with<T>(threads: Int, _ body: () -> T) -> T {
        Compute.withThreads(threads, body)
    }

    @Test("convolutions, transposed convolutions and GroupNorm give the same results on 1 and 3 threads")
    func sameResults() {
        var data = TestData(seed: 30)
        let conv = Conv2D(inChannels: 5, outChannels: 7, kernelSize: 3, stride: 1, padding: 1)
        let up = ConvTranspose2D(inChannels: 4, outChannels: 6)
        let norm = GroupNorm(channels: 8, groups: 4)
        let x = data.floats(2 * 5 * 33 * 40), w = data.floats(conv.weightCount), b = data.floats(7), shift = data.floats(14)
        let r = data.floats(2 * 7 * 33 * 40)
        let ux = data.floats(2 * 4 * 17 * 19), uw = data.floats(up.weightCount), ub = data.floats(6)
        let nx = data.floats(3 * 8 * 500), gamma = data.floats(8), beta = data.floats(8)
        func run() -> [[Float]] {
            let workspace = Workspace()
            var y = [Float](repeating: 0, count: r.count), dx = [Float](repeating: 0, count: x.count)
            var dw = [Float](repeating: 0, count: w.count), uy = [Float](repeating: 0, count: 2 * 6 * 34 * 38)
            var ny = [Float](repeating: 0, count: nx.count)
            y.withUnsafeMutableBufferPointer {
                conv.forward(input: x, batch: 2, height: 33, width: 40, weight: w, bias: b, shift: shift, output: $0.baseAddress!, workspace: workspace)
            }
            dx.withUnsafeMutableBufferPointer {
                conv.backwardData(outputGradient: r, batch: 2, height: 33, width: 40, weight: w, inputGradient: $0.baseAddress!, workspace: workspace)
            }
            dw.withUnsafeMutableBufferPointer {
                conv.backwardWeights(input: x, batch: 2, height: 33, width: 40, outputGradient: r, weightGradient: $0.baseAddress!,
                                     biasGradient: nil, workspace: workspace)
            }
            uy.withUnsafeMutableBufferPointer {
                up.forward(input: ux, batch: 2, height: 17, width: 19, weight: uw, bias: ub, output: $0.baseAddress!, workspace: workspace)
            }
            ny.withUnsafeMutableBufferPointer {
                norm.forward(input: nx, batch: 3, plane: 500, gamma: gamma, beta: beta, output: $0.baseAddress!, silu: true)
            }
            return [y, dx, dw, uy, ny]
        }
        let single = with(threads: 1, run)
        let multi = with(threads: 3, run)
        for (a, b) in zip(single, multi) {
            #expect(maxRelativeError(a, b.doubles) < 1e-6)
        }
    }

    @Test("the thread count is bound to the task: concurrent tasks each see their own, workers see the caller's")
    func threadCountIsPerTask() async {
        #expect(Compute.threads == 1)
        let seen = await withTaskGroup(of: (Int, [Int]).self) { group in
            for count in [1, 2, 3, 4] {
                group.addTask {
                    Compute.withThreads(count) {
                        var workerCounts = [Int](repeating: 0, count: 8)
                        workerCounts.withUnsafeMutableBufferPointer { counts in
                            let box = UncheckedSendableBox(value: counts)
                            Compute.parallelTasks(8) { task, _ in box.value[task] = Compute.threads }
                        }
                        return (count, workerCounts)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(seen.count == 4)
        for (count, workerCounts) in seen { #expect(workerCounts.allSatisfy { $0 == count }, "\(count): \(workerCounts)") }
        #expect(Compute.threads == 1)
    }
}
