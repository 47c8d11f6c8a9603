import ArgumentParser
import Daemon
import Foundation

extension OutputPathCheck {
    /// After the scan: no file a stack's run writes may be an input or lie inside an archive (an
    /// archive inside --out, where the mirrored layout would write into it).
    /// - Throws: `ValidationError` (exit code 2) naming the output, the archive and what to do.
    static func validateReprocess(stacks: [ArchiveStack], reprocessor: Reprocessor, archives: [String]) throws {
        let roots = archives.map { (archive: $0, root: resolved($0)) }
        let inputs = Set(stacks.flatMap(\.inputs).map(resolved))
        for stack in stacks {
            for path in reprocessor.outputPaths(stack) {
                let target = resolved(path)
                if inputs.contains(target) {
                    throw ValidationError("the output \(path) of \(stack.id) is one of the inputs; focusd never overwrites an input — choose another --out")
                }
                if let hit = roots.first(where: { target == $0.root || isInside(target, $0.root) }) {
                    throw ValidationError("the output \(path) of \(stack.id) would lie inside the archive \(hit.archive) (--out mirrors the archives below it); choose an --out outside every archive's folder, or --relative-to")
                }
            }
        }
    }
}
