// libFuzzer target: the safetensors parser (module NN's SafeTensors.swift), built by scripts/fuzz.sh.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let file = try? SafeTensorsFile(data: bytes) else { return 0 }
    for entry in file.entries.prefix(16) {
        _ = try? file.floats(entry.name)
    }
    return 0
}
