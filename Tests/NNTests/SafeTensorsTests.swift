import Foundation
import Testing
@testable import NN

/// Builds safetensors bytes from a raw header string and data.
private func file(header: String, data: [UInt8]) -> Data {
    var out = Data()
    var length = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
    out.append(Data(header.utf8))
    out.append(contentsOf: data)
    return out
}

private func parseError(_ data: Data) -> SafeTensorsError? {
    do { _ = try SafeTensorsFile(data: data); return nil } catch { return error }
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("round trip keeps names, order, shapes, values and metadata")
    func roundTrip() throws {
        let tensors: [(name: String, shape: [Int], values: [Float])] = [
            ("b.weight", [2, 3], [1, -2, 3.5, 0, .pi, -1e-8]),
            ("a.bias", [3], [7, 8, 9]),
            ("scalar", [], [42]),
        ]
        let data = SafeTensorsFile.serialize(tensors: tensors, metadata: ["config": "{\"width\": 8}", "note": "x"])
        #expect(data.count % 4 == 0)
        let parsed = try SafeTensorsFile(data: data)
        #expect(parsed.tensorNames == ["b.weight", "a.bias", "scalar"])
        #expect(parsed.metadata == ["config": "{\"width\": 8}", "note": "x"])
        for t in tensors {
            #expect(parsed.entry(t.name)?.shape == t.shape)
            #expect(try parsed.floats(t.name, expectedShape: t.shape) == t.values)
        }
    }

    @Test("F16 and BF16 tensors are converted to Float32")
    func halfPrecision() throws {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001 = 2^-24.
        // BF16: 1.0 = 0x3F80, -3.0 = 0xC040.
        let header = #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}"#
        let bytes: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x01, 0x00, 0x80, 0x3F, 0x40, 0xC0]
        let parsed = try SafeTensorsFile(data: file(header: header, data: bytes))
        #expect(try parsed.floats("h") == [1, -2, 0.5, Float(sign: .plus, exponent: -24, significand: 1)])
        #expect(try parsed.floats("b") == [1, -3])
    }

    @Test("a malformed header is reported")
    func malformed() {
        #expect(parseError(Data([1, 2, 3])) == .malformedHeader("file has 3 bytes, fewer than the 8-byte header length"))
        if case .malformedHeader = parseError(file(header: "{not json", data: [])) {} else { Issue.record("not JSON accepted") }
        if case .malformedHeader = parseError(file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: [])) {} else {
            Issue.record("missing data_offsets accepted")
        }
        if case .malformedHeader = parseError(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 12))) {} else {
            Issue.record("size mismatch accepted")
        }
        var huge = Data([0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        huge.append(Data("{}".utf8))
        if case .malformedHeader = parseError(huge) {} else { Issue.record("oversized header length accepted") }
    }

    @Test("truncated data names the key and its shape")
    func truncated() {
        let error = parseError(file(header: #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 10)))
        #expect(error == .truncated(key: "w", shape: [2, 2], neededBytes: 16, availableBytes: 10))
        #expect(error?.description.contains("'w'") == true)
    }

    @Test("a wrong dtype names the key and its shape")
    func wrongDType() throws {
        let parsed = try SafeTensorsFile(data: file(header: #"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)))
        #expect(throws: SafeTensorsError.unsupportedDType(key: "i", dtype: "I64", shape: [1])) { try parsed.floats("i") }
    }

    @Test("loading into a ParameterBuffer reports missing, extra and mis-shaped keys with both shapes")
    func loadErrors() throws {
        func buffer() -> ParameterBuffer {
            let b = ParameterBuffer()
            b.declare("conv.weight", shape: [2, 1, 1, 1])
            b.declare("conv.bias", shape: [2])
            b.allocate()
            return b
        }
        let good = SafeTensorsFile.serialize(tensors: [("conv.weight", [2, 1, 1, 1], [1, 2]), ("conv.bias", [2], [3, 4])])
        let loaded = buffer()
        try loaded.load(from: SafeTensorsFile(data: good))
        #expect(Array(loaded.values) == [1, 2, 3, 4])

        let missing = try SafeTensorsFile(data: SafeTensorsFile.serialize(tensors: [("conv.weight", [2, 1, 1, 1], [1, 2])]))
        #expect(throws: SafeTensorsError.missingKey(key: "conv.bias", expectedShape: [2])) { try buffer().load(from: missing) }

        let extra = try SafeTensorsFile(data: SafeTensorsFile.serialize(tensors: [
            ("conv.weight", [2, 1, 1, 1], [1, 2]), ("conv.bias", [2], [3, 4]), ("other", [1], [0]),
        ]))
        #expect(throws: SafeTensorsError.unexpectedKey(key: "other", shape: [1])) { try buffer().load(from: extra) }

        let wrongShape = try SafeTensorsFile(data: SafeTensorsFile.serialize(tensors: [
            ("conv.weight", [1, 2, 1, 1], [1, 2]), ("conv.bias", [2], [3, 4]),
        ]))
        let error = SafeTensorsError.shapeMismatch(key: "conv.weight", expected: [2, 1, 1, 1], actual: [1, 2, 1, 1])
        #expect(throws: error) { try buffer().load(from: wrongShape) }
        #expect(error.description.contains("[2, 1, 1, 1]") && error.description.contains("[1, 2, 1, 1]"))
    }
}
