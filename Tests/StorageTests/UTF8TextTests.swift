import Foundation
import Storage
import Testing

@Suite struct UTF8TextTests {
    @Test(arguments: [
        ([0x61, 0x62], nil),
        ([0xE2, 0x82, 0xAC, 0x61], nil),         // "€a"
        ([0x61, 0xFF], 1),
        ([0x61, 0x62, 0xC3], 2),                 // truncated sequence at the end
        ([0xE2, 0x82, 0xAC, 0xED, 0xA0, 0x80], 3), // a UTF-16 surrogate encoded as UTF-8
        ([0xC0, 0xAF], 0),                        // overlong "/"
    ] as [([UInt8], Int?)])
    func firstInvalidOffset(bytes: [UInt8], expected: Int?) {
        #expect(UTF8Text.firstInvalidOffset(in: bytes) == expected)
    }
}
