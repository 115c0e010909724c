/// Admission warnings within the limits the API server enforces (FORMATS.md section 5): a warning
/// over 256 characters may be truncated and, past 4096 characters in all, further warnings are
/// dropped. We do both ourselves so the user sees a complete-looking list, and say what was left out.
public enum AdmissionWarnings {
    public static let maxWarningLength = 256
    public static let maxTotalLength = 4096

    /// Cleans (control characters become spaces), truncates each warning to 256 characters, keeps
    /// the total within 4096 and, when some are dropped, ends with `N more warning(s) omitted`.
    public static func limit(_ warnings: [String]) -> [String] {
        var out: [String] = []
        var total = 0
        let reserve = 40  // room for the "omitted" note
        for (index, raw) in warnings.enumerated() {
            let cleaned = String(raw.map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) ? " " : $0 })
            let w = cleaned.count > maxWarningLength ? String(cleaned.prefix(maxWarningLength - 3)) + "..." : cleaned
            let remaining = warnings.count - index - 1
            let budget = maxTotalLength - (remaining > 0 ? reserve : 0)
            if total + w.count > budget {
                let omitted = warnings.count - index
                out.append("\(omitted) more warning\(omitted == 1 ? "" : "s") omitted")
                return out
            }
            out.append(w)
            total += w.count
        }
        return out
    }
}
