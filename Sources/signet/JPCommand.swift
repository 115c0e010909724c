import ArgumentParser
import Foundation
import SignetJMESPath
import SignetPrimitives

/// `signet jp`: JMESPath with Kyverno's function library, as `kyverno jp` offers it.
/// Register with `JPCommand.self` in `Signet.configuration.subcommands`.
struct JPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jp",
        abstract: "Query, inspect and list Kyverno's JMESPath functions.",
        subcommands: [JPQueryCommand.self, JPFunctionCommand.self, JPParseCommand.self]
    )
}

/// Largest input document or expression file read (bytes).
private let jpInputLimit = 64 << 20

/// Reads a whole file or standard input, refusing more than `jpInputLimit` bytes.
private func jpRead(_ path: String?) throws -> String {
    let data: Data
    if let path {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("failed open file \(path)") }
        defer { try? handle.close() }
        data = try handle.read(upToCount: jpInputLimit + 1) ?? Data()
    } else {
        data = try FileHandle.standardInput.read(upToCount: jpInputLimit + 1) ?? Data()
    }
    guard data.count <= jpInputLimit else { throw CLIError("input larger than \(jpInputLimit) bytes") }
    return String(decoding: data, as: UTF8.self)
}

/// `signet jp query [-i FILE] [-q FILE]... [-c] [-u] EXPR...`.
struct JPQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Evaluate JMESPath expressions (with Kyverno's functions) on a JSON or YAML document."
    )

    @Option(name: .shortAndLong, help: "Read input from a JSON or YAML file instead of stdin.")
    var input: String?

    @Option(name: [.customShort("q"), .customLong("query")], help: "Read a JMESPath expression from the specified file.")
    var queryFiles: [String] = []

    @Flag(name: .shortAndLong, help: "Produce compact JSON output that omits non essential whitespace.")
    var compact = false

    @Flag(name: .shortAndLong, help: "If the final result is a string, print it without quotes.")
    var unquoted = false

    @Argument(help: "JMESPath expressions.")
    var expressions: [String] = []

    func run() throws {
        var queries = expressions
        for file in queryFiles { queries.append(try jpRead(file)) }
        guard !queries.isEmpty || input != nil else {
            throw CLIError("at least one query or input object is required")
        }
        if queries.isEmpty { queries.append(try jpRead(nil)) }
        let document: JSONValue
        do {
            document = try JMESPathDocuments.parseJSONOrYAML(try jpRead(input))
        } catch let e as JMESPathError {
            throw CLIError("error parsing input json: \(e)")
        }
        let options = JMESPathOptions.kyverno()
        for query in queries {
            let result: JSONValue
            do {
                let compiled = try JMESPathExpression(compiling: query, options: options)
                result = try compiled.evaluate(document)
            } catch let e as JMESPathError where e.code == .syntax {
                throw CLIError("failed to compile JMESPath: \(query), error: \(e)")
            } catch let e as JMESPathError {
                throw CLIError("error evaluating JMESPath expression: \(e)")
            }
            print("#", query)
            if unquoted, case .string(let s) = result {
                print(s)
            } else if compact {
                print(result.jsonString(sortedKeys: true))
            } else {
                print(JMESPathDocuments.indentedJSON(result))
            }
        }
    }
}

/// `signet jp function [NAME...]`: Kyverno's functions with signatures and notes.
struct JPFunctionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function",
        abstract: "Print the signature and description of Kyverno's JMESPath functions."
    )

    @Argument(help: "Function names (all functions when empty).")
    var names: [String] = []

    func run() {
        let wanted = Set(names)
        // Ordered by their full signature text, as `kyverno jp function` sorts them.
        let functions = JMESPathFunctionTable.kyvernoOnly().functions.sorted {
            let a = $0.summary.isEmpty ? $0.signatureText : "\($0.signatureText) (\($0.summary))"
            let b = $1.summary.isEmpty ? $1.signatureText : "\($1.signatureText) (\($1.summary))"
            return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        }
        for f in functions where wanted.isEmpty || wanted.contains(f.name) {
            print("Name:", f.name)
            print("  Signature:", f.signatureText)
            if !f.summary.isEmpty { print("  Note:     ", f.summary) }
            print()
        }
    }
}

/// `signet jp parse [-f FILE]... EXPR...`: prints the syntax tree.
struct JPParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse JMESPath expressions and print their syntax tree."
    )

    @Option(name: .shortAndLong, help: "Read an expression from the specified file.")
    var file: [String] = []

    @Argument(help: "JMESPath expressions.")
    var expressions: [String] = []

    func run() throws {
        var all = expressions
        for f in file { all.append(try jpRead(f)) }
        if all.isEmpty { all.append(try jpRead(nil)) }
        let options = JMESPathOptions.kyverno()
        for expression in all {
            do {
                let compiled = try JMESPathExpression(compiling: expression, options: options)
                print("#", expression)
                print(compiled.root.prettyPrinted)
            } catch let e as JMESPathError {
                throw CLIError("SyntaxError: \(e)")
            }
        }
    }
}
