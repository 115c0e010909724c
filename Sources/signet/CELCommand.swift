import ArgumentParser
import Foundation
import SignetCEL
import SignetPrimitives

/// `signet cel EXPR [--var NAME=JSON|NAME=@FILE]...`: evaluates one CEL expression and prints the result as JSON.
struct CELCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cel",
        abstract: "Evaluate a Common Expression Language (CEL) expression and print the result as JSON."
    )

    @Argument(help: "The CEL expression, e.g. \"object.spec.replicas > 1\".")
    var expression: String

    @Option(name: .customLong("var"),
            help: "A variable as NAME=JSON, or NAME=@FILE to read the JSON from a file (repeatable).")
    var variables: [String] = []

    @Option(help: "The evaluation cost budget.")
    var costLimit: Int64 = CELOptions().costLimit

    /// Variable files larger than this are refused (input is hostile).
    static let maximumFileSize = 64 << 20

    func run() async throws {
        var bindings: [String: JSONValue] = [:]
        for spec in variables {
            guard let eq = spec.firstIndex(of: "=") else { throw CLIError("--var expects NAME=JSON or NAME=@FILE, got \(spec)") }
            let name = String(spec[..<eq])
            let text = String(spec[spec.index(after: eq)...])
            guard !name.isEmpty else { throw CLIError("--var expects NAME=JSON or NAME=@FILE, got \(spec)") }
            bindings[name] = try Self.parseValue(text, name: name)
        }
        var options = CELOptions()
        options.costLimit = costLimit
        let env = CELEnvironment(variables: bindings.keys.sorted().map { CELVariable($0) }, options: options)
        do {
            let program = try env.compile(expression)
            let result = try program.evaluate(json: bindings)
            print(try result.toJSON().jsonString(sortedKeys: true, escapeHTML: false))
        } catch {
            throw CLIError(error.description)
        }
    }

    /// A `--var` value: inline JSON, or `@FILE` with JSON (YAML is not accepted here).
    static func parseValue(_ text: String, name: String) throws -> JSONValue {
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            let url = URL(fileURLWithPath: path)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            guard size <= maximumFileSize else { throw CLIError("variable \(name): \(path) is larger than \(maximumFileSize) bytes") }
            let data: Data
            do { data = try Data(contentsOf: url) } catch { throw CLIError("variable \(name): cannot read \(path): \(error.localizedDescription)") }
            do { return try JSONValue(json: data) } catch { throw CLIError("variable \(name): invalid JSON in \(path): \(error)") }
        }
        do { return try JSONValue(json: text) } catch { throw CLIError("variable \(name): invalid JSON: \(error)") }
    }
}
