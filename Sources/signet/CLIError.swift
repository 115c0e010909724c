import ArgumentParser

/// An error the CLI reports as `Error: MESSAGE` with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    static let notImplemented = CLIError("not implemented yet")
}
