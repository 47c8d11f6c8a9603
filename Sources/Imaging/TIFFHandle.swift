import CTIFF

/// Owns one libtiff handle and the messages libtiff reported on it; closes it in `deinit`.
///
/// Not shared between threads: every read opens its own handle.
final class TIFFHandle {
    private var handle: OpaquePointer?
    let path: String

    /// Opens `path` for reading ("rm": no memory mapping, so a file truncated while being read
    /// gives an error instead of SIGBUS) or writing ("w", "w8" for BigTIFF).
    /// - Throws: `ImagingError` with libtiff's message when the file cannot be opened.
    init(path: String, mode: String, maximumAllocation: Int) throws(ImagingError) {
        self.path = path
        guard let opened = ctiff_open(path, mode, Int64(maximumAllocation)) else {
            throw ImagingError(.unreadable, path: path, message: "out of memory opening the file")
        }
        handle = opened
        if ctiff_tiff(opened) == nil {
            let message = String(cString: ctiff_error_message(opened))
            ctiff_close(opened)
            handle = nil
            if mode.hasPrefix("w") {
                throw ImagingError(.writeFailed, path: path, message: message.isEmpty ? "libtiff cannot create it" : message)
            }
            throw TIFFHandle.openFailure(path: path, libtiffMessage: message)
        }
    }

    deinit {
        if let handle { ctiff_close(handle) }
    }

    /// The libtiff `TIFF *`.
    var tiff: OpaquePointer { ctiff_tiff(handle!)! }

    /// Errors libtiff reported since the last `clearMessages()`, joined by "; ".
    var errorMessage: String { String(cString: ctiff_error_message(handle!)) }

    func clearMessages() { ctiff_clear_messages(handle!) }

    /// Flushes and fsyncs a file opened for writing.
    func flushAndSync() -> Bool { ctiff_flush_and_sync(handle!) == 1 }

    /// Closes now (flushing writes); returns false when libtiff reported an error while closing.
    func close() -> Bool {
        guard let handle else { return true }
        self.handle = nil
        return ctiff_close(handle) == 1
    }

    /// Tells apart a truncated TIFF from garbage when libtiff refuses to open a file.
    static func openFailure(path: String, libtiffMessage: String) -> ImagingError {
        guard let probe = FileProbe(path: path) else {
            return FileProbe.openError(path)
        }
        let detail = libtiffMessage.isEmpty ? "" : " (libtiff: \(libtiffMessage))"
        switch probe.tiffHeaderState {
        case .notTIFF:
            return ImagingError(.unreadable, path: path, message: "not a TIFF file\(detail); give a TIFF, PNG or JPEG image")
        case .truncated:
            return ImagingError(.truncated, path: path,
                                message: "the file ends before its first directory (\(probe.size) bytes)\(detail); the file is incomplete, copy it again")
        case .valid:
            let lowered = libtiffMessage.lowercased()
            if lowered.contains("cannot read tiff directory") || lowered.contains("can not read tiff directory")
                || lowered.contains("seek error") || lowered.contains("end of file") {
                return ImagingError(.truncated, path: path,
                                    message: "the file ends inside its directory\(detail); the file is incomplete, copy it again")
            }
            return ImagingError(.unreadable, path: path, message: "corrupt TIFF header\(detail); re-export the file")
        }
    }
}
