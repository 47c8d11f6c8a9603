import Foundation

/// The z step between slices, as the stack's own metadata records it, and the ImageJ header that
/// makes a depth map (values = slice index) read in that unit.
public struct ZSpacing: Sendable, Equatable, Codable {
    /// Distance between consecutive slices, in `unit`.
    public var step: Double
    /// The unit as the metadata names it (`micron`, `µm`, `nm`, …).
    public var unit: String

    public init(step: Double, unit: String) {
        self.step = step
        self.unit = unit
    }

    /// From an ImageJ header (`spacing=` with `unit=`) or OME-XML (`PhysicalSizeZ` with
    /// `PhysicalSizeZUnit`, µm when absent); nil without a positive, finite step.
    public init?(description: String?) {
        guard let description else { return nil }
        if let imageJ = ImageJDescription(description) {
            guard let text = imageJ.entries.first(where: { $0.key == "spacing" })?.value,
                  let step = Double(text.trimmingCharacters(in: .whitespaces)), step.isFinite, step > 0 else { return nil }
            var unit = imageJ.entries.first(where: { $0.key == "unit" })?.value ?? "pixel"
            if unit == "\\u00B5m" || unit == "um" { unit = "micron" }
            self.init(step: step, unit: unit)
            return
        }
        guard description.contains("<OME"), let tag = description.range(of: "<Pixels ").map({ description[$0.lowerBound...] }),
              let end = tag.firstIndex(of: ">") else { return nil }
        let pixels = tag[..<end]
        guard let text = XMLText.attribute("PhysicalSizeZ", in: pixels), let step = Double(text), step.isFinite, step > 0 else { return nil }
        let unit = XMLText.attribute("PhysicalSizeZUnit", in: pixels) ?? "µm"
        self.init(step: step, unit: unit == "µm" ? "micron" : unit)
    }

    /// An ImageJ header for a one-page float depth map whose values are slice indices: ImageJ's
    /// straight-line value calibration (`cf=0`, `c0=0`, `c1=step`, `vunit=unit`) shows them as the
    /// distance from the first slice in `unit`, while the stored values stay slice indices.
    public var depthMapDescription: String {
        "ImageJ=1.54f\nunit=\(unit)\ncf=0\nc0=0\nc1=\(step)\nvunit=\(unit)\n"
    }
}

