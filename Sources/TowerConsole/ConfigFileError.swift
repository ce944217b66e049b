import Foundation

/// A keymap or theme file that cannot be used. The message is for the operator who edits the file
/// by hand: it names the file, the line, the key or role, and what to change.
public struct ConfigFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
