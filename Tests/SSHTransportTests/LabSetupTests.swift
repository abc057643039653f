import Foundation
import Lab
import Testing

@Suite struct LabSetupTests {
    @Test func aLabUnderAFolderClosedToOtherUsersIsRefusedSayingWhatToDo() throws {
        let closed = FileManager.default.temporaryDirectory.appendingPathComponent("parc-closed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: closed, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: closed) }
        let dir = closed.appendingPathComponent("lab").path
        guard Lab.canIsolate else {
            // Not root: devices run as this user, who can read its own folder; nothing to refuse.
            let lab = try Lab.up(count: 1, in: dir)
            lab.down()
            return
        }
        #expect {
            let lab = try Lab.up(count: 1, in: dir)
            lab.down()
        } throws: { error in
            "\(error)".contains("chmod o+x \(closed.path)") && "\(error)".contains("mode 700")
        }
        #expect((try? Lab.load(dir)) == nil, "no device was started")
    }
}
