#ifndef PARC_CLIBSSH2_SHIM_H
#define PARC_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

// Swift cannot import function-like macros: these wrappers stand for the ones parc uses.

// OpenSSL (libssh2's crypto) frees its global locks in an exit handler; a libssh2 call still
// running on another thread at that moment (a session closing) would then crash. parc awaits its
// closes, and this keeps a straggler harmless: the process is ending anyway.
static inline int parc_crypto_keep_at_exit(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

static inline LIBSSH2_SESSION *parc_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline LIBSSH2_CHANNEL *parc_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int parc_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline LIBSSH2_SFTP_HANDLE *parc_sftp_open(LIBSSH2_SFTP *sftp, const char *path, unsigned int length,
                                                  unsigned long flags, long mode) {
    return libssh2_sftp_open_ex(sftp, path, length, flags, mode, LIBSSH2_SFTP_OPENFILE);
}

static inline int parc_sftp_fsetstat(LIBSSH2_SFTP_HANDLE *handle, LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_fstat_ex(handle, attrs, 1);
}

static inline int parc_sftp_stat(LIBSSH2_SFTP *sftp, const char *path, unsigned int length, LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_stat_ex(sftp, path, length, LIBSSH2_SFTP_STAT, attrs);
}

static inline int parc_sftp_unlink(LIBSSH2_SFTP *sftp, const char *path, unsigned int length) {
    return libssh2_sftp_unlink_ex(sftp, path, length);
}

static inline int parc_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

static inline int parc_userauth_password(LIBSSH2_SESSION *session, const char *user, unsigned int user_length,
                                         const char *password, unsigned int password_length) {
    return libssh2_userauth_password_ex(session, user, user_length, password, password_length, NULL);
}

static inline int parc_userauth_publickey_fromfile(LIBSSH2_SESSION *session, const char *user, unsigned int user_length,
                                                   const char *private_key, const char *passphrase) {
    return libssh2_userauth_publickey_fromfile_ex(session, user, user_length, NULL, private_key, passphrase);
}

static inline ssize_t parc_channel_read(LIBSSH2_CHANNEL *channel, int stream, char *buffer, size_t length) {
    return libssh2_channel_read_ex(channel, stream, buffer, length);
}

static inline ssize_t parc_channel_write(LIBSSH2_CHANNEL *channel, const char *buffer, size_t length) {
    return libssh2_channel_write_ex(channel, 0, buffer, length);
}

static inline int parc_set_quickack(int fd) {
#ifdef TCP_QUICKACK
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
    (void)fd;
    return 0;
#endif
}

static inline int parc_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#endif
