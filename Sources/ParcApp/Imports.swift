import Exchange
import Foundation
import InventoryStore
import ParcCore

/// Delivery notes and device lists, from a file on disk (the command line) or bytes sent by a
/// browser or the API: first what each row would do, then all rows or none.
public enum Imports {
    /// Each row with what it would create or update, or its problems; nothing is written.
    public static func preview(_ bytes: [UInt8], file: String, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportPreview {
        try DeviceImport.preview(try CSVTable(bytes: bytes, file: file), options: options, into: inventory)
    }

    /// Imports every row, or none when one is wrong (``ImportFailure`` lists them all).
    public static func apply(_ bytes: [UInt8], file: String, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportReport {
        try DeviceImport.run(try CSVTable(bytes: bytes, file: file), options: options, into: inventory)
    }

    /// The same from a file on disk.
    public static func apply(path: String, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportReport {
        try DeviceImport.run(path, options: options, into: inventory)
    }
}

extension Imports {
    /// What importing this file would do, row by row (nothing is written), off the cooperative pool.
    public static func preview(_ bytes: [UInt8], file: String, options: DeviceImportOptions, in workspace: Workspace) async throws -> ImportPreview {
        let inventory = workspace.inventory
        return try await offload { try preview(bytes, file: file, options: options, into: inventory) }
    }

    /// Imports the file (all rows or none) as the workspace's actor, off the cooperative pool.
    public static func apply(_ bytes: [UInt8], file: String, options: DeviceImportOptions, in workspace: Workspace) async throws -> ImportReport {
        let inventory = workspace.inventory
        return try await offload { try apply(bytes, file: file, options: options, into: inventory) }
    }
}
