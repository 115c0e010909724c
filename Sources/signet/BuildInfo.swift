/// Facts fixed when the binary is built. `scripts/stamp-version` rewrites `gitCommit` and
/// `buildDate` before a release build (the Containerfile and CI call it); a plain `swift build`
/// needs no git and reports `unknown`.
enum BuildInfo {
    /// The release version (`GitVersion` in `signet version`).
    static let version = "v0.1.0"
    /// The commit the binary was built from (40 hex digits), or `unknown`.
    static let gitCommit = "unknown"
    /// `clean`, `dirty` or `unknown`.
    static let gitTreeState = "unknown"
    /// RFC 3339 UTC time of the stamped build, or `unknown`.
    static let buildDate = "unknown"
}
