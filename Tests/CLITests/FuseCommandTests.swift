import Foundation
import Imaging
import Testing

/// `focusd fuse` end to end on the real dev stacks: formats kept, exit codes, messages.
@Suite("focusd fuse")
struct FuseCommandTests {
    let stacks = CLI.sharedData.appendingPathComponent("dev/stacks")

    @Test func sixteenBitFluorescenceStaysSixteenBit() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = stacks.appendingPathComponent("dfnn_lightsheet_mitochondria")
        // Six slices from the middle of the stack keep the debug-build test fast; the whole
        // 34-slice folder is the same code path.
        let slices = (14..<20).map { folder.appendingPathComponent(String(format: "slice_%03d.tif", $0)).path }
        let out = dir.appendingPathComponent("f.tif").path
        let depth = dir.appendingPathComponent("d.tif").path
        let result = try CLI.run(["fuse"] + slices + ["--out", out, "--depth-map", depth])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("fused 6 slices"))
        let fused = try ImageFile.read(out)
        #expect(fused.format == .uint16)
        #expect(fused.image.channels == 1)
        let source = try ImageFile.read(slices[0])
        #expect(fused.image.width == source.image.width && fused.image.height == source.image.height)
        // Values stay in the sources' range: nothing was rescaled to 8 bits.
        let sourceMax = try slices.map { try ImageFile.read($0).image.pixels.max()! }.max()!
        #expect(fused.image.pixels.max()! > 255)
        #expect(fused.image.pixels.max()! <= sourceMax)
        let depthMap = try ImageFile.read(depth)
        #expect(depthMap.format == .float32)
        #expect(depthMap.image.pixels.allSatisfy { $0 >= 0 && $0 <= 5 })
    }

    @Test func multiPageRGBTIFF() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = stacks.appendingPathComponent("edf_skeleton_zeiss/original_stack.tif").path
        let out = dir.appendingPathComponent("g.tif").path
        let result = try CLI.run(["fuse", input, "--out", out])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let fused = try ImageFile.read(out)
        #expect(fused.format == .uint8)
        #expect(fused.image.channels == 3)
        #expect(fused.image.width == 170 && fused.image.height == 116)
        // The output appeared atomically: no temporary file is left beside it.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: ["edf_skeleton_zeiss/original_stack.tif", "dfnn_lightsheet_mitochondria/slice_000.tif"])
    func truncatedInputExitsOneNamingTheFile(relativePath: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try Data(contentsOf: stacks.appendingPathComponent(relativePath))
        let truncated = dir.appendingPathComponent("truncated.tif")
        try original.prefix(original.count / 2).write(to: truncated)
        // A one-file input is a multi-page stack; for the single-page slice, pair it with an intact one.
        var inputs = [truncated.path]
        if relativePath.hasPrefix("dfnn") {
            inputs.append(stacks.appendingPathComponent("dfnn_lightsheet_mitochondria/slice_001.tif").path)
        }
        let result = try CLI.run(["fuse"] + inputs + ["--out", dir.appendingPathComponent("x.tif").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(truncated.path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.tif").path))
    }

    @Test func usageErrorsExitTwo() throws {
        let missingOut = try CLI.run(["fuse", "whatever.tif"])
        #expect(missingOut.status == 2)
        #expect(missingOut.stderr.contains("--out"))
        let badEngine = try CLI.run(["fuse", "a.tif", "--out", "b.tif", "--engine", "magic"])
        #expect(badEngine.status == 2)
        let badSteps = try CLI.run(["fuse", "a.tif", "--out", "b.tif", "--steps", "0"])
        #expect(badSteps.status == 2)
        #expect(badSteps.stderr.contains("steps"))
    }

    @Test func missingInputExitsOne() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["fuse", "/nonexistent/stack.tif", "--out", dir.appendingPathComponent("x.tif").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/stack.tif"))
    }
}
