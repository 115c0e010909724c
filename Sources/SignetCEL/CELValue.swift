import Synchronization

/// A CEL runtime value (langdef "Values").
///
/// Errors and unknowns are values too: functions return `.error(...)` instead of throwing, and the
/// logical operators absorb them (langdef "Logical Operators").
public enum CELValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map(CELMap)
    /// A type value such as `int` or `type(x)`.
    case type(CELType)
    case timestamp(CELTimestamp)
    case duration(CELDuration)
    /// `optional.of(x)` is `.optional(x)`, `optional.none()` is `.optional(nil)`.
    indirect case optional(CELValue?)
    /// A value of a library-defined abstract type (IP, CIDR, quantity, URL, semver, ...).
    indirect case opaque(any CELOpaque)
    /// An evaluation error carried as a value.
    indirect case error(CELError)
    /// An unknown value (partial evaluation); carries the ids of the unknown attributes.
    case unknown(CELUnknown)

    /// `true`.
    public static let `true` = CELValue.bool(true)
    /// `false`.
    public static let `false` = CELValue.bool(false)

    /// The runtime type of the value (`type(x)`).
    public var celType: CELType {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .list: .anyList
        case .map: .anyMap
        case .type: .type
        case .timestamp: .timestamp
        case .duration: .duration
        case .optional: .optional(.dyn)
        case .opaque(let o): o.celType
        case .error: .error
        case .unknown: .unknown
        }
    }

    /// Whether the value is an error or unknown (which strict functions propagate instead of evaluating).
    @inlinable public var isErrorOrUnknown: Bool {
        switch self {
        case .error, .unknown: true
        default: false
        }
    }

    // MARK: - Accessors

    /// The Bool payload, if this is a bool.
    @inlinable public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The Int64 payload, if this is an int.
    @inlinable public var intValue: Int64? { if case .int(let v) = self { v } else { nil } }
    /// The UInt64 payload, if this is a uint.
    @inlinable public var uintValue: UInt64? { if case .uint(let v) = self { v } else { nil } }
    /// The Double payload, if this is a double.
    @inlinable public var doubleValue: Double? { if case .double(let v) = self { v } else { nil } }
    /// The String payload, if this is a string.
    @inlinable public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    /// The bytes payload, if this is bytes.
    @inlinable public var bytesValue: [UInt8]? { if case .bytes(let v) = self { v } else { nil } }
    /// The elements, if this is a list.
    @inlinable public var listValue: [CELValue]? { if case .list(let v) = self { v } else { nil } }
    /// The map, if this is a map.
    @inlinable public var mapValue: CELMap? { if case .map(let v) = self { v } else { nil } }
    /// The error, if this is an error value.
    @inlinable public var errorValue: CELError? { if case .error(let e) = self { e } else { nil } }

    /// Shorthand for an error value.
    public static func error(_ code: CELError.Code, _ message: String) -> CELValue {
        .error(CELError(code, message))
    }
}

/// A value of a library-defined abstract type (langdef "Abstract Types").
///
/// Equality between opaque values uses `isEqual(to:)`; ordering, when defined, uses `compare(to:)`.
public protocol CELOpaque: Sendable, CustomStringConvertible {
    /// The type, normally `.opaque("net.IP")` or similar.
    var celType: CELType { get }
    /// CEL equality with another opaque value (usually of the same type).
    func isEqual(to other: any CELOpaque) -> Bool
    /// Ordering for `<`, `<=`, ...; `nil` when the type is not ordered or `other` is of another type.
    func compare(to other: any CELOpaque) -> Int?
}

extension CELOpaque {
    public func compare(to other: any CELOpaque) -> Int? { nil }
}

/// Ids of the unknown attributes an unknown value depends on (langdef "Evaluation").
public struct CELUnknown: Hashable, Sendable {
    /// The expression ids or attribute names that are unknown, in first-seen order.
    public let attributes: [String]
    /// Creates an unknown set.
    public init(_ attributes: [String]) { self.attributes = attributes }
    /// The union of two unknown sets (both operands of `&&` unknown, say).
    public func merging(_ other: CELUnknown) -> CELUnknown {
        var out = attributes
        for a in other.attributes where !out.contains(a) { out.append(a) }
        return CELUnknown(out)
    }
}

/// A map key: CEL allows int, uint, bool and string keys (langdef "Aggregate Values").
///
/// Numeric keys compare by value across types: `{1: 'a'}[1u]` finds the entry.
public enum CELMapKey: Hashable, Sendable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)

    /// The key for a value, or `nil` if the value cannot be a map key. Integral doubles are looked up as
    /// numbers by `CELMap` but are never stored as keys.
    public init?(_ value: CELValue) {
        switch value {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .uint(let u): self = .uint(u)
        case .string(let s): self = .string(s)
        default: return nil
        }
    }

    /// The key as a value.
    public var value: CELValue {
        switch self {
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .uint(let u): .uint(u)
        case .string(let s): .string(s)
        }
    }

    public var description: String {
        switch self {
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .uint(let u): "\(u)u"
        case .string(let s): "\"\(s)\""
        }
    }

    public static func == (lhs: CELMapKey, rhs: CELMapKey) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): StringSearch.equal(a, b)
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.int(let a), .uint(let b)), (.uint(let b), .int(let a)): a >= 0 && UInt64(a) == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b): hasher.combine(0 as UInt8); hasher.combine(b)
        case .string(let s): hasher.combine(1 as UInt8); hasher.combine(s)
        case .int(let i):
            // Non-negative ints hash like the equal uint.
            if i >= 0 { hasher.combine(2 as UInt8); hasher.combine(UInt64(i)) } else { hasher.combine(3 as UInt8); hasher.combine(i) }
        case .uint(let u): hasher.combine(2 as UInt8); hasher.combine(u)
        }
    }
}

/// A CEL map: insertion-ordered entries with CEL key equality.
///
/// Storage is one reference-counted buffer (cheap to copy inside `CELValue`); small maps are searched
/// linearly, larger ones through a hash index. Copy-on-write keeps value semantics.
public struct CELMap: Sendable, Sequence {
    /// Above this many entries a hash index is kept.
    @usableFromInline static let indexThreshold = 8

    @usableFromInline final class Storage: @unchecked Sendable {
        // Mutated only while uniquely referenced (copy-on-write), so sharing across threads is safe.
        @exclusivity(unchecked) @usableFromInline var keys: [CELMapKey]
        @exclusivity(unchecked) @usableFromInline var values: [CELValue]
        @exclusivity(unchecked) @usableFromInline var index: [CELMapKey: Int]?

        init(keys: [CELMapKey], values: [CELValue], index: [CELMapKey: Int]?) {
            self.keys = keys
            self.values = values
            self.index = index
        }

        @usableFromInline func position(of key: CELMapKey) -> Int? {
            if let index { return index[key] }
            if case .string(let s) = key {
                // The common case (JSON objects): compare strings without going through the enum's `==`.
                let count = s.utf8.count
                for i in keys.indices {
                    if case .string(let t) = keys[i], t.utf8.count == count, StringSearch.equal(s, t) { return i }
                }
                return nil
            }
            for i in keys.indices where keys[i] == key { return i }
            return nil
        }
    }

    @usableFromInline var storage: Storage

    /// An empty map.
    public init() {
        storage = Storage(keys: [], values: [], index: nil)
    }

    /// A map from string-keyed values (JSON objects, activations), keys sorted.
    public init(_ dictionary: [String: CELValue]) {
        self.init()
        reserveCapacity(dictionary.count)
        for key in dictionary.keys.sorted() {
            if let v = dictionary[key] { set(v, for: .string(key)) }
        }
    }

    /// A map from entries; returns `nil` if a key repeats.
    public init?(entries: [(CELMapKey, CELValue)]) {
        self.init()
        reserveCapacity(entries.count)
        for (k, v) in entries {
            guard storage.position(of: k) == nil else { return nil }
            set(v, for: k)
        }
    }

    /// Reserves room for `n` entries.
    public mutating func reserveCapacity(_ n: Int) {
        makeUnique()
        storage.keys.reserveCapacity(n)
        storage.values.reserveCapacity(n)
    }

    /// The number of entries.
    @inlinable public var count: Int { storage.keys.count }
    /// Whether the map is empty.
    @inlinable public var isEmpty: Bool { storage.keys.isEmpty }
    /// The keys in insertion order.
    public var keys: [CELMapKey] { storage.keys }
    /// The values in insertion order.
    public var values: [CELValue] { storage.values }

    /// The value for a key.
    @inlinable public subscript(key: CELMapKey) -> CELValue? {
        guard let i = storage.position(of: key) else { return nil }
        return storage.values[i]
    }

    /// The value for a string key (field selection `m.f`).
    @inlinable public subscript(field: String) -> CELValue? { self[.string(field)] }

    /// The value of a field, trying the position where the same selection found it last time first
    /// (maps decoded from JSON have sorted keys, so similar objects share positions).
    func value(for ref: FieldRef) -> CELValue? {
        let s = storage
        let count = s.keys.count
        let hint = ref.hint.load(ordering: .relaxed)
        if hint >= 0, hint < count, ref.matches(s.keys[hint]) { return s.values[hint] }
        if let index = s.index {
            guard let i = index[ref.key] else { return nil }
            ref.hint.store(i, ordering: .relaxed)
            return s.values[i]
        }
        for i in 0..<count where i != hint && ref.matches(s.keys[i]) {
            ref.hint.store(i, ordering: .relaxed)
            return s.values[i]
        }
        return nil
    }

    /// Looks a value up by a CEL value key, with heterogeneous numeric key equality (`m[1.0]` finds `1`).
    public func lookup(_ key: CELValue) -> CELValue? {
        switch key {
        case .double(let d):
            if let i = Int64(exactly: d) { return self[.int(i)] }
            if let u = UInt64(exactly: d) { return self[.uint(u)] }
            return nil
        default:
            guard let k = CELMapKey(key) else { return nil }
            return self[k]
        }
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(keys: storage.keys, values: storage.values, index: storage.index)
        }
    }

    /// Appends an entry whose key is known to be new (keys of a Swift dictionary), skipping the search.
    mutating func appendNew(_ value: CELValue, for key: CELMapKey) {
        makeUnique()
        storage.keys.append(key)
        storage.values.append(value)
        let n = storage.keys.count
        if storage.index != nil {
            storage.index?[key] = n - 1
        } else if n > CELMap.indexThreshold {
            var index: [CELMapKey: Int] = Dictionary(minimumCapacity: n * 2)
            for (i, k) in storage.keys.enumerated() { index[k] = i }
            storage.index = index
        }
    }

    /// Sets a value, keeping the first insertion position of the key.
    public mutating func set(_ value: CELValue, for key: CELMapKey) {
        makeUnique()
        if let i = storage.position(of: key) {
            storage.values[i] = value
            return
        }
        storage.keys.append(key)
        storage.values.append(value)
        let n = storage.keys.count
        if storage.index != nil {
            storage.index?[key] = n - 1
        } else if n > CELMap.indexThreshold {
            var index: [CELMapKey: Int] = Dictionary(minimumCapacity: n * 2)
            for (i, k) in storage.keys.enumerated() { index[k] = i }
            storage.index = index
        }
    }

    /// Iterates `(key:, value:)` entries in insertion order.
    public struct Iterator: IteratorProtocol {
        let keys: [CELMapKey]
        let values: [CELValue]
        var index = 0
        public mutating func next() -> (key: CELMapKey, value: CELValue)? {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (key: keys[index], value: values[index])
        }
    }

    /// Iterates entries in insertion order.
    public func makeIterator() -> Iterator { Iterator(keys: storage.keys, values: storage.values) }
}

/// A field name selected at one place in a program, with a lock-free hint of the entry position.
final class FieldRef: Sendable {
    let name: String
    let key: CELMapKey
    let hint = Atomic<Int>(-1)
    let utf8Count: Int
    let isASCII: Bool

    init(_ name: String) {
        self.name = name
        self.key = .string(name)
        self.utf8Count = name.utf8.count
        self.isASCII = name.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Code-point equality with a key. For an ASCII name, equal UTF-8 length plus Swift's canonical `==`
    /// implies byte equality (canonical decompositions never expand to several ASCII characters), and
    /// Swift's `==` is a raw-bits or memcmp comparison for such strings.
    @inline(__always)
    func matches(_ key: CELMapKey) -> Bool {
        guard case .string(let t) = key, t.utf8.count == utf8Count else { return false }
        return isASCII ? t == name : StringSearch.equal(t, name)
    }
}

/// A point in time with nanosecond precision, in 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z
/// (langdef "Timestamps").
public struct CELTimestamp: Hashable, Sendable, Comparable {
    /// Nanoseconds since the Unix epoch.
    public let nanosecondsSinceEpoch: Int128

    /// The earliest valid second: 0001-01-01T00:00:00Z.
    public static let minSeconds: Int64 = -62_135_596_800
    /// The latest valid second: 9999-12-31T23:59:59Z.
    public static let maxSeconds: Int64 = 253_402_300_799

    /// Creates a timestamp, or `nil` outside the valid range.
    public init?(nanosecondsSinceEpoch: Int128) {
        let minimum = Int128(Self.minSeconds) * 1_000_000_000
        let maximum = Int128(Self.maxSeconds) * 1_000_000_000 + 999_999_999
        guard nanosecondsSinceEpoch >= minimum, nanosecondsSinceEpoch <= maximum else { return nil }
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// Creates a timestamp from seconds and nanoseconds since the epoch, or `nil` outside the range.
    public init?(seconds: Int64, nanos: Int32 = 0) {
        self.init(nanosecondsSinceEpoch: Int128(seconds) * 1_000_000_000 + Int128(nanos))
    }

    /// Whole seconds since the epoch (floor).
    public var seconds: Int64 {
        let (q, r) = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
        return Int64(truncatingIfNeeded: r < 0 ? q - 1 : q)
    }

    /// The nanosecond part, 0 ..< 1e9.
    public var nanos: Int32 {
        let r = nanosecondsSinceEpoch % 1_000_000_000
        return Int32(truncatingIfNeeded: r < 0 ? r + 1_000_000_000 : r)
    }

    /// The UTC calendar fields (proleptic Gregorian): what `getFullYear()` and friends read, and
    /// what Kyverno's `time.toCron` prints. `weekday` counts from Sunday = 0.
    public var utc: (year: Int64, month: Int64, day: Int64, weekday: Int64, secondOfDay: Int64) {
        let (q, r) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let days = r < 0 ? q - 1 : q
        let (year, month, day) = TimeSupport.civil(days: days)
        // 1970-01-01 was a Thursday (4).
        return (year, month, day, ((days % 7) + 11) % 7, r < 0 ? r + 86_400 : r)
    }

    public static func < (lhs: CELTimestamp, rhs: CELTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }
}

/// A signed span of time with nanosecond precision. The range is that of a signed 64-bit count of
/// nanoseconds (about ±292 years), as in cel-go and Kubernetes; the conformance suite expects
/// `timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')` to be a range error.
public struct CELDuration: Hashable, Sendable, Comparable {
    /// The span in nanoseconds.
    public let nanoseconds: Int128

    /// The largest magnitude in whole seconds.
    public static let maxSeconds: Int64 = Int64.max / 1_000_000_000

    /// Creates a duration, or `nil` outside the valid range.
    public init?(nanoseconds: Int128) {
        guard nanoseconds >= Int128(Int64.min), nanoseconds <= Int128(Int64.max) else { return nil }
        self.nanoseconds = nanoseconds
    }

    /// Creates a duration from seconds and nanoseconds, or `nil` outside the range.
    public init?(seconds: Int64, nanos: Int32 = 0) {
        self.init(nanoseconds: Int128(seconds) * 1_000_000_000 + Int128(nanos))
    }

    /// Whole seconds, truncated toward zero.
    public var seconds: Int64 { Int64(truncatingIfNeeded: nanoseconds / 1_000_000_000) }

    public static func < (lhs: CELDuration, rhs: CELDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
