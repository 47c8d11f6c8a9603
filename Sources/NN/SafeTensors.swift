import Foundation

// safetensors format (https://github.com/huggingface/safetensors):
//   bytes 0..<8      header length N, unsigned 64-bit little-endian
//   bytes 8..<8+N    UTF-8 JSON object: for every tensor name
//                      {"dtype": "F32"|"F16"|"BF16"|…, "shape": [d0, d1, …], "data_offsets": [begin, end]}
//                    and optionally "__metadata__": {string: string}; may end with spaces
//   bytes 8+N…       the data buffer; offsets are relative to its start; little-endian, row-major
// Tensors written here are F32, in the order given, 8-byte aligned header (padded with spaces).

/// A problem with a safetensors file; the message names the key, expected and actual shape.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case malformedHeader(String)
    case unsupportedDType(key: String, dtype: String, shape: [Int])
    case shapeMismatch(key: String, expected: [Int], actual: [Int])
    case missingKey(key: String, expectedShape: [Int])
    case unexpectedKey(key: String, shape: [Int])
    case truncated(key: String, shape: [Int], neededBytes: Int, availableBytes: Int)

    public var description: String {
        switch self {
        case .malformedHeader(let why):
            return "malformed safetensors header: \(why); the file is not a safetensors model (re-export it with safetensors.torch.save_file)"
        case .unsupportedDType(let key, let dtype, let shape):
            return "tensor '\(key)' (shape \(shape)) has dtype \(dtype); expected F32, F16 or BF16 — convert the checkpoint to float32"
        case .shapeMismatch(let key, let expected, let actual):
            return "tensor '\(key)' has shape \(actual) but the model expects \(expected) — the file was saved for a different configuration"
        case .missingKey(let key, let expectedShape):
            return "tensor '\(key)' (expected shape \(expectedShape), actual: absent) is missing from the file — the file was saved for a different configuration or is not a FusionDiff state_dict"
        case .unexpectedKey(let key, let shape):
            return "tensor '\(key)' (actual shape \(shape), expected: none) is not a parameter of the model — the file was saved for a different configuration"
        case .truncated(let key, let shape, let needed, let available):
            return "tensor '\(key)' (shape \(shape)) needs \(needed) bytes but only \(available) are in the file — the file is truncated; copy it again"
        }
    }

    public var errorDescription: String? { description }
}

/// A parsed safetensors file held in memory.
public struct SafeTensorsFile: Sendable {
    /// The storage type of one tensor.
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var size: Int { self == .f32 ? 4 : 2 }
    }

    /// Where one tensor lies in the data buffer.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Byte range relative to the start of the data buffer.
        public let begin: Int
        public let end: Int
    }

    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Tensor entries in data order.
    public let entries: [Entry]
    private let bytes: Data
    private let dataStart: Int

    /// Parses the header of `data` and checks every entry's byte range against the buffer.
    public init(data: Data) throws(SafeTensorsError) {
        let data = Data(data)  // rebase indices to 0
        guard data.count >= 8 else { throw .malformedHeader("file has \(data.count) bytes, fewer than the 8-byte header length") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(data[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(data.count - 8) else {
            throw .malformedHeader("header length \(length) exceeds the \(data.count - 8) bytes after it")
        }
        let headerData = data[8..<8 + Int(length)]
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw .malformedHeader("header is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else { throw .malformedHeader("header is not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        let start = 8 + Int(length)
        let available = data.count - start
        for (key, value) in object {
            if key == "__metadata__" {
                guard let map = value as? [String: Any] else { throw .malformedHeader("__metadata__ is not an object") }
                for (k, v) in map {
                    guard let text = v as? String else { throw .malformedHeader("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = text
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtype = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2
            else { throw .malformedHeader("entry '\(key)' lacks dtype, shape or data_offsets") }
            let shape = try shapeValues.map { (v: Any) throws(SafeTensorsError) -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0 else { throw .malformedHeader("entry '\(key)' has a bad shape \(shapeValues)") }
                return n
            }
            guard let begin = (offsetValues[0] as? NSNumber)?.intValue, let end = (offsetValues[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin
            else { throw .malformedHeader("entry '\(key)' has bad data_offsets \(offsetValues)") }
            if let type = DType(rawValue: dtype) {
                let needed = shape.reduce(1, *) * type.size
                guard end - begin == needed else {
                    throw .malformedHeader("entry '\(key)' (shape \(shape), \(dtype)) spans \(end - begin) bytes, expected \(needed)")
                }
            }
            if end > available {
                throw .truncated(key: key, shape: shape, neededBytes: end, availableBytes: available)
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        self.metadata = metadata
        self.entries = entries
        self.bytes = data
        self.dataStart = start
    }

    /// Tensor names in data order.
    public var tensorNames: [String] { entries.map(\.name) }

    /// The entry named `name`, if present.
    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The tensor `name` converted to Float32, checked against `expectedShape` when given.
    public func floats(_ name: String, expectedShape: [Int]? = nil) throws(SafeTensorsError) -> [Float] {
        guard let entry = entry(name) else { throw .missingKey(key: name, expectedShape: expectedShape ?? []) }
        if let expectedShape, expectedShape != entry.shape {
            throw .shapeMismatch(key: name, expected: expectedShape, actual: entry.shape)
        }
        guard let type = DType(rawValue: entry.dtype) else {
            throw .unsupportedDType(key: name, dtype: entry.dtype, shape: entry.shape)
        }
        let count = entry.shape.reduce(1, *)
        var result = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + entry.begin
            result.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    switch type {
                    case .f32:
                        out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case .f16:
                        out[i] = halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    case .bf16:
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                }
            }
        }
        return result
    }

    /// Serialises F32 tensors (in the given order) and a metadata map into safetensors bytes.
    public static func serialize(
        tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:]
    ) -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            precondition(tensor.values.count == tensor.shape.reduce(1, *), "tensor \(tensor.name): values do not fill shape \(tensor.shape)")
            let size = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        // JSONSerialization of strings, numbers, arrays and dictionaries cannot fail.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { buffer in
                #if _endian(big)
                for v in buffer { var bits = v.bitPattern.littleEndian; withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) } }
                #else
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self), count: buffer.count * 4))
                #endif
            }
        }
        return out
    }
}

/// IEEE 754 binary16 → binary32.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2^-24.
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
}
