import CTIFF

extension ImageFile {
    /// The TIFF Software tag (305) of the first page of `path`, read from the header alone (the file
    /// is opened and its first directory read; no pixel is decoded). nil for a file that is not a
    /// readable TIFF or has no Software tag.
    public static func tiffSoftware(_ path: String) -> String? {
        guard let probe = FileProbe(path: path), probe.tiffHeaderState == .valid,
              let handle = try? TIFFHandle(path: path, mode: "rm", maximumAllocation: 64 << 20) else { return nil }
        var info = ctiff_page_info()
        guard ctiff_read_page_info(handle.tiff, &info) == 1, let software = info.software else { return nil }
        return String(cString: software)
    }

    /// Whether `path` is an image focusd made from a stack: a TIFF whose Software tag is
    /// `focusd <version>` (every fused image, depth map, confidence map and aligned stack has it).
    /// Folders read as stacks skip such files, so an output left beside the slices is never fused
    /// as one of them. Stacks made to be fused (`focusd simulate`, `focusd demo`: `focusd simulate`
    /// and the like, no version) are inputs and are not matched.
    public static func isWrittenByFocusd(_ path: String) -> Bool {
        guard let software = tiffSoftware(path) else { return false }
        return isFocusdOutputSoftware(software)
    }

    /// Whether a Software tag is the one focusd's writers of results put: `focusd ` and a version.
    public static func isFocusdOutputSoftware(_ software: String) -> Bool {
        guard software.hasPrefix("focusd ") else { return false }
        return software.dropFirst("focusd ".count).first?.isNumber ?? false
    }
}
