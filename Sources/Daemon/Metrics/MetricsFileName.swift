import Foundation

/// The metrics file of one daemon instance or one reprocess shard: node_exporter gathers every
/// `*.prom` file in its folder, and two processes must not rewrite one file.
///
/// `{instance}` and `{shard}` in the configured name are replaced (`{shard}` by `i-of-n`). A name
/// without `{instance}` that does not already contain the instance name gets `-<instance>` before
/// `.prom`: `focusd@scope1` with `metrics_file: …/focusd.prom` writes `…/focusd-scope1.prom`, while
/// `focusd.service` (instance `focusd`) keeps `…/focusd.prom`.
public enum MetricsFileName {
    /// Whether `name` can be an instance name: 1–64 of `A–Z a–z 0–9 . _ - @`.
    public static func isInstanceName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_@".unicodeScalars.contains($0)
        }
    }

    /// The file for `instance` (and `shard`, for a sharded reprocess) from the configured `path`;
    /// a nil `instance` (reprocess without `--instance`) adds no instance to the name.
    public static func resolve(_ path: String, instance: String?, shard: ShardSpec? = nil) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        var name = (path as NSString).lastPathComponent
        let shardText = shard.map { "\($0.index)-of-\($0.count)" }
        let hadInstance = name.contains("{instance}")
        let hadShard = name.contains("{shard}")
        name = name.replacingOccurrences(of: "{instance}", with: instance ?? "reprocess")
        name = name.replacingOccurrences(of: "{shard}", with: shardText ?? "all")
        var stem = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        if let instance, !hadInstance, !stem.contains(instance) { stem += "-\(instance)" }
        if let shardText, !hadShard { stem += "-shard\(shardText)" }
        let file = ext.isEmpty ? stem : "\(stem).\(ext)"
        return folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
    }
}
