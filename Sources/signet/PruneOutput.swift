import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `prune --output`: a closed set.
enum PruneOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `prune --output json`: JSON Lines on stdout, one object per signature tag or fallback index,
/// then one summary object, so that a log pipeline (Loki, Elasticsearch, Cloud Logging) can index
/// each decision. Keys are sorted and stable.
enum PruneJSONLines {
    struct Entry: Encodable {
        let event = "prune"
        let action: String
        let reason: String
        let repository: String
        let tag: String
        let kind: String
        let image: String
        let detail: String?
    }

    struct Summary: Encodable {
        let event = "prune-summary"
        let repository: String
        let mode: String
        let checked: Int
        let deleted: Int
        let kept: Int
        let wouldDelete: Int
        let complete: Bool
        let error: String?

        enum CodingKeys: String, CodingKey {
            case event, repository, mode, checked, deleted, kept, complete, error
            case wouldDelete = "would_delete"
        }
    }

    static func lines(_ report: PruneReport, delete: Bool, imageRepository: Reference) -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [String] = []
        for e in report.entries {
            let entry = Entry(action: e.action.rawValue, reason: e.reason.name, repository: e.repository.repositoryName,
                              tag: e.tag, kind: e.kind.description, image: "\(imageRepository.repositoryName)@\(e.imageDigest)", detail: e.detail)
            if let data = try? encoder.encode(entry), let text = String(data: data, encoding: .utf8) { out.append(text) }
        }
        let count = { (a: PruneAction) in report.entries.filter { $0.action == a }.count }
        let summary = Summary(repository: imageRepository.repositoryName, mode: delete ? "delete" : "dry-run", checked: report.entries.count, deleted: count(.deleted),
                              kept: count(.kept), wouldDelete: count(.wouldDelete), complete: report.isComplete,
                              error: report.failure)
        if let data = try? encoder.encode(summary), let text = String(data: data, encoding: .utf8) { out.append(text) }
        return out
    }

    /// The summary line of a repository whose tags could not even be listed.
    static func writeFailure(repository: Reference, message: String, delete: Bool) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let summary = Summary(repository: repository.repositoryName, mode: delete ? "delete" : "dry-run", checked: 0, deleted: 0,
                              kept: 0, wouldDelete: 0, complete: false, error: message)
        if let data = try? encoder.encode(summary) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
    }

    static func write(_ report: PruneReport, delete: Bool, imageRepository: Reference) {
        let text = lines(report, delete: delete, imageRepository: imageRepository).joined(separator: "\n") + "\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
