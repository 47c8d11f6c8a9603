import Foundation
import Testing
@testable import Imaging

/// The fuzzing corpus (scripts/fuzz.sh, libFuzzer over the readers) kept as regression inputs:
/// `Tests/Fixtures/fuzz/imaging` holds small TIFF, BigTIFF, PNG, JPEG and garbage files the fuzzer
/// found interesting (new code paths), plus any reproducer of a fixed crash. Every one must give a
/// typed `ImagingError` naming the file, or an image — never a trap, a hang or a huge allocation.
@Suite struct FuzzRegressionTests {
    static let folder: String = {
        let file = URL(fileURLWithPath: #filePath)
        return file.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/imaging").path
    }()

    static let fixtures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()

    @Test func theCorpusIsThere() {
        #expect(Self.fixtures.count >= 20, "fixtures in \(Self.folder)")
    }

    @Test(arguments: fixtures)
    func everyReaderGivesAnImageOrATypedErrorNamingTheFile(_ name: String) throws {
        let path = "\(Self.folder)/\(name)"
        let budget = 64 << 20     // as in the fuzzer: bigger images must be refused from the header
        let started = Date()
        func check(_ error: ImagingError, _ call: String) {
            #expect(error.description.contains(name), "\(call): the message names the file: \(error)")
        }
        do {
            let header = try ImageFile.header(path, memoryBudgetBytes: budget)
            #expect(header.geometry.width > 0 && header.geometry.height > 0)
        } catch { check(error, "header") }
        do {
            let (image, _, _) = try ImageFile.read(path, memoryBudgetBytes: budget)
            #expect(image.pixels.count == image.width * image.height * image.channels)
        } catch { check(error, "read") }
        do {
            for source in try StackLoader(memoryBudgetBytes: budget).open([path]) {
                for i in 0..<min(source.count, 8) {
                    do {
                        let slice = try source.slice(at: i)
                        #expect(slice.width == source.geometry.width && slice.height == source.geometry.height)
                    } catch let error as ImagingError {
                        check(error, "slice \(i)")
                    } catch {
                        Issue.record("slice \(i): an untyped error \(error)")
                    }
                }
            }
        } catch { check(error, "open") }
        #expect(Date().timeIntervalSince(started) < 10, "no hang")
    }
}
