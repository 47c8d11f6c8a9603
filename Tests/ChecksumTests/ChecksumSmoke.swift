import Testing
@testable import Checksum
