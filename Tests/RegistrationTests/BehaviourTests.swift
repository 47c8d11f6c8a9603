import Foundation
import SeededRandom
import Simulation
import Testing
import Imaging
@testable import Registration

/// Identity, unalignable slices, brightness, the transforms document and the aligned stack.
@Suite struct BehaviourTests {
    /// A stack whose slices share one frame and focus; only the noise differs. (Different defocus
    /// alone moves an intensity fit by a few hundredths of a pixel, see SyntheticAccuracyTests.)
    static func alignedStack(_ base: Image, slices: Int, size: Int, format: SampleFormat, noise: Double) -> SyntheticFocusStack {
        var configuration = SyntheticFocusStack.Configuration(sliceCount: slices, width: size, height: size)
        configuration.breathing = 0
        configuration.maximumRotationDegrees = 0
        configuration.maximumDrift = 0
        configuration.maximumBlur = 0
        configuration.noise = noise
        configuration.format = format
        return SyntheticFocusStack(base: base, configuration: configuration)
    }

    @Test func alignedRGBStackGivesIdentity() throws {
        let base = TestData.centre(try TestData.circuitBoard(), width: 300, height: 300)
        let stack = try materialise(Self.alignedStack(base, slices: 5, size: 256, format: .uint8, noise: 1))
        #expect(stack.geometry.channels == 3)
        let result = try Aligner().align(stack)
        #expect(result.warnings.isEmpty)
        for slice in result.slices {
            #expect(cornerDistanceFromIdentity(slice, width: 256, height: 256) <= 0.01, "slice \(slice.index)")
        }
        // A stack with no drift keeps its size (the default keeps the full frame)…
        #expect(result.crop == [0, 0, 256, 256])
        #expect(AlignedStack(stack, alignment: result).geometry.width == 256 && AlignedStack(stack, alignment: result).geometry.height == 256)
        let padding = try #require(result.padding)
        #expect(padding.border.allSatisfy { $0 <= 1 }, "\(padding.border)")
        // …while cropping, hundredths of a pixel off the identity may cost the border pixel, no more.
        let cropped = try Aligner(options: AlignmentOptions(keepSize: false)).align(stack)
        #expect(cropped.padding == nil)
        #expect(cropped.crop[0] <= 1 && cropped.crop[1] <= 1 && cropped.crop[2] >= 254 && cropped.crop[3] >= 254)
    }

    @Test func aligned16BitStackGivesIdentity() throws {
        let mitochondria = try TestData.read("dev/stacks/dfnn_lightsheet_mitochondria/slice_017.tif")
        // The whole frame: sparse structure needs the area to pin a similarity to 0.01 px.
        let stack = try materialise(Self.alignedStack(mitochondria, slices: 5, size: 480, format: .uint16, noise: 2))
        let result = try Aligner().align(stack)
        #expect(result.warnings.isEmpty)
        for slice in result.slices {
            #expect(cornerDistanceFromIdentity(slice, width: 480, height: 480) <= 0.01, "slice \(slice.index)")
        }
    }

    @Test func blankSliceIsReportedNotWarped() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 448, height: 448))
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 7, width: 192, height: 192)
        configuration.noise = 1
        let synthetic = SyntheticFocusStack(base: base, configuration: configuration)
        var slices = try materialise(synthetic).slices
        slices[1] = Image(width: 192, height: 192, channels: 1, repeating: 37)
        let result = try Aligner().align(InMemoryStack(slices: slices, format: .uint8))
        #expect(!result.slices[1].aligned)
        #expect(result.slices[1].matrix == [[1, 0, 0], [0, 1, 0]])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("slice 1") == true)
        #expect(result.warnings.first?.contains("blank") == true)
        // Its neighbour, initialised past the blank slice, still aligns.
        #expect(result.slices[0].aligned)
        let errors = cornerErrors(result, truth: synthetic)
        #expect(errors[0] <= 0.15, "slice 0 corner error \(errors[0])")
    }

    @Test func unrelatedSliceScoresUnderTheMinimum() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 448, height: 448))
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 5, width: 192, height: 192)
        configuration.noise = 1
        var slices = try materialise(SyntheticFocusStack(base: base, configuration: configuration)).slices
        var random = SplitMix64(seed: 9)
        slices[4] = Image(width: 192, height: 192, channels: 1, pixels: (0..<(192 * 192)).map { _ in 128 + 40 * Float(random.normal()) })
        let result = try Aligner().align(InMemoryStack(slices: slices, format: .uint8))
        #expect(!result.slices[4].aligned)
        #expect(result.slices[4].score < AlignmentOptions().minimumScore)
        #expect(result.slices[4].warning?.contains("slice 4") == true)
        #expect(result.slices[0...3].allSatisfy { $0.aligned })
    }

    @Test func gainAndOffsetFollowBrightness() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 448, height: 448))
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 5, width: 192, height: 192)
        configuration.gainRange = 0.15
        configuration.noise = 1
        let synthetic = SyntheticFocusStack(base: base, configuration: configuration)
        let stack = try materialise(synthetic)
        // Cropped to the area every slice covers, so the means below compare measured pixels only.
        let result = try Aligner(options: AlignmentOptions(estimateGainOffset: true, keepSize: false)).align(stack)
        let plain = try Aligner().align(stack)
        for i in 0..<5 {
            // Gains are multiplicative about 0, so the fit should find no offset to speak of.
            let expected = synthetic.gains[2] / synthetic.gains[i]
            let slice = result.slices[i]
            #expect(abs(slice.gain - expected) <= 0.03 * expected, "slice \(i): gain \(slice.gain), expected \(expected)")
            #expect(abs(slice.offset) <= 4, "slice \(i): offset \(slice.offset)")
            #expect(plain.slices[i].gain == 1 && plain.slices[i].offset == 0)
        }
        // The aligned stack applies them: slice means now match the reference's.
        let aligned = AlignedStack(stack, alignment: result)
        let referenceMean = mean(try aligned.slice(at: 2))
        for i in [0, 4] {
            let sliceMean = mean(try aligned.slice(at: i))
            #expect(abs(sliceMean - referenceMean) <= 0.02 * referenceMean)
        }
    }

    @Test func transformsDocumentHasTheIssueForm() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 448, height: 448))
        let configuration = SyntheticFocusStack.Configuration(sliceCount: 3, width: 160, height: 128)
        let stack = try materialise(SyntheticFocusStack(base: base, configuration: configuration))
        let result = try Aligner().align(stack)
        let data = try result.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["reference", "model", "width", "height", "crop", "slices", "padding"])
        let padding = try #require(object["padding"] as? [String: Any])
        #expect(Set(padding.keys) == ["covered", "border"])
        #expect(object["model"] as? String == "similarity")
        #expect(object["width"] as? Int == 160 && object["height"] as? Int == 128)
        let slices = try #require(object["slices"] as? [[String: Any]])
        #expect(slices.count == 3)
        #expect(Set(slices[0].keys) == ["index", "matrix", "gain", "offset", "score", "aligned"])
        #expect((slices[0]["matrix"] as? [[Double]])?.map(\.count) == [3, 3])
        #expect(try AlignmentResult.decode(data) == result)
        // Inconsistent documents are refused with a reason.
        var broken = result
        broken.slices[1].matrix = [[1, 0], [0, 1]]
        #expect(throws: RegistrationError.self) { try AlignmentResult.decode(try broken.jsonData(), source: "T.json") }
        broken = result
        broken.crop = [0, 0, 161, 128]
        #expect(throws: RegistrationError.self) { try broken.validate() }
    }

    @Test func alignedStackCropsEveryChannelAndFormat() throws {
        let base = TestData.centre(try TestData.circuitBoard(), width: 448, height: 448)
        let configuration = SyntheticFocusStack.Configuration(sliceCount: 5, width: 192, height: 160)
        let synthetic = SyntheticFocusStack(base: base, configuration: configuration)
        let stack = try materialise(synthetic)
        let result = try Aligner(options: AlignmentOptions(keepSize: false)).align(stack)
        let aligned = AlignedStack(stack, alignment: result)
        #expect(aligned.geometry.width == result.crop[2] && aligned.geometry.height == result.crop[3])
        #expect(aligned.geometry.channels == 3 && aligned.geometry.format == .uint8)
        #expect(result.crop[2] < 192 && result.crop[3] < 160, "drift of up to 30 px must shrink the common area")
        // Every crop pixel maps inside every slice (between its pixel centres).
        for slice in result.slices {
            let inverse = Affine(rows: slice.matrix)!.inverse!
            for (x, y) in [(result.crop[0], result.crop[1]), (result.crop[0] + result.crop[2] - 1, result.crop[1] + result.crop[3] - 1),
                           (result.crop[0], result.crop[1] + result.crop[3] - 1), (result.crop[0] + result.crop[2] - 1, result.crop[1])] {
                let p = inverse.apply(Double(x), Double(y))
                #expect(p.x >= -1e-6 && p.x <= 191 + 1e-6 && p.y >= -1e-6 && p.y <= 159 + 1e-6)
            }
        }
        // The reference slice comes out as its crop, unchanged.
        let reference = try aligned.slice(at: result.reference)
        #expect(reference[0, 0, 0] == stack.slices[result.reference][result.crop[0], result.crop[1], 0])
        #expect(reference[3, 5, 1] == stack.slices[result.reference][result.crop[0] + 3, result.crop[1] + 5, 1])
        // Keep-size (the default) pads instead of cropping, and records the covered area and border.
        let padded = try Aligner().align(stack)
        #expect(padded.crop == [0, 0, 192, 160])
        let padding = try #require(padded.padding)
        #expect(padding.covered == result.crop)
        #expect(padding.border == [result.crop[0], result.crop[1], 192 - result.crop[0] - result.crop[2], 160 - result.crop[1] - result.crop[3]])
        #expect(padding.border.contains { $0 > 0 }, "drift of up to 30 px leaves a border")
        let full = AlignedStack(stack, alignment: padded)
        #expect(full.geometry.width == 192 && full.geometry.height == 160)
        // Inside the covered area the padded slices equal the cropped ones.
        let slice = try full.slice(at: 0), croppedSlice = try aligned.slice(at: 0)
        #expect(slice[result.crop[0] + 4, result.crop[1] + 7, 2] == croppedSlice[4, 7, 2])
    }

    @Test func modelNoneAndBadReference() throws {
        let stack = InMemoryStack(slices: [Image(width: 40, height: 30, channels: 1, repeating: 1),
                                           Image(width: 40, height: 30, channels: 1, repeating: 2)], format: .float32)
        let none = try Aligner(options: AlignmentOptions(model: .none)).align(stack)
        #expect(none.model == .none && none.slices.allSatisfy { $0.aligned && $0.matrix == [[1, 0, 0], [0, 1, 0]] })
        #expect(none.crop == [0, 0, 40, 30])
        #expect(throws: RegistrationError.referenceOutOfRange(reference: 2, count: 2)) {
            try Aligner(options: AlignmentOptions(reference: 2)).align(stack)
        }
    }
}

func cornerDistanceFromIdentity(_ slice: SliceTransform, width: Int, height: Int) -> Double {
    var worst = 0.0
    for (x, y) in [(0.0, 0.0), (Double(width - 1), 0), (0, Double(height - 1)), (Double(width - 1), Double(height - 1))] {
        let p = slice.map(x: x, y: y)
        worst = max(worst, ((p.x - x) * (p.x - x) + (p.y - y) * (p.y - y)).squareRoot())
    }
    return worst
}

func mean(_ image: Image) -> Double {
    image.pixels.reduce(0) { $0 + Double($1) } / Double(image.pixels.count)
}
