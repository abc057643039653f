import Exchange
import Foundation
import InventoryStore
import ParcCore

/// One thing a person asks of the inventory (add a member, move a device, import a delivery
/// note…): its inputs as a value, its answer as a value. The same value is performed on a local
/// inventory file or sent to a central server (`POST /api/v1/operations/NAME`), which performs it
/// the same way under the account's name: the command line prints the same answer either way.
public protocol InventoryOperation: Codable, Sendable {
    associatedtype Output: Codable & Sendable
    /// `member.add`, `device.move`…: the operation's name on the wire and in the OpenAPI document.
    static var name: String { get }
    /// What it does, for the OpenAPI document.
    static var summary: String { get }
    /// Only administrators may ask it of a server (technicians may ask every other).
    static var adminOnly: Bool { get }
    /// Performs it in `workspace`: its inventory (whose actor the audit log names), its keys for
    /// devices, its relays.
    func perform(in workspace: Workspace) async throws -> Output
}

extension InventoryOperation {
    public static var adminOnly: Bool { false }
}

/// The answer of an operation that only says it was done.
public struct Done: Codable, Sendable, Equatable {
    public init() {}
}

/// parc as the command line and the web see it: operations performed on the local inventory file
/// (``LocalParc``) or on a central server's (``ParcServer``).
public protocol ParcService: Sendable {
    func perform<O: InventoryOperation>(_ operation: O) async throws -> O.Output
}

/// The inventory file on this machine, and SSH from it.
public struct LocalParc: ParcService {
    public let workspace: Workspace
    public init(_ workspace: Workspace) { self.workspace = workspace }

    public func perform<O: InventoryOperation>(_ operation: O) async throws -> O.Output {
        try await operation.perform(in: workspace)
    }
}

/// Every operation a server performs for the command line, in the order the OpenAPI document lists them.
public enum Operations {
    public static let all: [any InventoryOperation.Type] = [
        MemberOps.Add.self, MemberOps.List.self, MemberOps.Show.self, MemberOps.Edit.self, MemberOps.Remove.self,
        SchoolOps.Add.self, SchoolOps.List.self, SchoolOps.Show.self, SchoolOps.Edit.self, SchoolOps.Remove.self,
        RoomOps.Add.self, RoomOps.List.self, RoomOps.Show.self, RoomOps.Edit.self, RoomOps.Remove.self,
        LotOps.Add.self, LotOps.List.self, LotOps.Show.self, LotOps.Edit.self, LotOps.Remove.self,
        OrderOps.Add.self, OrderOps.List.self, OrderOps.Show.self, OrderOps.Edit.self, OrderOps.Remove.self,
        FundingOps.Add.self, FundingOps.List.self, FundingOps.Edit.self, FundingOps.Remove.self,
        DeviceOps.Add.self, DeviceOps.List.self, DeviceOps.Show.self, DeviceOps.Edit.self, DeviceOps.Move.self,
        DeviceOps.SetStatus.self, DeviceOps.Remove.self, DeviceOps.Find.self, DeviceOps.History.self,
        CartOps.Fill.self, CartOps.List.self, CartOps.Contents.self, CartOps.Lend.self, CartOps.Return.self, CartOps.Loans.self,
        GroupOps.Computed.self, GroupOps.Add.self, GroupOps.Remove.self, GroupOps.SetMembers.self, GroupOps.SetVars.self, GroupOps.List.self,
        DocumentOps.ImportDevices.self, DocumentOps.ImportOrganisation.self,
        DocumentOps.AnsibleInventory.self, DocumentOps.Report.self, DocumentOps.Renewal.self, DocumentOps.LabelRows.self,
        RunOps.List.self, RunOps.Show.self, RunOps.Pending.self,
        ReachOps.Ping.self, WakeOps.Wake.self, FactsOps.Gather.self, FactsOps.Reconcile.self, GLPIOps.Export.self,
        AccountOps.Log.self, AccountOps.Add.self, AccountOps.List.self, AccountOps.Show.self, AccountOps.SetPassword.self, AccountOps.SetDisabled.self, AccountOps.Remove.self,
        TokenOps.Add.self, TokenOps.List.self, TokenOps.Revoke.self,
        ProblemOps.List.self, ProblemOps.Show.self, ProblemOps.Report.self, ProblemOps.Accept.self, ProblemOps.Note.self, ProblemOps.Close.self,
        AttachmentOps.Add.self, AttachmentOps.List.self,
        LabOps.Register.self, LabOps.Unregister.self,
        OnboardOps.Known.self, OnboardOps.Match.self, OnboardOps.Name.self, OnboardOps.Record.self,
    ]

    /// Performs the operation `type` whose inputs are the JSON `body`, answering its output as JSON.
    /// Throws ``BadOperation`` when the body is not this operation's inputs.
    public static func perform(_ type: any InventoryOperation.Type, body: Data, in workspace: Workspace) async throws -> Data {
        try await performOpened(type, body, workspace)
    }

    private static func performOpened<O: InventoryOperation>(_ type: O.Type, _ body: Data, _ workspace: Workspace) async throws -> Data {
        let operation: O
        do {
            operation = try JSONDecoder().decode(O.self, from: body)
        } catch {
            throw BadOperation(detail: "the body is not the inputs of \(O.name): \(error)")
        }
        return try JSONEncoder().encode(try await operation.perform(in: workspace))
    }

    /// Whether `error` is a refusal the person can act on (its message is the answer), rather than a
    /// failure of the server (whose details stay in its log).
    public static func isRefusal(_ error: any Error) -> Bool {
        switch error {
        case let e as InventoryError:
            if case .database = e { return false }
            return true
        case is InvalidValue, is AppError, is ImportFailure, is DeviceBusy, is InventoryFileError: return true
        default: return false
        }
    }

    public struct BadOperation: Error, CustomStringConvertible, Sendable {
        public var detail: String
        public var description: String { detail }
    }
}

/// A CSV file for an import: its name (as messages give it) and its bytes.
public struct ImportSource: Codable, Sendable {
    public var file: String
    public var bytes: Data

    public init(file: String, bytes: Data) {
        self.file = file
        self.bytes = bytes
    }

    /// Reads `path` on this machine; a file that cannot be read is refused as the importer says it.
    public static func read(_ path: String) throws -> ImportSource {
        let file = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            _ = try CSVTable(path: path)  // says why, as the importer does
            throw AppError("cannot read \(path)")
        }
        return ImportSource(file: file, bytes: data)
    }

    var table: CSVTable { get throws { try CSVTable(bytes: [UInt8](bytes), file: file) } }
}

/// Applies an edit to an optional field: `nil` keeps it, an empty (or blank) string clears it.
func edit<T>(_ option: String?, _ field: inout T?, _ parse: (String) throws -> T) rethrows {
    guard let option else { return }
    let t = option.trimmingCharacters(in: .whitespaces)
    field = t.isEmpty ? nil : try parse(t)
}
