import CLibSSH2
import Foundation
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// An SFTP subsystem on a session. Holds its session; shut down in `deinit`.
final class SFTPSession {
    let session: Session
    let raw: OpaquePointer

    init(session: Session) throws(TransportError) {
        self.session = session
        guard let raw = try session.retryPointer("starting SFTP", { libssh2_sftp_init(session.raw) }) else {
            throw session.failure("starting SFTP")
        }
        self.raw = raw
    }

    deinit { _ = libssh2_sftp_shutdown(raw) }

    /// The SFTP status code of the last failure (`LIBSSH2_FX_*`).
    var lastStatus: UInt { libssh2_sftp_last_error(raw) }

    func failure(_ operation: String, path: String) -> TransportError {
        let status = lastStatus
        // The connection itself dropped: that is the device going away, not a file problem.
        let (code, message) = session.lastError()
        if status == 0, [LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND].contains(code.rawValue) {
            return .connectionLost(host: session.host, reason: "\(operation) \(path): \(message)")
        }
        let reason: String
        switch UInt(status) {
        case UInt(LIBSSH2_FX_NO_SUCH_FILE): reason = "no such file"
        case UInt(LIBSSH2_FX_PERMISSION_DENIED): reason = "permission denied (use become for files root owns)"
        case UInt(LIBSSH2_FX_FILE_ALREADY_EXISTS): reason = "already exists"
        case UInt(LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM), UInt(LIBSSH2_FX_QUOTA_EXCEEDED): reason = "no space left on the device"
        case UInt(LIBSSH2_FX_NO_SUCH_PATH): reason = "no such folder"
        default: reason = status == 0 ? session.lastError().message : "SFTP status \(status)"
        }
        return .channelFailure(host: session.host, reason: "\(operation) \(path): \(reason)")
    }

    func open(_ path: String, flags: Int32, mode: Int) throws(TransportError) -> SFTPFile {
        let length = UInt32(path.utf8.count)
        guard let handle = try session.retryPointer("opening \(path)", { parc_sftp_open(raw, path, length, UInt(flags), mode) }) else {
            throw failure("opening", path: path)
        }
        return SFTPFile(sftp: self, raw: handle, path: path)
    }

    /// lstat; nil when the file does not exist.
    func stat(_ path: String) throws(TransportError) -> RemoteFileInfo? {
        var attrs = LIBSSH2_SFTP_ATTRIBUTES()
        let length = UInt32(path.utf8.count)
        let rc = try session.retry("stat \(path)") { libssh2_sftp_stat_ex(raw, path, length, LIBSSH2_SFTP_LSTAT, &attrs) }
        if rc != 0 {
            if rc == LIBSSH2_ERROR_SFTP_PROTOCOL && (Int32(lastStatus) == LIBSSH2_FX_NO_SUCH_FILE || Int32(lastStatus) == LIBSSH2_FX_NO_SUCH_PATH) { return nil }
            throw failure("stat", path: path)
        }
        let mode = UInt32(attrs.permissions)
        return RemoteFileInfo(size: attrs.filesize, permissions: mode & 0o7777, uid: UInt32(attrs.uid), gid: UInt32(attrs.gid),
                              isDirectory: mode & 0o170000 == 0o040000, isSymlink: mode & 0o170000 == 0o120000,
                              modified: attrs.flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0 ? Date(timeIntervalSince1970: TimeInterval(attrs.mtime)) : nil)
    }

    func unlink(_ path: String) throws(TransportError) {
        let length = UInt32(path.utf8.count)
        let rc = try session.retry("removing \(path)") { parc_sftp_unlink(raw, path, length) }
        if rc != 0 { throw failure("removing", path: path) }
    }

    /// The absolute path of `path` (e.g. "." → the home folder).
    func realpath(_ path: String) throws(TransportError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = UInt32(path.utf8.count)
        let rc = try session.retry("resolving \(path)") {
            libssh2_sftp_symlink_ex(raw, path, length, &buffer, UInt32(buffer.count), LIBSSH2_SFTP_REALPATH)
        }
        if rc < 0 { throw failure("resolving", path: path) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An open SFTP file. Holds its SFTP session; closed in `deinit` if `close()` was not called.
final class SFTPFile {
    let sftp: SFTPSession
    let raw: OpaquePointer
    let path: String
    private var closed = false

    init(sftp: SFTPSession, raw: OpaquePointer, path: String) {
        self.sftp = sftp
        self.raw = raw
        self.path = path
    }

    deinit { if !closed { _ = libssh2_sftp_close_handle(raw) } }

    var session: Session { sftp.session }

    func write(_ bytes: [UInt8]) throws(TransportError) {
        var offset = 0
        let end = ContinuousClock.now + session.operationTimeout
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    libssh2_sftp_write(raw, $0 + offset, min(bytes.count - offset, 256 * 1024))
                }
            }
            if n > 0 { offset += n; continue }
            if n == Int(LIBSSH2_ERROR_EAGAIN) {
                try session.waitSocket(until: end, operation: "writing \(path)", timeout: session.operationTimeout)
                continue
            }
            throw sftp.failure("writing", path: path)
        }
    }

    func readAll() throws(TransportError) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [CChar](repeating: 0, count: 256 * 1024)
        let end = ContinuousClock.now + session.operationTimeout
        while true {
            let n = libssh2_sftp_read(raw, &buffer, buffer.count)
            if n > 0 { out.append(contentsOf: buffer[0..<n].map { UInt8(bitPattern: $0) }); continue }
            if n == 0 { return out }
            if n == Int(LIBSSH2_ERROR_EAGAIN) {
                try session.waitSocket(until: end, operation: "reading \(path)", timeout: session.operationTimeout)
                continue
            }
            throw sftp.failure("reading", path: path)
        }
    }

    /// Sets the permission bits (the server's umask applied at creation).
    func setPermissions(_ mode: UInt32) throws(TransportError) {
        var attrs = LIBSSH2_SFTP_ATTRIBUTES()
        attrs.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attrs.permissions = UInt(mode)
        let rc = try session.retry("setting the mode of \(path)") { parc_sftp_fsetstat(raw, &attrs) }
        if rc != 0 { throw sftp.failure("setting the mode of", path: path) }
    }

    /// Asks the server to flush the file to disk (OpenSSH's fsync extension); ignored where unsupported.
    func sync() throws(TransportError) {
        _ = try session.retry("syncing \(path)") { libssh2_sftp_fsync(raw) }
    }

    func close() throws(TransportError) {
        guard !closed else { return }
        let rc = try session.retry("closing \(path)") { libssh2_sftp_close_handle(raw) }
        closed = true
        if rc != 0 { throw sftp.failure("closing", path: path) }
    }
}
