/// Geometry shared by every slice of a stack: size, channel count and stored sample format.
public struct SliceGeometry: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var format: SampleFormat

    public init(width: Int, height: Int, channels: Int, format: SampleFormat) {
        self.width = width
        self.height = height
        self.channels = channels
        self.format = format
    }
}

/// Metadata carried from the input to the fused output.
public struct ImageMetadata: Sendable, Equatable, Codable {
    /// TIFF XResolution / YResolution and ResolutionUnit (1 none, 2 inch, 3 centimetre).
    public var xResolution: Double?
    public var yResolution: Double?
    public var resolutionUnit: Int?
    /// The first slice's ImageDescription (ImageJ header or OME-XML), as read.
    public var imageDescription: String?
    /// Number of pages in the file the stack came from (1 for folders of single-slice files).
    public var pageCount: Int?

    public init(xResolution: Double? = nil, yResolution: Double? = nil, resolutionUnit: Int? = nil,
                imageDescription: String? = nil, pageCount: Int? = nil) {
        self.xResolution = xResolution
        self.yResolution = yResolution
        self.resolutionUnit = resolutionUnit
        self.imageDescription = imageDescription
        self.pageCount = pageCount
    }
}

/// An ordered focus stack: slices of one geometry, read on demand.
///
/// A stack never holds all its slices in memory; `slice(at:)` decodes one slice each call, so
/// fusion of an N-slice stack keeps only a few slice-sized buffers alive.
public protocol SliceSource: Sendable {
    /// Geometry shared by every slice.
    var geometry: SliceGeometry { get }
    /// Number of slices.
    var count: Int { get }
    /// Metadata taken from the first slice.
    var metadata: ImageMetadata { get }
    /// A human-readable origin of slice `index` for messages and provenance, e.g. `stack.tif page 3`.
    func sliceName(at index: Int) -> String
    /// Decodes slice `index` (0-based, stack order).
    /// - Throws: `ImagingError` when the data cannot be decoded.
    func slice(at index: Int) throws -> Image
}

/// A stack held in memory, for tests, synthetic data and small stacks.
public struct InMemoryStack: SliceSource {
    public let slices: [Image]
    public let geometry: SliceGeometry
    public let metadata: ImageMetadata
    public let names: [String]

    public init(slices: [Image], format: SampleFormat, metadata: ImageMetadata = ImageMetadata(), names: [String]? = nil) {
        precondition(!slices.isEmpty, "a stack needs at least one slice")
        let first = slices[0]
        for s in slices {
            precondition(s.width == first.width && s.height == first.height && s.channels == first.channels,
                         "all slices of a stack share one geometry")
        }
        self.slices = slices
        self.geometry = SliceGeometry(width: first.width, height: first.height, channels: first.channels, format: format)
        self.metadata = metadata
        self.names = names ?? slices.indices.map { "slice \($0)" }
    }

    public var count: Int { slices.count }
    public func sliceName(at index: Int) -> String { names[index] }
    public func slice(at index: Int) throws -> Image { slices[index] }
}
