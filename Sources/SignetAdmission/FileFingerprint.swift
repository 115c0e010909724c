import Foundation

/// Detects changes to a set of files by polling their modification time, size and inode
/// (Kubernetes updates mounted Secrets and ConfigMaps by swapping a symlink, which changes all three).
public struct FileFingerprint: Hashable, Sendable {
    public let entries: [String: String]

    /// The fingerprint of `paths` (a missing file is recorded as missing).
    public static func of(_ paths: [String]) -> FileFingerprint {
        var entries: [String: String] = [:]
        for path in paths {
            var st = stat()
            if stat(path, &st) == 0 {
                entries[path] = "\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            } else {
                entries[path] = "missing"
            }
        }
        return FileFingerprint(entries: entries)
    }

    /// The fingerprint of every regular file in `directory` ending in one of `extensions`
    /// (following symlinks; hidden entries such as `..data` are skipped, their targets are not).
    public static func ofDirectory(_ directory: String, extensions: Set<String>) -> FileFingerprint {
        of(files(in: directory, extensions: extensions) + [directory])
    }

    /// The files `ofDirectory` looks at, sorted.
    public static func files(in directory: String, extensions: Set<String>) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            !name.hasPrefix(".") && extensions.contains((name as NSString).pathExtension.lowercased())
        }.sorted().map { directory + "/" + $0 }
    }
}
