/// The OME-XML an OME-TIFF stores in its first page's ImageDescription, read and rewritten at the
/// level focusd needs: the first `<Pixels>` element's SizeZ/SizeC/SizeT/DimensionOrder, its
/// `<Channel>`, `<TiffData>` and `<Plane>` children. Everything else is kept byte for byte.
struct OMEDescription: Sendable, Equatable {
    private(set) var xml: String

    /// Parses `text` if it is OME-XML with a `<Pixels>` element.
    init?(_ text: String) {
        guard text.contains("<OME") || text.contains(":OME"), XMLText.firstElement("Pixels", in: text) != nil else { return nil }
        xml = text
    }

    private var pixelsRange: Range<String.Index> { XMLText.firstElement("Pixels", in: xml)! }
    private var pixelsStartTag: Substring { XMLText.startTag(of: xml[pixelsRange]) }

    /// A dimension size, 1 when absent or outside 1…2²⁰ (so hostile metadata cannot overflow the
    /// plane arithmetic).
    private func size(_ name: String) -> Int {
        let value = XMLText.attribute(name, in: pixelsStartTag).flatMap { Int($0) } ?? 1
        return (1...(1 << 20)).contains(value) ? value : 1
    }
    var sizeZ: Int { size("SizeZ") }
    var sizeC: Int { size("SizeC") }
    var sizeT: Int { size("SizeT") }
    /// E.g. "XYZCT": Z varies fastest between pages, then C, then T.
    var dimensionOrder: String { XMLText.attribute("DimensionOrder", in: pixelsStartTag) ?? "XYZCT" }

    /// Planes per (z, t) when every page holds `samplesPerPage` samples (3 for RGB pages).
    func channelPlanes(samplesPerPage: Int) -> Int {
        samplesPerPage > 1 && sizeC % samplesPerPage == 0 ? sizeC / samplesPerPage : sizeC
    }

    /// Index of plane (z, c, t) in `dimensionOrder`.
    func planeIndex(z: Int, c: Int, t: Int, channelPlanes: Int) -> Int {
        var index = 0, stride = 1
        for dimension in dimensionOrder.dropFirst(2) {
            switch dimension {
            case "Z": index += z * stride; stride *= sizeZ
            case "C": index += c * stride; stride *= channelPlanes
            case "T": index += t * stride; stride *= sizeT
            default: break
            }
        }
        return index
    }

    /// The page (IFD) of each plane stored in the file named `fileName`, from the `<TiffData>`
    /// elements (or page k = plane k when there are none).
    func pagesByPlane(fileName: String, channelPlanes: Int, pageCount: Int) -> [Int: Int] {
        let product = sizeZ.multipliedReportingOverflow(by: channelPlanes).partialValue.multipliedReportingOverflow(by: sizeT)
        let planeCount = product.overflow ? Int.max : product.partialValue
        let pixels = xml[pixelsRange]
        let tiffData = XMLText.elements("TiffData", in: pixels)
        guard !tiffData.isEmpty else {
            return Dictionary(uniqueKeysWithValues: (0..<min(planeCount, pageCount)).map { ($0, $0) })
        }
        var map: [Int: Int] = [:]
        for range in tiffData {
            let element = pixels[range]
            if let uuid = XMLText.elements("UUID", in: element).first,
               let name = XMLText.attribute("FileName", in: XMLText.startTag(of: element[uuid])),
               name != fileName {
                continue // a plane stored in another file of a multi-file dataset
            }
            let tag = XMLText.startTag(of: element)
            func value(_ name: String) -> Int? { XMLText.attribute(name, in: tag).flatMap { Int($0) } }
            let firstPage = value("IFD") ?? 0
            let coordinates = [value("FirstZ") ?? 0, value("FirstC") ?? 0, value("FirstT") ?? 0]
            guard (0..<pageCount).contains(firstPage), coordinates.allSatisfy({ (0...(1 << 20)).contains($0) }) else { continue }
            let first = planeIndex(z: coordinates[0], c: coordinates[1], t: coordinates[2], channelPlanes: channelPlanes)
            let count = min(value("PlaneCount") ?? (value("IFD") != nil ? 1 : planeCount - first), pageCount - firstPage)
            for k in 0..<max(0, count) where first + k < planeCount {
                map[first + k] = firstPage + k
            }
        }
        return map
    }

    /// The description for channel plane `c` alone: SizeC = `samplesPerPage`, only that
    /// `<Channel>` and its `<Plane>`s (renumbered TheC="0"), no `<TiffData>` (the writer adds its own).
    func forSingleChannel(_ c: Int, samplesPerPage: Int) -> OMEDescription {
        var copy = self
        copy.rewritePixels { pixels in
            var pixels = XMLText.settingAttribute("SizeC", to: String(samplesPerPage), inStartTagOf: pixels)
            var channelIndex = 0
            pixels = XMLText.filterElements("Channel", in: pixels) { _ in
                defer { channelIndex += 1 }
                return channelIndex == c ? .keep : .remove
            }
            pixels = XMLText.filterElements("TiffData", in: pixels) { _ in .remove }
            pixels = XMLText.filterElements("Plane", in: pixels) { element in
                let tag = XMLText.startTag(of: element)
                guard Int(XMLText.attribute("TheC", in: tag) ?? "0") == c else { return .remove }
                return .replace(XMLText.settingAttribute("TheC", to: "0", inStartTagOf: String(element)))
            }
            return pixels
        }
        return copy
    }

    /// The description for a fused output of `pageCount` pages (one per channel plane) holding
    /// `samplesPerPage` samples of `format` each: SizeZ = SizeT = 1, Type (and SignificantBits,
    /// BigEndian when present) as written, only Z = 0, T = 0 planes, one `<TiffData>` per page,
    /// no file UUID (it is a new file).
    func forFusedOutput(pageCount: Int, samplesPerPage: Int, format: SampleFormat) -> OMEDescription {
        var copy = self
        let channelPlanes = channelPlanes(samplesPerPage: samplesPerPage)
        copy.rewritePixels { pixels in
            var pixels = XMLText.settingAttribute("SizeZ", to: "1", inStartTagOf: pixels)
            pixels = XMLText.settingAttribute("SizeT", to: "1", inStartTagOf: pixels)
            pixels = XMLText.settingAttribute("Type", to: format == .float32 ? "float" : format.rawValue, inStartTagOf: pixels)
            let tag = XMLText.startTag(of: pixels[...])
            if XMLText.attribute("SignificantBits", in: tag) != nil {
                pixels = XMLText.settingAttribute("SignificantBits", to: String(format.bitsPerSample), inStartTagOf: pixels)
            }
            if XMLText.attribute("BigEndian", in: tag) != nil {
                pixels = XMLText.settingAttribute("BigEndian", to: "false", inStartTagOf: pixels)
            }
            pixels = XMLText.filterElements("Channel", in: pixels) { element in
                guard XMLText.attribute("SamplesPerPixel", in: XMLText.startTag(of: element)) != nil else { return .keep }
                return .replace(XMLText.settingAttribute("SamplesPerPixel", to: String(samplesPerPage), inStartTagOf: String(element)))
            }
            if channelPlanes != pageCount {
                pixels = XMLText.settingAttribute("SizeC", to: String(pageCount * samplesPerPage), inStartTagOf: pixels)
                var channelIndex = 0
                pixels = XMLText.filterElements("Channel", in: pixels) { _ in
                    defer { channelIndex += 1 }
                    return channelIndex < pageCount ? .keep : .remove
                }
            }
            let prefix = XMLText.prefix(ofStartTag: XMLText.startTag(of: pixels[...]))
            let tiffData = (0..<pageCount).map {
                "<\(prefix)TiffData FirstC=\"\($0)\" FirstT=\"0\" FirstZ=\"0\" IFD=\"\($0)\" PlaneCount=\"1\"/>"
            }.joined()
            var inserted = false
            pixels = XMLText.filterElements("TiffData", in: pixels) { _ in
                defer { inserted = true }
                return inserted ? .remove : .replace(tiffData)
            }
            pixels = XMLText.filterElements("Plane", in: pixels) { element in
                let tag = XMLText.startTag(of: element)
                func value(_ name: String) -> Int { Int(XMLText.attribute(name, in: tag) ?? "0") ?? 0 }
                return value("TheZ") == 0 && value("TheT") == 0 && value("TheC") < pageCount ? .keep : .remove
            }
            if !inserted {
                // Schema order inside Pixels: Channel*, TiffData*, Plane*.
                let anchor = XMLText.elements("Plane", in: pixels[...]).first?.lowerBound
                    ?? pixels.firstRange(of: "</\(prefix)Pixels")?.lowerBound
                if let anchor { pixels.insert(contentsOf: tiffData, at: anchor) }
            }
            return pixels
        }
        if let root = XMLText.firstElement("OME", in: copy.xml) {
            let tag = XMLText.startTag(of: copy.xml[root])
            let cleaned = XMLText.removingAttribute("UUID", fromStartTag: String(tag))
            copy.xml.replaceSubrange(root.lowerBound..<tag.endIndex, with: cleaned)
        }
        return copy
    }

    private mutating func rewritePixels(_ transform: (String) -> String) {
        let range = pixelsRange
        xml.replaceSubrange(range, with: transform(String(xml[range])))
    }
}
