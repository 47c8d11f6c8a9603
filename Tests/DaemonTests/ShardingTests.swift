import Foundation
import Testing
@testable import Daemon

/// `--shard i/n`: a stable partition of stack ids.
@Suite struct ShardingTests {
    /// ~200 synthetic ids shaped like archive paths.
    static let ids: [String] = (0..<200).map { i in
        switch i % 4 {
        case 0: "2026/scope\(i % 7)/run\(i).tif"
        case 1: "2025/\(i)/slices"
        case 2: "stack_\(i).ome.tiff"
        default: "lab ü/x\(i * 7919)/z"
        }
    }

    @Test(arguments: 1...8)
    func shardsAreDisjointAndCoverEveryStack(n: Int) throws {
        var seen: [String: Int] = [:]
        var sizes: [Int] = []
        for i in 0..<n {
            let shard = try ShardSpec(index: i, count: n)
            let kept = Self.ids.filter(shard.contains)
            sizes.append(kept.count)
            for id in kept {
                #expect(seen[id] == nil, "\(id) is in shards \(seen[id] ?? -1) and \(i) of \(n)")
                seen[id] = i
            }
        }
        #expect(Set(seen.keys) == Set(Self.ids), "the union of the \(n) shards is the whole set")
        // A sha256-based split of 200 ids leaves no shard empty for n ≤ 8.
        #expect(sizes.allSatisfy { $0 > 0 }, "shard sizes \(sizes)")
    }

    @Test func theHashIsSHA256BasedAndStable() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        #expect(ShardSpec.stableHash("abc") == UInt64(0xba7816bf8f01cfea))
        #expect(ShardSpec.shard(of: "abc", count: 4) == Int(UInt64(0xba7816bf8f01cfea) % 4))
        #expect(ShardSpec.shard(of: "2026/run1.tif", count: 5) == ShardSpec.shard(of: "2026/run1.tif", count: 5))
    }

    @Test(arguments: ["0/4", "3/4", " 1 / 2 ", "0/1"])
    func validShardsParse(text: String) throws {
        let shard = try ShardSpec(parsing: text)
        #expect((0..<shard.count).contains(shard.index))
    }

    @Test(arguments: ["4/4", "-1/4", "1/0", "0/0", "1", "a/4", "1/2/3", "", "1/-2"])
    func invalidShardsAreRejected(text: String) {
        #expect(throws: ShardSpecError.self) { try ShardSpec(parsing: text) }
    }
}
