import Foundation
import Imaging
import Testing

/// `fuse`/`align` never write over or into their inputs; `simulate` and `bench stacks` end to end.
@Suite("Output paths, focusd simulate, focusd bench stacks")
struct OutputSafetyAndSimulationTests {
    /// A 3-slice 16-bit stack made by `focusd simulate` (with `extra` options, in folder `name`), with its folder.
    static func simulated(_ dir: URL, slices: Int = 3, name: String = "sim", extra: [String] = []) throws -> URL {
        let texture = CLI.sharedData.appendingPathComponent("train/microscopy/microtubules_16bit.tif").path
        let out = dir.appendingPathComponent(name)
        let result = try CLI.run(["simulate", "--texture", texture, "--slices", "\(slices)", "--photons", "300",
                                  "--crop", "64", "--seed", "3", "--out", out.path] + extra)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        return out
    }

    @Test func simulateWritesTheStackAndItsGroundTruth() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try Self.simulated(dir, slices: 5)
        let stack = try ImageFile.read(out.appendingPathComponent("stack.tif").path)
        #expect(stack.format == .uint16 && stack.image.width == 64)
        let truth = try ImageFile.read(out.appendingPathComponent("ground_truth.tif").path)
        #expect(truth.format == .float32)
        let height = try ImageFile.read(out.appendingPathComponent("height.tif").path)
        #expect(height.image.pixels.allSatisfy { $0 >= 0 && $0 <= 4 })
        let json = try String(contentsOf: out.appendingPathComponent("simulation.json"), encoding: .utf8)
        #expect(json.contains("\"photons\" : 300"))
        // The true motion per slice (none asked for: identity), the ground truth for `focusd align`.
        let motion = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("transforms.json"))) as? [[String: Double]]
        #expect(motion?.count == 5)
        #expect(motion?.allSatisfy { $0["scale"] == 1 && $0["dx"] == 0 && $0["dy"] == 0 } == true)
        let moving = try Self.simulated(dir, slices: 4, name: "moving",
                                        extra: ["--breathing", "0.01", "--drift", "0.5", "--surface-steps", "0"])
        let moved = try JSONSerialization.jsonObject(with: Data(contentsOf: moving.appendingPathComponent("transforms.json"))) as? [[String: Double]]
        #expect(moved?.count == 4 && moved?[2]["scale"] == 1 && moved?[2]["dx"] == 0)   // slice N/2 is the reference frame
        #expect(moved.map { abs($0[0]["scale"]! - (1 - 0.01 * 2 / 3)) < 1e-12 } == true)
        let settings = try String(contentsOf: moving.appendingPathComponent("simulation.json"), encoding: .utf8)
        #expect(settings.contains("\"surfaceSteps\" : 0"))
        let bad = try CLI.run(["simulate", "--texture", "/nonexistent.tif", "--out", dir.appendingPathComponent("x").path])
        #expect(bad.status == 1 && bad.stderr.contains("/nonexistent.tif"))
    }

    @Test(arguments: ["same", "depth", "inside"])
    func fuseRefusesOutputsThatHitTheInputs(kind: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sim = try Self.simulated(dir)
        let stack = sim.appendingPathComponent("stack.tif").path
        let before = try Data(contentsOf: URL(fileURLWithPath: stack))
        let arguments: [String]
        switch kind {
        case "same": arguments = ["fuse", stack, "--engine", "control", "--out", stack]
        case "depth": arguments = ["fuse", stack, "--engine", "control", "--out", dir.appendingPathComponent("x.tif").path,
                                   "--depth-map", dir.appendingPathComponent("x.tif").path]
        default: arguments = ["fuse", sim.path, "--engine", "control", "--out", sim.appendingPathComponent("fused.tif").path]
        }
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stderr.contains("--out") || result.stderr.contains("--depth-map"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: stack)) == before, "the input changed")
        #expect(!FileManager.default.fileExists(atPath: sim.appendingPathComponent("fused.tif").path))
    }

    @Test func alignRefusesToWriteOverItsInput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stack = try Self.simulated(dir).appendingPathComponent("stack.tif").path
        let result = try CLI.run(["align", stack, "--transforms", dir.appendingPathComponent("t.json").path, "--out", stack])
        #expect(result.status == 2 && result.stderr.contains("never overwrites an input"))
    }

    @Test func benchStacksMeasuresAgainstGroundTruth() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let texture = CLI.sharedData.appendingPathComponent("train/microscopy/microtubules_16bit.tif").path
        let svg = dir.appendingPathComponent("b.svg").path
        let result = try CLI.run(["bench", "stacks", "--files", texture, "--crop", "48", "--profile", "reference",
                                  "--json", "--svg", svg])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let means = try #require(object["means"] as? [[String: Any]])
        let methods = Set(means.compactMap { $0["method"] as? String })
        #expect(methods.isSuperset(of: ["best selection", "choose-max", "mean of slices", "reference engine", "control engine", "profile reference"]))
        // The best pure selection's depth is the rounded true height: its error is the fractional part
        // of a smooth surface, about 0.25 slices on average.
        for m in means where m["method"] as? String == "best selection" {
            let mae = m["depthMAE"] as? Double ?? 1
            #expect(mae > 0.15 && mae < 0.3, "best selection depth MAE \(mae)")
        }
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<svg"))
    }
}
