/// Where a piece of a flow or catalogue came from, so `flows check` can point a coordinator
/// at the exact line to fix.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public var description: String { "\(file):\(line)" }
}
