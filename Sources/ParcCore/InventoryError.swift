import Foundation

/// Why the inventory refused an operation. Every case says which record or field, and what to do;
/// nothing was written when one is thrown.
public enum InventoryError: Error, Equatable, Sendable {
    /// A field's value breaks a rule.
    case invalid(InvalidValue)
    /// No record answers to `key`.
    case notFound(entity: String, key: String, hint: Message)
    /// `key` names more than one record.
    case ambiguous(entity: String, key: String, candidates: [String], hint: Message)
    /// A unique field already holds this value in another record.
    case duplicate(entity: String, field: String, value: String, holder: String)
    /// The record is still used by others and cannot be removed.
    case inUse(entity: String, key: String, reason: Message, hint: Message)
    /// The database file cannot be opened or is not parc's.
    case database(path: String, reason: Message)
    /// The record changed since the version an edit was made from; nothing was written.
    case stale(entity: String, key: String, expected: Int64, current: Int64, hint: Message)
}

extension InventoryError: LocalizedError, CustomStringConvertible {
    public var errorDescription: String? { description }

    public var description: String { message.description }

    /// What went wrong, for a person, in the catalogue's languages.
    public var message: Message {
        switch self {
        case .invalid(let v):
            return v.value.isEmpty ? "\(FieldName(v.field)): \(v.problem)" : "\(FieldName(v.field)) '\(TextRules.visible(v.value, max: 80))': \(v.problem)"
        case .notFound(let entity, let key, let hint):
            return "no \(EntityName(entity)) '\(key)'; \(hint)"
        case .ambiguous(let entity, let key, let candidates, let hint):
            return "'\(key)' names several \(EntityName(entity + "s")) (\(candidates.joined(separator: ", "))); \(hint)"
        case .duplicate(let entity, let field, let value, let holder):
            return "\(FieldName(field)) '\(value)' is already used by \(holder); a \(EntityName(entity))'s \(FieldName(field)) must be unique (check for a typing mistake, or edit the existing record)"
        case .inUse(let entity, let key, let reason, let hint):
            return "cannot remove \(EntityName(entity)) '\(key)': \(reason); \(hint)"
        case .database(let path, let reason):
            return "database \(path): \(reason)"
        case .stale(let entity, let key, let expected, let current, let hint):
            return "\(EntityName(entity)) '\(key)' changed since version \(Int(expected)) (it is at version \(Int(current)) now); nothing was written: \(hint)"
        }
    }

    /// The field an error is about, when there is one (used by tests and importers).
    public var field: String? {
        switch self {
        case .invalid(let v): v.field
        case .duplicate(_, let field, _, _): field
        default: nil
        }
    }
}
