/// The slug of a prompt's graph (graph JSON `metadata.slug`, exported file names): the prompt id
/// with every character other than letters, digits, `-`, `_` and `.` replaced by `_`; never
/// empty, `.` or `..`, so it is always a plain file name.
public func graphSlug(promptID id: String) -> String {
    let s = String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    return s.isEmpty || s == "." || s == ".." ? "prompt" : s
}
