import Foundation

/// Opens inputs as stacks: one multi-page TIFF (one stack, or one per channel), one folder of
/// slices, or a list of single-slice image files. Validates geometry from headers.
///
/// - One TIFF file: its full-resolution pages. An ImageJ hyperstack (`channels=`/`slices=`/`frames=`
///   in the ImageDescription, pages in czt order) or an OME-TIFF (OME-XML SizeZ/SizeC/SizeT,
///   DimensionOrder, TiffData) gives its Z series at t = 0, one stack per channel. ImageJ's raw
///   layout for files over 4 GiB (one directory, `images=N` back to back) is read as well.
///   Reduced-resolution pages (thumbnails) are skipped.
/// - One folder: every `.tif/.tiff/.png/.jpg/.jpeg` file in it (hidden files and others ignored), in
///   natural order of the names (`slice_2` before `slice_10`). A folder holding a single TIFF is
///   opened like that TIFF.
/// - Several files: one slice each, in the given order.
///
/// Nothing is decoded here, but every header is read and checked: layout, memory budget, equal
/// geometry, and (TIFF) data inside the file. Each stack decodes one slice per `slice(at:)` call.
public struct StackLoader: Sendable {
    /// Largest decoded slice (as planar `Float`) a read may allocate, in bytes.
    public let memoryBudgetBytes: Int

    public init(memoryBudgetBytes: Int = 4 << 30) {
        self.memoryBudgetBytes = memoryBudgetBytes
    }

    /// Image file name extensions a folder scan picks up (lower case).
    public static let sliceExtensions: Set<String> = ["tif", "tiff", "png", "jpg", "jpeg"]

    /// - Throws: `.emptyStack` (no input, empty folder), `.notFound`, `.mismatchedSlices` naming
    ///   both files/pages and the property, and any reading error of the headers.
    public func open(_ inputs: [String]) throws(ImagingError) -> [any SliceSource] {
        guard let first = inputs.first else {
            throw ImagingError(.emptyStack, path: "", message: "no input given; give a multi-page TIFF, a folder of slices or a list of image files")
        }
        if inputs.count == 1 {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: first, isDirectory: &isFolder) else {
                throw ImagingError(.notFound, path: first, message: "no such file or folder; check the path")
            }
            if isFolder.boolValue {
                let files = try sliceFiles(inFolder: first)
                if files.count == 1, FileProbe(path: files[0])?.container == .tiff {
                    return try openTIFF(files[0])
                }
                return [try openFileList(files)]
            }
            if FileProbe(path: first)?.container == .tiff {
                return try openTIFF(first)
            }
            return [try openFileList(inputs)]
        }
        for input in inputs {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder.boolValue {
                throw ImagingError(.unsupportedLayout, path: input,
                                   message: "is a folder inside a list of files; give either one folder or a list of image files")
            }
        }
        return [try openFileList(inputs)]
    }

    /// The image files of `folder` (by extension, hidden files and subfolders left out), in natural
    /// order: the slices `open` reads from a folder.
    /// - Throws: `.notFound` when the folder cannot be listed, `.emptyStack` when it holds no image file.
    public func sliceFiles(inFolder folder: String) throws(ImagingError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ImagingError(.notFound, path: folder, message: "cannot list the folder (\(error.localizedDescription)); check the path and permissions")
        }
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        let slices = names.filter { name in
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
            guard Self.sliceExtensions.contains(name[name.index(after: dot)...].lowercased()) else { return false }
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: base + name, isDirectory: &isFolder) && !isFolder.boolValue
        }
        guard !slices.isEmpty else {
            throw ImagingError(.emptyStack, path: folder,
                               message: "the folder holds no .tif, .tiff, .png, .jpg or .jpeg file; put the slices of one stack in it")
        }
        return slices.sorted(by: NaturalOrder.areInIncreasingOrder).map { base + $0 }
    }

    /// A stack of single-image files, all checked against the first.
    func openFileList(_ paths: [String]) throws(ImagingError) -> FileListStack {
        var headers: [SingleImageHeader] = []
        headers.reserveCapacity(paths.count)
        for path in paths {
            let header = try SingleImageHeader(path: path, memoryBudget: memoryBudgetBytes)
            if header.pageCount > 1 && paths.count > 1 {
                throw ImagingError(.unsupportedLayout, path: path,
                                   message: "is a multi-page TIFF (\(header.pageCount) pages) among single-slice files; open it on its own, or remove it from the folder/list")
            }
            if let reference = headers.first, let difference = SliceGeometry.difference(header.geometry, reference.geometry) {
                throw ImagingError(.mismatchedSlices, path: path,
                                   message: "\(difference.property) \(difference.value) differs from \(difference.property) \(difference.reference) of \(reference.path); \(SliceGeometry.sharedPropertiesAdvice)")
            }
            headers.append(header)
        }
        var metadata = headers[0].metadata
        metadata.pageCount = headers[0].pageCount
        return FileListStack(paths: paths, geometry: headers[0].geometry, metadata: metadata, headers: headers, memoryBudget: memoryBudgetBytes)
    }

    /// ImageJ's layout for files over 4 GiB: one directory, `images=N` uncompressed images stored
    /// back to back from the first page's data on.
    func openImageJRaw(_ file: TIFFFile, header: ImageJDescription, layout: TIFFPageLayout) throws(ImagingError) -> [any SliceSource] {
        let path = file.path
        guard let data = file.firstPageData else {
            throw ImagingError(.unsupportedLayout, path: path,
                               message: "the ImageJ header declares \(header.images) images but the file has \(file.directoryCount) pages and its first page is not stored uncompressed and contiguous, as ImageJ's raw layout for files over 4 GiB requires; re-save it as a standard or BigTIFF stack, e.g. with Fiji's Bio-Formats exporter")
        }
        let needed = data.start + UInt64(header.images) * UInt64(data.pageBytes)
        guard needed <= UInt64(file.fileSize) else {
            throw ImagingError(.truncated, path: path,
                               message: "the ImageJ header declares \(header.images) images stored back to back (ImageJ's layout for files over 4 GiB), which needs \(needed) bytes, but the file has \(file.fileSize); the file is incomplete, copy it again")
        }
        let channels = header.channels
        var series = (0..<channels).compactMap { header.zSeriesPages(channel: $0, pageCount: header.images) }
        if series.count != channels { series = [Array(0..<header.images)] }
        let description = series.count > 1 ? header.forSingleChannel().text : layout.metadata.imageDescription
        return series.map { images in
            var metadata = layout.metadata
            metadata.imageDescription = description
            metadata.pageCount = header.images
            return ImageJRawStack(path: path, images: images, geometry: layout.geometry, metadata: metadata, layout: layout, data: data)
        }
    }

    /// The stacks of one TIFF file: all pages, or the Z series of each channel of a hyperstack.
    func openTIFF(_ path: String) throws(ImagingError) -> [any SliceSource] {
        let file = try TIFFFile(path: path, memoryBudget: memoryBudgetBytes)
        guard let first = file.pages.first else {
            throw ImagingError(.emptyStack, path: path, message: "the TIFF holds only reduced-resolution pages; export the full-resolution stack")
        }
        let layouts = Dictionary(uniqueKeysWithValues: file.pages.map { ($0.index, $0.layout) })
        let offsets = Dictionary(uniqueKeysWithValues: file.pages.map { ($0.index, $0.offset) })
        let description = first.layout.metadata.imageDescription
        var groups: [(pages: [Int], description: String?)] = [(file.pages.map(\.index), description)]

        if let description, let imageJ = ImageJDescription(description), imageJ.images > 1 {
            if imageJ.images > file.directoryCount {
                return try openImageJRaw(file, header: imageJ, layout: first.layout)
            }
            let channels = imageJ.channels
            let series = (0..<channels).compactMap { imageJ.zSeriesPages(channel: $0, pageCount: file.directoryCount) }
            if series.count == channels {
                let single = channels > 1 ? imageJ.forSingleChannel().text : description
                groups = series.map { ($0, single) }
            }
        } else if let description, let ome = OMEDescription(description) {
            let samples = first.layout.channels
            let channelPlanes = ome.channelPlanes(samplesPerPage: samples)
            let fileName = String(path.split(separator: "/").last ?? Substring(path))
            let map = ome.pagesByPlane(fileName: fileName, channelPlanes: channelPlanes, pageCount: file.directoryCount)
            groups = []
            for c in 0..<channelPlanes {
                var pages: [Int] = []
                for z in 0..<ome.sizeZ {
                    guard let page = map[ome.planeIndex(z: z, c: c, t: 0, channelPlanes: channelPlanes)] else {
                        throw ImagingError(.unsupportedLayout, path: path,
                                           message: "the OME-XML places plane Z=\(z) C=\(c) T=0 in another file (multi-file OME-TIFF dataset); convert it to a single-file OME-TIFF")
                    }
                    guard layouts[page] != nil else {
                        throw ImagingError(.unreadable, path: path, page: page,
                                           message: "the OME-XML places plane Z=\(z) C=\(c) T=0 on page \(page), but the file has \(file.directoryCount) pages; the file is incomplete or its metadata is wrong")
                    }
                    pages.append(page)
                }
                groups.append((pages, channelPlanes > 1 ? ome.forSingleChannel(c, samplesPerPage: samples).xml : description))
            }
        }

        let reader = SharedTIFFReader(path: path, memoryBudget: memoryBudgetBytes)
        return try groups.map { group throws(ImagingError) -> any SliceSource in
            guard let firstPage = group.pages.first, let reference = layouts[firstPage] else {
                throw ImagingError(.emptyStack, path: path, message: "the stack metadata selects no page; check the file's ImageJ/OME metadata")
            }
            for page in group.pages {
                guard let layout = layouts[page] else {
                    throw ImagingError(.unreadable, path: path, page: page,
                                       message: "the ImageJ/OME metadata selects page \(page), which is missing or a reduced-resolution copy; the metadata is wrong")
                }
                if let difference = SliceGeometry.difference(layout.geometry, reference.geometry) {
                    throw ImagingError(.mismatchedSlices, path: path, page: page,
                                       message: "\(difference.property) \(difference.value) differs from \(difference.property) \(difference.reference) of page \(firstPage); \(SliceGeometry.sharedPropertiesAdvice)")
                }
            }
            var metadata = reference.metadata
            metadata.imageDescription = group.description
            metadata.pageCount = file.directoryCount
            return TIFFPageStack(path: path, pages: group.pages, geometry: reference.geometry, metadata: metadata,
                                 directoryOffsets: group.pages.map { offsets[$0] ?? 0 }, memoryBudget: memoryBudgetBytes,
                                 reader: reader)
        }
    }
}

extension StackLoader {
    /// The ImageDescription of a TIFF file's first page as stored (an ImageJ header or OME-XML for
    /// every channel, not the single-channel form each channel stack carries); nil when there is none
    /// or the file is not a TIFF.
    public static func fileDescription(_ path: String) -> String? {
        guard let file = try? TIFFFile(path: path, memoryBudget: Int.max / 2, firstPageOnly: true) else { return nil }
        return file.pages.first?.layout.metadata.imageDescription
    }
}
