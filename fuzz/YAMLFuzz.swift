// libFuzzer target: the YAML layer of the daemon's configuration and profile loader (Yams compose
// plus Daemon/Config/YAMLReader.swift), built by scripts/fuzz.sh. Walks the tree the way the loader
// does (mappings through MappingReader, every scalar read as each type), so aliases, anchors, deep
// nesting and odd scalars reach the same code as a real configuration file.
import Foundation
import Yams

private func walk(_ reader: YAMLReader, _ node: Node, key: String, depth: Int) {
    guard depth < 64 else { return }
    switch node {
    case .mapping(let m):
        for (k, v) in m.prefix(64) {
            _ = k.string
            walk(reader, v, key: key + "." + (k.string ?? "?"), depth: depth + 1)
        }
        if let m = try? reader.mapping(node, key: key) {
            for name in m.rawKeys.prefix(64) {
                _ = try? m.string(name); _ = try? m.int(name, in: 0...1000); _ = try? m.double(name, in: 0...1e6)
                _ = try? m.bool(name); _ = try? m.stringList(name); _ = try? m.list(name); _ = try? m.mapping(name)
            }
            _ = try? m.finish()
        }
    case .sequence(let s):
        for v in s.prefix(64) { walk(reader, v, key: key + "[]", depth: depth + 1) }
    default:
        _ = node.int; _ = node.float; _ = node.bool; _ = node.string
        _ = reader.error(key, node, "x").description
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let reader = YAMLReader(file: "fuzz.yaml")
    if let node = try? Yams.compose(yaml: text) { walk(reader, node, key: "", depth: 0) }
    _ = try? reader.root(text)
    return 0
}
