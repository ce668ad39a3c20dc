import Foundation

/// Unicode normalization forms (UAX #15) for the `NFC`/`NFD`/`NFKC`/`NFKD` normalizers.
///
/// Neither Foundation nor the standard library gets every case right on Linux, so the work
/// is split where each is correct (checked against `tokenizers` on thousands of random
/// strings of combining marks and supplementary-plane characters):
/// * per-scalar decomposition mappings come from Foundation, one scalar at a time;
/// * canonical ordering is done here, with the standard library's combining classes
///   (Foundation and the standard library both skip the reordering after the four
///   characters whose decomposition starts with a non-starter, e.g. U+0F73);
/// * composition is the standard library's NFC, applied to the ordered decomposition
///   (Foundation's composes a supplementary-plane starter as if it were its low 16 bits).
///
/// `tokenizers` normalizes with Unicode 9.0 tables (measured: every combining class and
/// decomposition added in 10.0 or later is ignored there), so characters assigned after 9.0
/// are left alone here too: no decomposition, combining class 0, no composition across them.
enum UnicodeNormalization {
    enum Form { case nfc, nfd, nfkc, nfkd }

    static func normalize(_ text: String, _ form: Form) -> String {
        // ASCII is invariant under every form.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        let decomposed = decompose(text, compatibility: form == .nfkc || form == .nfkd)
        switch form {
        case .nfd, .nfkd: return decomposed
        case .nfc, .nfkc: return compose(decomposed)
        }
    }

    /// Whether `tokenizers`' Unicode 9.0 tables know `scalar`.
    private static func isKnown(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 9 || (age.major == 9 && age.minor == 0)
    }

    private static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        isKnown(scalar) ? scalar.properties.canonicalCombiningClass.rawValue : 0
    }

    /// Canonical composition of a canonically ordered decomposition, chunk by chunk between
    /// characters unknown to Unicode 9.0 (starters there, which block composition).
    private static func compose(_ decomposed: String) -> String {
        var result = ""
        var chunk = String.UnicodeScalarView()
        func flush() {
            guard !chunk.isEmpty else { return }
            result += String(decoding: String(chunk)._nfcCodeUnits, as: UTF8.self)
            chunk = String.UnicodeScalarView()
        }
        for scalar in decomposed.unicodeScalars {
            if isKnown(scalar) {
                chunk.append(scalar)
            } else {
                flush()
                result.unicodeScalars.append(scalar)
            }
        }
        flush()
        return result
    }

    /// The canonical (or compatibility) decomposition of `text`, canonically ordered.
    private static func decompose(_ text: String, compatibility: Bool) -> String {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII || !isKnown(scalar) {
                scalars.append(scalar)
                continue
            }
            let single = String(scalar)
            let mapped = compatibility ? single.decomposedStringWithCompatibilityMapping : single.decomposedStringWithCanonicalMapping
            scalars.append(contentsOf: mapped.unicodeScalars)
        }
        reorder(&scalars)
        return String(String.UnicodeScalarView(scalars))
    }

    /// The canonical ordering algorithm: within each run of non-starters, a stable sort by
    /// combining class.
    private static func reorder(_ scalars: inout [Unicode.Scalar]) {
        var index = 0
        while index < scalars.count {
            guard combiningClass(scalars[index]) != 0 else { index += 1; continue }
            var end = index
            while end < scalars.count, combiningClass(scalars[end]) != 0 { end += 1 }
            if end - index > 1 {
                // Insertion sort: stable, and runs of marks are short.
                for i in (index + 1)..<end {
                    let current = scalars[i]
                    let currentClass = combiningClass(current)
                    var j = i
                    while j > index, combiningClass(scalars[j - 1]) > currentClass {
                        scalars[j] = scalars[j - 1]
                        j -= 1
                    }
                    scalars[j] = current
                }
            }
            index = end
        }
    }
}
