import CLibSSH2
import Foundation
import ParcCore

/// A connection to ssh-agent (`SSH_AUTH_SOCK`) for one session. Holds its session; freed in `deinit`.
final class Agent {
    let session: Session
    let raw: OpaquePointer

    /// `socket`: the agent's socket; nil: `SSH_AUTH_SOCK`'s.
    init(session: Session, socket: String? = nil) throws(TransportError) {
        self.session = session
        guard let raw = libssh2_agent_init(session.raw) else { throw session.failure("starting the agent client") }
        self.raw = raw
        if let socket { libssh2_agent_set_identity_path(raw, socket) }
    }

    deinit {
        _ = libssh2_agent_disconnect(raw)
        libssh2_agent_free(raw)
    }

    /// Authenticates `user` with the agent's identities. Returns nil on success, else why not.
    /// RSA identities are skipped: libssh2 1.10 signs them with SHA-1, which OpenSSH 8.8+ refuses.
    func authenticate(user: String) throws(TransportError) -> String? {
        guard libssh2_agent_connect(raw) == 0 else { return "ssh-agent not reachable (SSH_AUTH_SOCK)" }
        guard libssh2_agent_list_identities(raw) == 0 else { return "ssh-agent did not list its keys" }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        var skippedRSA = 0
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            let rc = libssh2_agent_get_identity(raw, &identity, previous)
            if rc != 0 { break }
            guard let identity else { break }
            previous = identity
            let blob = Array(UnsafeBufferPointer(start: identity.pointee.blob, count: Int(identity.pointee.blob_len)))
            if HostKey.algorithmInBlob(blob) == "ssh-rsa" { skippedRSA += 1; continue }
            tried += 1
            let result = try session.retry("agent authentication") { libssh2_agent_userauth(raw, user, identity) }
            if result == 0 { return nil }
        }
        if tried == 0 && skippedRSA > 0 {
            return "the agent holds only RSA keys, which this SSH library cannot use with current OpenSSH; add an ed25519 key (ssh-keygen -t ed25519, ssh-add)"
        }
        return tried == 0 ? "ssh-agent holds no keys" : "the device accepted none of the agent's \(tried) key(s)"
    }
}
