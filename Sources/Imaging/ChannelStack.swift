/// The channels of one acquisition, held as one stack per channel (an ImageJ hyperstack or
/// OME-TIFF read channel by channel), joined into one multi-channel stack: slice k has channel c
/// from `channels[c]`. Used when focus is decided once for every channel.
public struct ChannelStack: SliceSource {
    public let channels: [any SliceSource]
    public let geometry: SliceGeometry

    /// - Precondition: every channel stack has one channel and the same size, depth and format.
    public init(_ channels: [any SliceSource]) {
        precondition(!channels.isEmpty, "a channel stack needs at least one channel")
        let first = channels[0].geometry
        for c in channels {
            precondition(c.geometry == first && c.count == channels[0].count, "joined channel stacks share one geometry and depth")
        }
        self.channels = channels
        geometry = SliceGeometry(width: first.width, height: first.height,
                                 channels: channels.count * first.channels, format: first.format)
    }

    public var count: Int { channels[0].count }
    public var metadata: ImageMetadata { channels[0].metadata }
    public func sliceName(at index: Int) -> String { channels[0].sliceName(at: index) }

    public func slice(at index: Int) throws -> Image {
        Image(planes: try channels.map { try $0.slice(at: index) })
    }

    /// Whether `stacks` can be joined: one-channel stacks of one geometry and depth.
    public static func canJoin(_ stacks: [any SliceSource]) -> Bool {
        guard let first = stacks.first, stacks.count > 1 else { return false }
        return stacks.allSatisfy { $0.geometry == first.geometry && $0.count == first.count && $0.geometry.channels == 1 }
    }
}
