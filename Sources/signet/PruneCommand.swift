import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet prune REPOSITORY... [--dry-run] [--delete]`: finds signature tags (`sha256-HEX.sig/.att/.sbom`)
/// whose image digest no longer exists in each REPOSITORY, and with `--delete` removes them. Signatures of
/// images that exist (or could not be checked) are never touched. `--output json` prints one JSON
/// object per tag (`action`: `deleted`, `kept`, `would-delete`; `reason`) and a summary object, for
/// log pipelines. Exits 1 when an image could not be checked or a deletion failed: that run stops
/// there, and everything not yet handled (in this and the following repositories) is left alone.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove signatures whose image no longer exists.")

    @Flag(name: .long, help: "Only list what would be deleted (the default).")
    var dryRun = false

    @Flag(name: .long, help: "Delete the orphaned signature tags.")
    var delete = false

    @Option(name: .long, help: ArgumentHelp("The signatures of REPOSITORY live in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Output format: text (default) or json (one JSON object per line).", valueName: "format"))
    var output: PruneOutputFormat = .text

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image repositories, e.g. localhost:5000/app.")
    var repositories: [String]

    func validate() throws {
        if dryRun && delete { throw ValidationError("--dry-run and --delete exclude each other") }
        guard !repositories.isEmpty else { throw ValidationError("missing REPOSITORY") }
    }

    func run() async throws {
        let repos = try repositories.map { try Reference.cli($0).repositoryOnly }
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        // One signature repository holds the signatures of every image repository that uses it: a
        // run over one image repository would take the others' signatures for orphans.
        if signatureRepo != nil && repos.count > 1 {
            throw CLIError("a signature repository (--signature-repository or COSIGN_REPOSITORY) takes one image repository")
        }
        let store = SignatureStore(client: try registry.makeClient())
        for repo in repos {
            let storage = signatureRepo?.repository ?? repo
            let progress = ProgressLine()
            let report: PruneReport
            do {
                report = try await store.prune(imageRepository: repo, signatureRepository: signatureRepo, delete: delete) { done, total in
                    progress.update(done, total)
                }
            } catch let e as SignetOCIError {
                progress.finish()
                if output == .json { PruneJSONLines.writeFailure(repository: repo, message: e.message, delete: delete) }
                throw CLIError(e.message)
            }
            progress.finish()
            if output == .json {
                PruneJSONLines.write(report, delete: delete, imageRepository: repo)
            } else {
                printText(report, repo: repo, storage: storage)
            }
            if let failure = report.failure { SignatureCLI.info("Error: \(failure)") }
            if !report.isComplete { throw ExitCode(1) }
        }
    }

    private func printText(_ report: PruneReport, repo: Reference, storage: Reference) {
        for tag in report.orphans { print("\(storage.repositoryName):\(tag.tag)") }
        for subject in report.orphanIndexes { print("\(repo.repositoryName):\(subject.tagSafe)") }
        for entry in report.entries where entry.reason == .notHandledAfterError || entry.reason == .deleteFailed || entry.reason == .imageReappeared {
            FileHandle.standardError.write(Data("kept \(entry.repository.repositoryName):\(entry.tag): \(entry.reason)\(entry.detail.map { ": \($0)" } ?? "")\n".utf8))
        }
        for (tag, reason) in report.unchecked {
            FileHandle.standardError.write(Data("skipped \(storage.repositoryName):\(tag.tag): \(reason)\n".utf8))
        }
        for tag in report.sharedWithKept {
            FileHandle.standardError.write(Data("kept \(storage.repositoryName):\(tag.tag): its manifest is shared with a signature that is kept\n".utf8))
        }
        var summary = "\(report.checked) signature tags checked: \(report.orphans.count) orphaned, \(report.kept.count) of existing images kept"
        if !report.unchecked.isEmpty { summary += ", \(report.unchecked.count) not checked (kept)" }
        if !report.orphanIndexes.isEmpty || report.keptIndexes > 0 {
            summary += "; \(report.orphanIndexes.count + report.keptIndexes) referrers fallback indexes: \(report.orphanIndexes.count) orphaned"
        }
        if delete {
            summary += "; deleted \(report.deleted.count)"
            if !report.deletedIndexes.isEmpty {
                summary += " tags and \(report.deletedIndexes.count) fallback indexes with \(report.deletedReferrers) sigstore bundles"
            }
        } else if !report.orphans.isEmpty || !report.orphanIndexes.isEmpty {
            summary += "; dry run, nothing deleted (use --delete)"
        }
        SignatureCLI.info(summary)
    }
}

/// A `\r`-updated progress line on stderr, shown only for long runs.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var shown = false
    private var lastTime = Date.distantPast
    private let start = Date()

    func update(_ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        // Long runs only: more than 50 tags or more than a second.
        guard total > 50 || now.timeIntervalSince(start) > 1 else { return }
        guard done == total || now.timeIntervalSince(lastTime) > 0.2 else { return }
        lastTime = now
        shown = true
        FileHandle.standardError.write(Data("\rchecking signature tags: \(done)/\(total)".utf8))
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
